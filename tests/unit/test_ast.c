/* test_ast.c - the compact limit node (ast.h): every field read back through
 * the ast_limit_*() accessors must be exactly what was written, with the
 * span of its token, whether the limit fits the compact form or has to go
 * out of line (numbers beyond 32 bits, or 16 for cost and the window's count,
 * a window whose milliseconds overflow, fields more than 64 KiB from the
 * start of the limit or longer than 255 bytes, an algorithm of another
 * name). */
#include "unit.h"

#include "ast.h"
#include "plan_kind.h"
#include "program.h"

typedef struct parsed {
    program p;
    const char *text;
    const ast_node *lim;
} parsed;

/* Parses "tier t {\n<limit>\n}\n" and finds its limit node. */
static void parse_limit(parsed *P, const char *limit)
{
    memset(P, 0, sizeof *P);
    program_init(&P->p);
    size_t n = strlen(limit) + 32;
    char *text = malloc(n);
    assert_non_null(text);
    snprintf(text, n, "tier t {\n%s\n}\n", limit);
    program_load_text(&P->p, "t.rlp", text, strlen(text));
    P->text = P->p.map.files[P->p.files[0]->file].text;
    const ast_node *tier = P->p.files[0]->items;
    assert_non_null(tier);
    assert_int_equal(tier->kind, AST_TIER);
    P->lim = tier->children;
    assert_non_null(P->lim);
    assert_int_equal(P->lim->kind, AST_LIMIT);
}

/* The span of the nth occurrence (from 1) of word in the text. */
static span word_at(const parsed *P, const char *word, int nth)
{
    const char *at = P->text;
    for (int i = 0; i < nth; i++) {
        at = strstr(i ? at + 1 : at, word);
        assert_non_null(at);
    }
    uint32_t start = (uint32_t)(at - P->text);
    span s = {P->lim->sp.file, start, start + (uint32_t)strlen(word)};
    return s;
}

static void assert_span(span got, span want)
{
    assert_int_equal(got.file, want.file);
    assert_int_equal(got.start, want.start);
    assert_int_equal(got.end, want.end);
}

static void test_all_fields(void **state)
{
    (void)state;
    parsed P;
    parse_limit(&P, "  limit 5/2m burst 3 cost 2 algorithm gcra shadow");
    assert_false(P.lim->lim.is_far);
    ast_int c = ast_limit_count(P.lim);
    assert_int_equal(c.v, 5);
    assert_true(c.set);
    assert_span(c.sp, word_at(&P, "5", 1));
    ast_dur w = ast_limit_window(P.lim);
    assert_int_equal(w.ms, 120000);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.unit, "m");
    assert_true(w.set);
    assert_span(w.sp, word_at(&P, "2m", 1));
    span rate = {P.lim->sp.file, word_at(&P, "5", 1).start, word_at(&P, "2m", 1).end};
    assert_span(ast_limit_rate_sp(P.lim), rate);
    assert_int_equal(ast_limit_burst(P.lim).v, 3);
    assert_span(ast_limit_burst(P.lim).sp, word_at(&P, "3", 1));
    assert_int_equal(ast_limit_cost(P.lim).v, 2);
    assert_span(ast_limit_cost(P.lim).sp, word_at(&P, "2", 2));
    assert_string_equal(ast_limit_algo(P.lim).s, "gcra");
    assert_span(ast_limit_algo(P.lim).sp, word_at(&P, "gcra", 1));
    assert_true(P.lim->lim.shadow);
    assert_span(ast_limit_shadow_sp(P.lim), word_at(&P, "shadow", 1));
    program_free(&P.p);
}

static void test_absent_fields_zeroed(void **state)
{
    (void)state;
    parsed P;
    parse_limit(&P, "limit 100/s");
    ast_int b = ast_limit_burst(P.lim), c = ast_limit_cost(P.lim);
    assert_false(b.set);
    assert_false(c.set);
    assert_int_equal(b.v, 0);
    assert_int_equal(b.sp.file, 0);
    assert_int_equal(b.sp.end, 0);
    assert_null(ast_limit_algo(P.lim).s);
    assert_int_equal(ast_limit_shadow_sp(P.lim).end, 0);
    /* A bare unit is one of it. */
    ast_dur w = ast_limit_window(P.lim);
    assert_int_equal(w.ms, 1000);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.unit, "s");
    program_free(&P.p);
}

