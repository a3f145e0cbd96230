/* test_audit.c - the audit chain (each kind of tampering is detected), the
 * head written over in place (one sector), the journal (begin, phases,
 * torn tail, finish) and the fault hook's fail mode.  No server needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "fault.h"
#include "file_write.h"
#include "journal.h"
#include "statedir.h"

static char dir[STATEDIR_PATH_MAX];

static int setup(void **st)
{
    (void)st;
    char tmpl[] = "/tmp/rlc-audit-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    rerr e = {0};
    assert_true(statedir_open(tmpl, dir, &e));
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[STATEDIR_PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void append_n(int n)
{
    for (int i = 0; i < n; i++) {
        char run[32];
        snprintf(run, sizeof run, "run-%d", i);
        audit_rec r = {.action = "run", .run_id = run, .plan_digest = "abc", .policy = "p",
                       .result = i == 2 ? "rolled_back" : "committed",
                       .err_code = i == 2 ? DIAG_STORE_TIMEOUT : 0,
                       .err_msg = i == 2 ? "node timed out" : NULL};
        rerr e = {0};
        audit_head h;
        assert_true(audit_append(dir, &r, &h, NULL, &e));
        assert_true(h.seq > 0);
    }
}

/* Lines of the log, for rewriting it. */
static int read_lines(char lines[][4096], int max)
{
    char path[STATEDIR_PATH_MAX];
    statedir_path(dir, "audit.jsonl", path);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (n < max && fgets(lines[n], 4096, f))
        n++;
    fclose(f);
    return n;
}

static void write_lines(char lines[][4096], const int *order, int n)
{
    char path[STATEDIR_PATH_MAX];
    statedir_path(dir, "audit.jsonl", path);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < n; i++)
        fputs(lines[order[i]], f);
    fclose(f);
}

static int verify_code(void)
{
    rerr e = {0};
    unsigned long n;
    audit_head h;
    bool ok = audit_verify(dir, NULL, &n, &h, &e);
    if (!ok)
        printf("# %s\n", e.msg);
    return ok ? 0 : e.code;
}

static char L[8][4096];

static void intact_chain(void **st)
{
    (void)st;
    assert_int_equal(verify_code(), 0);   /* empty log */
    append_n(5);
    assert_int_equal(verify_code(), 0);
    rerr e = {0};
    json_t *a = audit_load(dir, &e);
    assert_int_equal(json_array_size(a), 5);
    json_t *r3 = json_array_get(a, 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r3, "error"), "code")),
                        "RLC3153");
    assert_string_equal(json_string_value(json_object_get(r3, "prev")),
                        json_string_value(json_object_get(json_array_get(a, 1), "hash")));
    assert_non_null(json_object_get(json_object_get(r3, "actor"), "user"));
    json_decref(a);
    char path[STATEDIR_PATH_MAX];
    struct stat sb;
    statedir_path(dir, "audit.jsonl", path);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void modified_record(void **st)
{
    (void)st;
    append_n(4);
    int n = read_lines(L, 8);
    char *p = strstr(L[1], "committed");
    assert_non_null(p);
    memcpy(p, "COMMITTED", 9);
    int order[] = {0, 1, 2, 3};
    write_lines(L, order, n);
    assert_int_equal(verify_code(), DIAG_AUDIT_CHAIN);
}

static void removed_record(void **st)
{
    (void)st;
    append_n(4);
    int n = read_lines(L, 8);
    int order[] = {0, 2, 3};
    write_lines(L, order, n - 1);
    assert_int_equal(verify_code(), DIAG_AUDIT_CHAIN);
}

static void removed_first_record(void **st)
{
    (void)st;
    append_n(3);
    int n = read_lines(L, 8);
    int order[] = {1, 2};
    write_lines(L, order, n - 1);
    assert_int_equal(verify_code(), DIAG_AUDIT_CHAIN);
}

static void inserted_record(void **st)
{
    (void)st;
    append_n(4);
    int n = read_lines(L, 8);
    int order[] = {0, 1, 1, 2, 3};   /* a replayed copy of a valid record */
    write_lines(L, order, n + 1);
    assert_int_equal(verify_code(), DIAG_AUDIT_CHAIN);
}

static void reordered_records(void **st)
{
    (void)st;
    append_n(4);
    int n = read_lines(L, 8);
    int order[] = {0, 2, 1, 3};
    write_lines(L, order, n);
    assert_int_equal(verify_code(), DIAG_AUDIT_CHAIN);
}

static void truncated_tail(void **st)
{
    (void)st;
    append_n(4);
    int n = read_lines(L, 8);
    int order[] = {0, 1, 2};
    write_lines(L, order, n - 1);
    assert_int_equal(verify_code(), DIAG_AUDIT_ANCHOR);
    /* The store's anchor catches it even when the head file is cut too. */
    audit_head h;
    bool present;
    rerr e = {0};
    audit_read_anchor(dir, &h, &present, &e);
    char hp[STATEDIR_PATH_MAX];
    statedir_path(dir, "audit.head", hp);
    unlink(hp);
    unsigned long recs;
    audit_head got;
    assert_false(audit_verify(dir, &h, &recs, &got, &e));
    assert_int_equal(e.code, DIAG_AUDIT_ANCHOR);
}

