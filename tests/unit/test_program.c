/* test_program.c - loading a compilation: with std_imports_only set, an
 * import of a file on disk is refused (RLC1003, located at the path) and the
 * file is never read, while standard modules still load. */
#include "unit.h"

#include <unistd.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_std_imports_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
