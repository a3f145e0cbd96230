/* test_program.c - loading a compilation: with std_imports_only set, an
 * import of a file on disk is refused (RLC1003, located at the path) and the
 * file is never read, while standard modules still load; a file big enough
 * to be mapped parses exactly as the same text held in memory. */
#include "unit.h"

#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "program.h"

static void test_std_imports_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/rlc-test-program-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/other.rlp", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("tenant \"b\" { limit 1/1s }\n", fp);
    fclose(fp);

    char text[256];
    snprintf(text, sizeof text, "import \"std/tiers\"\nimport \"%s\"\n", path);
    program p;
    program_init(&p);
    p.std_imports_only = true;
    program_load_text(&p, "t.rlp", unit_dup(text, strlen(text)), strlen(text));
    assert_int_equal(p.map.nfiles, 2); /* t.rlp and std/tiers, not other.rlp */
    assert_int_equal(p.diags.nerrors, 1);
    const diag *d = unit_find(&p.diags, DIAG_IMPORT_NOT_FOUND);
    assert_non_null(d);
    char want[256];
    snprintf(want, sizeof want,
             "cannot import '%s': only standard modules (std/...) can be imported here", path);
    assert_string_equal(d->msg, want);
    const char *at = strstr(text, path);
    assert_int_equal(d->sp.start, (uint32_t)(at - text) - 1); /* the opening quote */
    program_free(&p);

    /* The same text loads the file when the flag is off. */
    program_init(&p);
    program_load_text(&p, "t.rlp", unit_dup(text, strlen(text)), strlen(text));
    assert_int_equal(p.map.nfiles, 3);
    assert_int_equal(p.diags.nerrors, 0);
    program_free(&p);

    unlink(path);
    rmdir(dir);
}

/* A policy of more than SRC_MAP_MIN bytes with errors here and there, and
 * tokens standing across the 64 KiB blocks in which the scanner is fed a
 * mapped file: a comment and a string longer than a block, an error right
 * at a block's end, and one on a last line with no newline. */
static char *big_policy(size_t *len)
{
    buf b;
    buf_init(&b, 1 << 21);
    size_t i = 0;
    while (b.len < 65536 - 40)
        buf_printf(&b, "tenant \"a%05zu\" { limit 1/s }\n", i++);
    const char *at_end = "tenant \"x\" { limit ";
    while (b.len < 65535 - strlen(at_end))
        buf_puts(&b, " ");
    buf_puts(&b, at_end);
    buf_puts(&b, "$ }\n");   /* '$' is the last byte of the first 64 KiB */
    buf_puts(&b, "#");
    for (int k = 0; k < 70000; k++)
        buf_puts(&b, "c");
    buf_puts(&b, "\ntenant \"");
    for (int k = 0; k < 4000; k++)
        buf_puts(&b, "s");
    buf_puts(&b, "\" { limit 2/q }\n");
    while (b.len < SRC_MAP_MIN + 1000)
        buf_printf(&b, "tenant \"b%05zu\" { group \"g\" { limit 3/m burst 2 } }\n", i++);
    buf_puts(&b, "tenant \"y\" { limit }");
    *len = b.len;
    return b.data;
}

static void compare_with_text(const program *p, uint32_t file, const char *text, size_t len,
                              size_t min_diags)
{
    program q;
    program_init(&q);
    program_load_text(&q, "t.rlp", unit_dup(text, len), len);
    assert_int_equal(q.map.files[0].map_len, 0);
    size_t n = 0;
    const diag *e = q.diags.head;
    for (const diag *d = p->diags.head; d; d = d->next, e = e->next, n++) {
        assert_non_null(e);
        assert_int_equal(d->code, e->code);
        assert_int_equal(d->sp.file, file);
        assert_int_equal(d->sp.start, e->sp.start);
        assert_int_equal(d->sp.end, e->sp.end);
        assert_string_equal(d->msg, e->msg);
    }
    assert_null(e);
    assert_true(n >= min_diags);
    size_t items_p = 0, items_q = 0;
    for (const ast_node *it = p->files[file]->items; it; it = it->next)
        items_p++;
    for (const ast_node *it = q.files[0]->items; it; it = it->next)
        items_q++;
    assert_int_equal(items_p, items_q);
    program_free(&q);
}

static void test_mapped_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/rlc-test-program-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], mainp[128];
    snprintf(path, sizeof path, "%s/big.rlp", dir);
    snprintf(mainp, sizeof mainp, "%s/main.rlp", dir);
    size_t len;
    char *text = big_policy(&len);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    fclose(fp);
    fp = fopen(mainp, "w");
    assert_non_null(fp);
    fputs("import \"big.rlp\"\n", fp);
    fclose(fp);

    /* As the root file, then as an import. */
    const char *roots[] = {path, mainp};
    for (int r = 0; r < 2; r++) {
        program p;
        program_init(&p);
        assert_true(program_load(&p, &roots[r], 1));
        uint32_t f = r == 0 ? 0 : 1;
        assert_string_equal(p.map.files[f].path, path);
        assert_true(p.map.files[f].map_len > len);   /* mapped, with its NULs */
        compare_with_text(&p, f, text, len, 4);
        /* Its pages were given back after the parse; a diagnostic's line
         * reads them again. */
        const char *line;
        size_t ll;
        srcmap_line_text(&p.map, f, p.diags.tail->sp.start, &line, &ll);
        assert_int_equal(ll, strlen("tenant \"y\" { limit }"));
        assert_memory_equal(line, "tenant \"y\" { limit }", ll);
        program_free(&p);
    }
    free(text);
    unlink(path);
    unlink(mainp);
    rmdir(dir);
}

/* Tokens of megabytes in a mapped file are scanned in time linear in their
 * length: the scanner refills its buffer in a handful of reads whatever the
 * token's length (it once read 8 KiB per refill and rescanned the token
 * each time, 16 s for a 10 MB string).  The bound is 20 times what such a
 * file takes, under sanitizers included, and a tenth of the old time. */
static void test_mapped_long_tokens(void **state)
{
    (void)state;
    char dir[] = "/tmp/rlc-test-program-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/long.rlp", dir);
    const size_t n = 8u << 20;
    buf b;
    buf_init(&b, 3 * n);
    buf_puts(&b, "#");
    for (size_t i = 0; i < n; i++)
        buf_putc(&b, 'c');
    buf_puts(&b, "\ntenant \"");
    for (size_t i = 0; i < n; i++)
        buf_putc(&b, 's');
    buf_puts(&b, "\" { limit 1/s }\n");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b.data, 1, b.len, fp), b.len);
    fclose(fp);

    clock_t t0 = clock();
    program p;
    program_init(&p);
    const char *roots[] = {path};
    assert_true(program_load(&p, roots, 1));
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(p.map.files[0].map_len > 0);
    compare_with_text(&p, 0, b.data, b.len, 1);
    if (cpu > 2.0)
        fail_msg("parsing two 8 MB tokens took %.2f s of CPU", cpu);
    program_free(&p);
    buf_free(&b);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_std_imports_only),
        cmocka_unit_test(test_mapped_file),
        cmocka_unit_test(test_mapped_long_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