static void test_big_numbers_go_far(void **state)
{
    (void)state;
    parsed P;
    parse_limit(&P, "limit 3000000000/h burst 4000000000 cost -5000000000");
    assert_true(P.lim->lim.is_far);
    assert_int_equal(ast_limit_count(P.lim).v, 3000000000LL);
    assert_int_equal(ast_limit_window(P.lim).ms, 3600000);
    assert_int_equal(ast_limit_burst(P.lim).v, 4000000000LL);
    assert_int_equal(ast_limit_cost(P.lim).v, -5000000000LL);
    assert_span(ast_limit_burst(P.lim).sp, word_at(&P, "4000000000", 1));
    assert_span(ast_limit_cost(P.lim).sp, word_at(&P, "-5000000000", 1));
    program_free(&P.p);

    /* Only the burst is too big: the count read before it stays right. */
    parse_limit(&P, "limit 7/d burst 2147483648");
    assert_true(P.lim->lim.is_far);
    assert_int_equal(ast_limit_count(P.lim).v, 7);
    assert_int_equal(ast_limit_window(P.lim).ms, 86400000);
    assert_int_equal(ast_limit_window(P.lim).n, 1);
    assert_int_equal(ast_limit_burst(P.lim).v, 2147483648LL);
    assert_span(ast_limit_count(P.lim).sp, word_at(&P, "7", 1));
    program_free(&P.p);

    /* The largest that fit stay compact. */
    parse_limit(&P, "limit 2147483647/32767ms burst -2147483648 cost 32767");
    assert_false(P.lim->lim.is_far);
    assert_int_equal(ast_limit_count(P.lim).v, 2147483647);
    assert_int_equal(ast_limit_window(P.lim).ms, 32767);
    assert_int_equal(ast_limit_burst(P.lim).v, -2147483648LL);
    assert_int_equal(ast_limit_cost(P.lim).v, 32767);
    program_free(&P.p);

    /* Cost and the window's count have 16 bits. */
    parse_limit(&P, "limit 5/32768ms");
    assert_true(P.lim->lim.is_far);
    assert_int_equal(ast_limit_window(P.lim).ms, 32768);
    assert_int_equal(ast_limit_window(P.lim).n, 32768);
    program_free(&P.p);
    parse_limit(&P, "limit 5/s cost -32769");
    assert_true(P.lim->lim.is_far);
    assert_int_equal(ast_limit_cost(P.lim).v, -32769);
    assert_int_equal(ast_limit_window(P.lim).ms, 1000);
    assert_span(ast_limit_cost(P.lim).sp, word_at(&P, "-32769", 1));
    program_free(&P.p);
}

static void test_overflowing_window_kept_as_lexed(void **state)
{
    (void)state;
    parsed P;
    /* The milliseconds overflow: the lexer reports it and leaves ms 0 with
     * n as written, which the compact form could not rebuild. */
    parse_limit(&P, "limit 5/999999999999999d");
    assert_true(P.lim->lim.is_far);
    ast_dur w = ast_limit_window(P.lim);
    assert_int_equal(w.ms, 0);
    assert_int_equal(w.n, 999999999999999LL);
    assert_string_equal(w.unit, "d");
    assert_span(w.sp, word_at(&P, "999999999999999d", 1));
    program_free(&P.p);
}

