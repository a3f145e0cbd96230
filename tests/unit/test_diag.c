/* test_diag.c - the diagnostic list and the code table: severities come
 * from the table, the error cap and its dropped count, notes, the stable
 * sort by file and offset, code formatting and parsing, and the table's
 * own consistency (unique codes, valid severities, names and summaries). */
#include "unit.h"

#include <ctype.h>

#include "diag.h"

static void test_severity_from_table(void **state)
{
    (void)state;
    arena *a = arena_new();
    diag_list l;
    diag_list_init(&l, a);
    size_t n;
    const diag_info *t = diag_table(&n);
    for (size_t i = 0; i < n; i++) {
        diag_list_init(&l, a);
        diag *d = diag_add(&l, t[i].code, span_make(0, (uint32_t)i, (uint32_t)i + 1),
                           "message %zu", i);
        assert_non_null(d);
        assert_int_equal(d->code, t[i].code);
        assert_int_equal(d->sev, t[i].sev);
        assert_int_equal(d->sp.start, i);
        char want[32];
        snprintf(want, sizeof want, "message %zu", i);
        assert_string_equal(d->msg, want);
        assert_int_equal(l.nerrors, t[i].sev == SEV_ERROR);
        assert_int_equal(l.nwarnings, t[i].sev == SEV_WARNING);
        assert_int_equal(l.nnotes, t[i].sev == SEV_NOTE);
    }
    /* A code missing from the table is an error. */
    diag_list_init(&l, a);
    diag *d = diag_add(&l, 9999, span_none, "x");
    assert_non_null(d);
    assert_int_equal(d->sev, SEV_ERROR);
    assert_int_equal(l.nerrors, 1);
    arena_free(a);
}

static void test_error_cap(void **state)
{
    (void)state;
    arena *a = arena_new();
    diag_list l;
    diag_list_init(&l, a);
    assert_int_equal(l.max_errors, DIAG_MAX_ERRORS);
    assert_int_equal(DIAG_MAX_ERRORS, 20);
    for (int i = 0; i < 19; i++)
        assert_non_null(diag_add(&l, DIAG_SYNTAX, span_none, "e%d", i));
    assert_false(diag_full(&l));
    assert_non_null(diag_add(&l, DIAG_SYNTAX, span_none, "e19"));
    assert_true(diag_full(&l));
    for (int i = 0; i < 7; i++)
        assert_null(diag_add(&l, DIAG_BAD_CHAR, span_none, "dropped %d", i));
    assert_int_equal(l.nerrors, 20);
    assert_int_equal(l.dropped, 7);
    size_t kept = 0;
    for (const diag *d = l.head; d; d = d->next)
        kept++;
    assert_int_equal(kept, 20);
    assert_string_equal(l.tail->msg, "e19");
    /* A note on a dropped diagnostic is dropped too, without a crash. */
    diag_note_add(&l, NULL, span_none, "ignored");
    /* The cap is per list and can be changed. */
    diag_list_init(&l, a);
    l.max_errors = 2;
    diag_add(&l, DIAG_SYNTAX, span_none, "1");
    diag_add(&l, DIAG_SYNTAX, span_none, "2");
    assert_null(diag_add(&l, DIAG_SYNTAX, span_none, "3"));
    assert_int_equal(l.dropped, 1);
    arena_free(a);
}

static void test_notes(void **state)
{
    (void)state;
    arena *a = arena_new();
    diag_list l;
    diag_list_init(&l, a);
    diag *d = diag_add(&l, DIAG_DUP_TENANT, span_make(0, 50, 55), "tenant \"%s\" twice", "x");
    assert_null(d->notes);
    diag_note_add(&l, d, span_make(0, 10, 15), "first defined %s", "here");
    diag_note_add(&l, d, span_make(1, 3, 4), "and %d more", 2);
    diag_note_add(&l, d, span_none, "no location");
    const diag_note *n = d->notes;
    assert_non_null(n);
    assert_string_equal(n->msg, "first defined here");
    assert_int_equal(n->sp.start, 10);
    n = n->next;
    assert_string_equal(n->msg, "and 2 more");
    assert_int_equal(n->sp.file, 1);
    n = n->next;
    assert_string_equal(n->msg, "no location");
    assert_int_equal(n->sp.file, SRC_NONE);
    assert_null(n->next);
    assert_ptr_equal(d->notes_tail, n);
    /* Notes are not diagnostics: counts are unchanged. */
    assert_int_equal(l.nerrors, 1);
    assert_int_equal(l.nnotes, 0);
    arena_free(a);
}

static void test_long_message(void **state)
{
    (void)state;
    arena *a = arena_new();
    diag_list l;
    diag_list_init(&l, a);
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    diag *d = diag_add(&l, DIAG_SYNTAX, span_none, "<%s>", big);
    assert_int_equal(strlen(d->msg), sizeof big + 1);
    assert_int_equal(d->msg[0], '<');
    assert_int_equal(d->msg[sizeof big], '>');
    arena_free(a);
}