static void append_after_truncation_stays_broken(void **st)
{
    (void)st;
    append_n(3);
    int n = read_lines(L, 8);
    int order[] = {0, 1};
    write_lines(L, order, n - 1);
    append_n(1);   /* chains onto the anchored head, not the cut log */
    assert_int_equal(verify_code(), DIAG_AUDIT_CHAIN);
}

static void journal_phases(void **st)
{
    (void)st;
    rerr e = {0};
    journal j;
    json_t *h = json_pack("{s:s}", "plan_digest", "abc");
    assert_true(journal_begin(&j, dir, "r1", h, &e));
    journal j2;
    assert_false(journal_begin(&j2, dir, "r2", NULL, &e));
    assert_int_equal(e.code, DIAG_INTERRUPTED);
    assert_true(journal_note(&j, "checkpoint", NULL, &e));
    /* A torn entry (crash mid-write) is ignored. */
    assert_int_equal(write(j.fd, "{\"phase\":\"app", 13), 13);
    json_t *p = journal_pending(dir, &e);
    assert_non_null(p);
    assert_int_equal(json_array_size(p), 2);
    assert_true(journal_has(p, "checkpoint"));
    assert_false(journal_has(p, "apply"));
    assert_string_equal(json_string_value(json_object_get(journal_header(p), "plan_digest")),
                        "abc");
    json_decref(p);
    close(j.fd);
    journal ja;
    assert_true(journal_adopt(&ja, dir, "r1", &e));
    assert_true(journal_note(&ja, "apply", NULL, &e));
    p = journal_pending(dir, &e);
    assert_int_equal(json_array_size(p), 3);
    assert_true(journal_has(p, "apply"));
    json_decref(p);
    assert_true(journal_finish(&ja, "rolled_back", &e));
    assert_null(journal_pending(dir, &e));
    assert_int_equal(e.code, 0);
    char path[STATEDIR_PATH_MAX];
    statedir_path(dir, "runs/r1.jsonl", path);
    assert_int_equal(access(path, R_OK), 0);
}

static void fault_fail_mode(void **st)
{
    (void)st;
    rerr e = {0};
    setenv("RLC_FAULT", "apply.flip:fail", 1);
    assert_true(fault_point("apply.config", &e));
    assert_false(fault_point("apply.flip", &e));
    assert_int_equal(e.code, DIAG_FAULT_INJECTED);
    setenv("RLC_FAULT", "3:fail", 1);   /* ordinal: the 3rd point reached */
    assert_false(fault_point("x", &e));
    assert_true(fault_point("y", &e));
    unsetenv("RLC_FAULT");
    assert_true(fault_point("apply.flip", &e));
}

/* audit.head is created once, then written over where it is (the same
 * file, no temporary beside it), through a change of its length (seq 9 to
 * 10), and always names the last record. */
static void head_in_place(void **st)
{
    (void)st;
    char hp[STATEDIR_PATH_MAX];
    statedir_path(dir, "audit.head", hp);
    append_n(1);
    struct stat a, b;
    assert_int_equal(stat(hp, &a), 0);
    append_n(10);
    assert_int_equal(stat(hp, &b), 0);
    assert_true(a.st_ino == b.st_ino);
    audit_head h;
    bool present;
    rerr e = {0};
    assert_true(audit_read_anchor(dir, &h, &present, &e));
    assert_true(present);
    assert_int_equal(h.seq, 11);
    unsigned long n = 0;
    assert_true(audit_verify(dir, NULL, &n, NULL, &e));
    assert_int_equal(n, 11);
    /* Nothing left beside it. */
    char cmd[STATEDIR_PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q '\\.tmp$'", dir);
    assert_int_not_equal(system(cmd), 0);
}

/* FW_SECTOR writes in place only what fits a sector: a longer text, or a
 * file grown past one, is replaced as any other write. */
static void sector_only_small(void **st)
{
    (void)st;
    char p[STATEDIR_PATH_MAX];
    statedir_path(dir, "small", p);
    char big[FW_SECTOR_BYTES + 1], *msg = NULL;
    memset(big, 'x', sizeof big);
    const char *part = "one\n";
    size_t len = 4;
    assert_true(file_write_atomic(p, &part, &len, 1, 0600, FW_SECTOR, &msg));
    struct stat a, b, c;
    assert_int_equal(stat(p, &a), 0);
    part = "two!\n";
    len = 5;
    assert_true(file_write_atomic(p, &part, &len, 1, 0600, FW_SECTOR, &msg));
    assert_int_equal(stat(p, &b), 0);
    assert_true(a.st_ino == b.st_ino && b.st_size == 5);
    part = big;
    len = sizeof big;
    assert_true(file_write_atomic(p, &part, &len, 1, 0600, FW_SECTOR, &msg));
    assert_int_equal(stat(p, &c), 0);
    assert_true(c.st_ino != b.st_ino && c.st_size == (off_t)sizeof big);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(intact_chain), T(modified_record), T(removed_record), T(removed_first_record),
        T(inserted_record), T(reordered_records), T(truncated_tail),
        T(append_after_truncation_stays_broken), T(journal_phases), T(fault_fail_mode),
        T(head_in_place), T(sector_only_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