static void test_far_offsets(void **state)
{
    (void)state;
    /* 70 000 bytes of comment between the rate and the burst. */
    size_t pad = 70000;
    const char *head = "limit 9/s # ", *tail = "\n  burst 4 algorithm gcra";
    char *src = malloc(strlen(head) + pad + strlen(tail) + 1);
    assert_non_null(src);
    strcpy(src, head);
    memset(src + strlen(head), 'x', pad);
    strcpy(src + strlen(head) + pad, tail);
    parsed P;
    parse_limit(&P, src);
    free(src);
    assert_true(P.lim->lim.is_far);
    assert_int_equal(ast_limit_count(P.lim).v, 9);
    assert_span(ast_limit_count(P.lim).sp, word_at(&P, "9", 1));
    assert_int_equal(ast_limit_window(P.lim).ms, 1000);
    assert_int_equal(ast_limit_burst(P.lim).v, 4);
    assert_span(ast_limit_burst(P.lim).sp, word_at(&P, "4", 1));
    assert_span(ast_limit_algo(P.lim).sp, word_at(&P, "gcra", 1));
    assert_int_equal(P.lim->sp.end, word_at(&P, "gcra", 1).end);
    program_free(&P.p);

    /* A field longer than 255 bytes (an over-long identifier, reported by
     * the lexer) is located out of line too. */
    char lim[400] = "limit 9/s algorithm ";
    size_t at = strlen(lim);
    memset(lim + at, 'a', 300);
    lim[at + 300] = '\0';
    parse_limit(&P, lim);
    assert_true(P.lim->lim.is_far);
    ast_name alg = ast_limit_algo(P.lim);
    assert_int_equal(strlen(alg.s), 300);
    assert_int_equal(alg.sp.end - alg.sp.start, 300);
    assert_int_equal(alg.sp.start, word_at(&P, "aaaa", 1).start);
    program_free(&P.p);
}

/* Every rate algorithm and every unit is held in the compact form, and
 * the node takes 56 bytes; a name the language does not know is kept out
 * of line, whole, for its diagnostic.  The compact form's names are the
 * compiler's. */
static void test_algorithms_and_units(void **state)
{
    (void)state;
    assert_int_equal(offsetof(ast_node, lim) + sizeof(ast_limit), 56);
    assert_int_equal(AST_NALGOS, PLAN_NALGOS);
    for (int i = 0; i < PLAN_NALGOS; i++)
        assert_string_equal(ast_algo_names[i], plan_algo_names()[i]);
    const char *units[] = {"ms", "s", "m", "h", "d"};
    const int64_t ms[] = {1, 1000, 60000, 3600000, 86400000};
    for (int i = 0; i < PLAN_NALGOS; i++) {
        char lim[128];
        snprintf(lim, sizeof lim, "limit 7/3%s algorithm %s", units[i], plan_algo_names()[i]);
        parsed P;
        parse_limit(&P, lim);
        assert_false(P.lim->lim.is_far);
        assert_string_equal(ast_limit_algo(P.lim).s, plan_algo_names()[i]);
        assert_span(ast_limit_algo(P.lim).sp, word_at(&P, plan_algo_names()[i], 1));
        ast_dur w = ast_limit_window(P.lim);
        assert_string_equal(w.unit, units[i]);
        assert_int_equal(w.n, 3);
        assert_int_equal(w.ms, 3 * ms[i]);
        program_free(&P.p);
    }
    parsed P;
    parse_limit(&P, "limit 7/s burst 2 algorithm token_buckets cost 3");
    assert_true(P.lim->lim.is_far);
    assert_string_equal(ast_limit_algo(P.lim).s, "token_buckets");
    assert_span(ast_limit_algo(P.lim).sp, word_at(&P, "token_buckets", 1));
    assert_int_equal(ast_limit_count(P.lim).v, 7);
    assert_int_equal(ast_limit_burst(P.lim).v, 2);
    assert_int_equal(ast_limit_cost(P.lim).v, 3);
    assert_int_equal(ast_limit_window(P.lim).ms, 1000);
    assert_string_equal(ast_limit_window(P.lim).unit, "s");
    program_free(&P.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_fields),
        cmocka_unit_test(test_absent_fields_zeroed),
        cmocka_unit_test(test_big_numbers_go_far),
        cmocka_unit_test(test_overflowing_window_kept_as_lexed),
        cmocka_unit_test(test_far_offsets),
        cmocka_unit_test(test_algorithms_and_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