static void test_sort_stable(void **state)
{
    (void)state;
    arena *a = arena_new();
    diag_list l;
    diag_list_init(&l, a);
    /* file, start, and the order in which equal positions were added */
    static const struct {
        uint32_t file, start;
        const char *tag;
    } in[] = {
        {1, 5, "f1@5"},      {0, 9, "f0@9"},   {SRC_NONE, 0, "none-a"},
        {0, 2, "f0@2-a"},    {1, 0, "f1@0"},   {0, 2, "f0@2-b"},
        {SRC_NONE, 0, "none-b"}, {0, 2, "f0@2-c"}, {0, 0, "f0@0"},
    };
    static const char *const want[] = {"f0@0", "f0@2-a", "f0@2-b", "f0@2-c", "f0@9",
                                       "f1@0", "f1@5", "none-a", "none-b"};
    size_t n = sizeof in / sizeof in[0];
    for (size_t i = 0; i < n; i++)
        diag_add(&l, DIAG_SYNTAX, span_make(in[i].file, in[i].start, in[i].start + 1), "%s",
                 in[i].tag);
    diag_sort(&l);
    size_t k = 0;
    const diag *last = NULL;
    for (const diag *d = l.head; d; d = d->next, k++) {
        assert_true(k < n);
        assert_string_equal(d->msg, want[k]);
        last = d;
    }
    assert_int_equal(k, n);
    assert_ptr_equal(l.tail, last);
    assert_null(l.tail->next);
    /* Appending after a sort still works. */
    diag_add(&l, DIAG_SYNTAX, span_none, "appended");
    assert_string_equal(l.tail->msg, "appended");
    assert_ptr_equal(last->next, l.tail);
    arena_free(a);
}

static void test_sort_many(void **state)
{
    (void)state;
    arena *a = arena_new();
    diag_list l;
    diag_list_init(&l, a);
    l.max_errors = 100000;
    /* 1000 diagnostics over 10 positions: sorted, and equal positions in
     * insertion order (the message numbers increase). */
    for (int i = 0; i < 1000; i++) {
        uint32_t pos = (uint32_t)((i * 7) % 10);
        diag_add(&l, DIAG_SYNTAX, span_make(0, pos, pos), "%d", i);
    }
    diag_sort(&l);
    const diag *prev = NULL;
    size_t k = 0;
    for (const diag *d = l.head; d; d = d->next, k++) {
        if (prev) {
            assert_true(prev->sp.start <= d->sp.start);
            if (prev->sp.start == d->sp.start)
                assert_true(atoi(prev->msg) < atoi(d->msg));
        }
        prev = d;
    }
    assert_int_equal(k, 1000);
    /* Zero and one element. */
    diag_list_init(&l, a);
    diag_sort(&l);
    assert_null(l.head);
    diag_add(&l, DIAG_SYNTAX, span_none, "only");
    diag_sort(&l);
    assert_ptr_equal(l.head, l.tail);
    arena_free(a);
}

static void test_code_str(void **state)
{
    (void)state;
    char s[16];
    diag_code_str(10, s);
    assert_string_equal(s, "RLC0010");
    diag_code_str(1, s);
    assert_string_equal(s, "RLC0001");
    diag_code_str(1034, s);
    assert_string_equal(s, "RLC1034");
    diag_code_str(9999, s);
    assert_string_equal(s, "RLC9999");
}

static void test_code_parse(void **state)
{
    (void)state;
    assert_int_equal(diag_code_parse("RLC0010"), 10);
    assert_int_equal(diag_code_parse("rlc0010"), 10);
    assert_int_equal(diag_code_parse("RLC1034"), 1034);
    assert_int_equal(diag_code_parse("10"), 10);
    assert_int_equal(diag_code_parse("0001"), 1);
    static const char *const bad[] = {"", "RLC", "RLC00100", "12345", "RLC-1", "RLC10a",
                                      "abc", "RLX0010", " 10", "RLC 10", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (diag_code_parse(bad[i]) != -1)
            fail_msg("'%s' parsed as %d", bad[i], diag_code_parse(bad[i]));
    /* Round trip for every code in the table. */
    size_t n;
    const diag_info *t = diag_table(&n);
    for (size_t i = 0; i < n; i++) {
        char s[16];
        diag_code_str(t[i].code, s);
        assert_int_equal(diag_code_parse(s), t[i].code);
        assert_ptr_equal(diag_lookup(t[i].code), &t[i]);
    }
    assert_null(diag_lookup(0));
    assert_null(diag_lookup(-1));
}

static void test_table_consistent(void **state)
{
    (void)state;
    size_t n;
    const diag_info *t = diag_table(&n);
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        if (t[i].code < 1 || t[i].code > 9999)
            fail_msg("code %d out of RLC0001..RLC9999", t[i].code);
        if (t[i].sev != SEV_ERROR && t[i].sev != SEV_WARNING && t[i].sev != SEV_NOTE)
            fail_msg("code %d has severity %d", t[i].code, (int)t[i].sev);
        assert_non_null(t[i].name);
        assert_true(t[i].name[0] != '\0');
        for (const char *c = t[i].name; *c; c++)
            if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
                fail_msg("code %d name '%s' is not UPPER_SNAKE", t[i].code, t[i].name);
        assert_non_null(t[i].summary);
        assert_true(strlen(t[i].summary) > 5);
        /* Summaries are a clause, shown after a colon: no trailing period. */
        assert_int_not_equal(t[i].summary[strlen(t[i].summary) - 1], '.');
        for (size_t j = 0; j < i; j++) {
            if (t[j].code == t[i].code)
                fail_msg("code %d appears twice", t[i].code);
            if (!strcmp(t[j].name, t[i].name))
                fail_msg("name %s appears twice", t[i].name);
        }
    }
    assert_string_equal(severity_name(SEV_ERROR), "error");
    assert_string_equal(severity_name(SEV_WARNING), "warning");
    assert_string_equal(severity_name(SEV_NOTE), "note");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_severity_from_table),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_notes),
        cmocka_unit_test(test_long_message),
        cmocka_unit_test(test_sort_stable),
        cmocka_unit_test(test_sort_many),
        cmocka_unit_test(test_code_str),
        cmocka_unit_test(test_code_parse),
        cmocka_unit_test(test_table_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
