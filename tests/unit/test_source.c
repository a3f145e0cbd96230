/* test_source.c - the source map: byte offsets to line and column (columns
 * count code points), the text of a line, CRLF, empty files, offsets at and
 * past the end, several files, and reading files from disk. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>

#include "source.h"
#include "utf8.h"

static uint32_t add(srcmap *m, const char *text, size_t len)
{
    return srcmap_add(m, "f.rlp", "dir/f.rlp", unit_dup(text, len), len, false);
}

#define assert_lc(m, f, off, l, c)                                             \
    do {                                                                       \
        unsigned l_, c_;                                                       \
        srcmap_linecol((m), (f), (off), &l_, &c_);                             \
        assert_int_equal(l_, (l));                                             \
        assert_int_equal(c_, (c));                                             \
    } while (0)

#define assert_line(m, f, off, expect)                                         \
    do {                                                                       \
        const char *s_;                                                        \
        size_t n_;                                                             \
        srcmap_line_text((m), (f), (off), &s_, &n_);                           \
        assert_int_equal(n_, strlen(expect));                                  \
        assert_memory_equal(s_, (expect), n_);                                 \
    } while (0)

static void test_first_and_last_line(void **state)
{
    (void)state;
    srcmap m;
    srcmap_init(&m);
    const char *t = "ab\ncde\nfg";
    uint32_t f = add(&m, t, strlen(t));
    assert_string_equal(m.files[f].name, "f.rlp");
    assert_string_equal(m.files[f].path, "dir/f.rlp");
    assert_lc(&m, f, 0, 1, 1);
    assert_lc(&m, f, 1, 1, 2);
    assert_lc(&m, f, 2, 1, 3);   /* the newline belongs to its line */
    assert_lc(&m, f, 3, 2, 1);
    assert_lc(&m, f, 6, 2, 4);
    assert_lc(&m, f, 7, 3, 1);
    assert_lc(&m, f, 8, 3, 2);
    assert_lc(&m, f, 9, 3, 3);   /* EOF, no final newline */
    assert_line(&m, f, 0, "ab");
    assert_line(&m, f, 2, "ab");
    assert_line(&m, f, 4, "cde");
    assert_line(&m, f, 9, "fg");
    srcmap_free(&m);
}

static void test_trailing_newline_and_eof(void **state)
{
    (void)state;
    srcmap m;
    srcmap_init(&m);
    const char *t = "x\ny\n";
    uint32_t f = add(&m, t, 4);
    assert_lc(&m, f, 3, 2, 2);
    assert_lc(&m, f, 4, 3, 1);   /* EOF after the last newline: an empty line */
    assert_line(&m, f, 4, "");
    /* Past the end is clamped to the end. */
    assert_lc(&m, f, 5, 3, 1);
    assert_lc(&m, f, UINT32_MAX - 1, 3, 1);
    assert_line(&m, f, 1000, "");
    srcmap_free(&m);
}

static void test_empty_file(void **state)
{
    (void)state;
    srcmap m;
    srcmap_init(&m);
    uint32_t f = add(&m, "", 0);
    assert_lc(&m, f, 0, 1, 1);
    assert_lc(&m, f, 10, 1, 1);
    assert_line(&m, f, 0, "");
    srcmap_free(&m);
}

static void test_crlf(void **state)
{
    (void)state;
    srcmap m;
    srcmap_init(&m);
    const char *t = "ab\r\ncd\r\n\r\nz";
    uint32_t f = add(&m, t, strlen(t));
    assert_lc(&m, f, 0, 1, 1);
    assert_lc(&m, f, 2, 1, 3);
    assert_lc(&m, f, 4, 2, 1);
    assert_lc(&m, f, 5, 2, 2);
    assert_lc(&m, f, 8, 3, 1);
    assert_lc(&m, f, 10, 4, 1);
    /* The line text leaves the carriage return out. */
    assert_line(&m, f, 0, "ab");
    assert_line(&m, f, 5, "cd");
    assert_line(&m, f, 8, "");
    assert_line(&m, f, 10, "z");
    srcmap_free(&m);
}

static void test_multibyte_columns(void **state)
{
    (void)state;
    srcmap m;
    srcmap_init(&m);
    /* "é" is 2 bytes, "€" 3, "😀" 4: each is one column. */
    const char *t = "x\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80=1";
    uint32_t f = add(&m, t, strlen(t));
    assert_lc(&m, f, 2, 2, 1);
    assert_lc(&m, f, 4, 2, 2);
    assert_lc(&m, f, 7, 2, 3);
    assert_lc(&m, f, 11, 2, 4);
    assert_lc(&m, f, 12, 2, 5);
    assert_line(&m, f, 11, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80=1");
    srcmap_free(&m);
}

static void test_invalid_bytes_columns(void **state)
{
    (void)state;
    srcmap m;
    srcmap_init(&m);
    /* Each invalid byte counts as one column: a stray continuation byte,
     * a truncated sequence, an overlong form. */
    const char *t = "\x80x\xe2\x82y\xc0\xafz";
    uint32_t f = add(&m, t, strlen(t));
    assert_lc(&m, f, 1, 1, 2);   /* after the stray 0x80 */
    assert_lc(&m, f, 4, 1, 5);   /* after 0xe2 0x82, two columns */
    assert_lc(&m, f, 7, 1, 8);   /* after 0xc0 0xaf, two columns */
    srcmap_free(&m);
}

static void test_many_lines(void **state)
{
    (void)state;
    /* 100 000 lines: the line table answers every offset correctly. */
    enum { N = 100000 };
    char *t = malloc(N * 8 + 1);
    assert_non_null(t);
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(t + len, "%06d\n", i);
    srcmap m;
    srcmap_init(&m);
    uint32_t f = srcmap_add(&m, "big", "big", t, len, false);
    for (int i = 0; i < N; i += 997) {
        assert_lc(&m, f, (uint32_t)(i * 7 + 3), (unsigned)i + 1, 4);
        char want[16];
        snprintf(want, sizeof want, "%06d", i);
        assert_line(&m, f, (uint32_t)(i * 7), want);
    }
    assert_lc(&m, f, (uint32_t)len, N + 1, 1);
    srcmap_free(&m);
}

static void test_several_files(void **state)
{
    (void)state;
    srcmap m;
    srcmap_init(&m);
    uint32_t ids[20];
    for (int i = 0; i < 20; i++) {
        char text[32];
        int n = snprintf(text, sizeof text, "%*s\nq", i, "");
        ids[i] = add(&m, text, (size_t)n);
        assert_int_equal(ids[i], i);
    }
    for (int i = 0; i < 20; i++) {
        assert_lc(&m, ids[i], (uint32_t)i, 1, (unsigned)i + 1);
        assert_lc(&m, ids[i], (uint32_t)i + 1, 2, 1);
    }
    /* No such file: line and column 0, empty text. */
    assert_lc(&m, 20, 0, 0, 0);
    assert_lc(&m, SRC_NONE, 0, 0, 0);
    assert_line(&m, SRC_NONE, 0, "");
    srcmap_free(&m);
}

static void test_read_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/rlc-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a.rlp", dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fwrite("ab\0cd", 1, 5, fp);
    fclose(fp);
    char *text;
    size_t len;
    assert_int_equal(src_read_file(path, &text, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(text, "ab\0cd", 6);   /* NUL-terminated too */
    free(text);
    assert_int_equal(src_read_file(dir, &text, &len), EISDIR);
    assert_null(text);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope.rlp", dir);
    assert_int_equal(src_read_file(missing, &text, &len), ENOENT);
    assert_null(text);
    unlink(path);
    rmdir(dir);
}

/* A file of SRC_MAP_MIN bytes or more comes back mapped when the caller
 * takes a mapping, whole and ended by two NULs whatever its size against
 * the page (the last two sizes put them in a page of their own), and reads
 * the same after its pages are given back; a smaller file, or a caller
 * that takes no mapping, gets it read. */
static void test_read_mapped(void **state)
{
    (void)state;
    char dir[] = "/tmp/rlc-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/m.rlp", dir);
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const size_t sizes[] = {SRC_MAP_MIN + 1, SRC_MAP_MIN + pg - 3, SRC_MAP_MIN + pg - 2,
                            SRC_MAP_MIN + pg - 1, SRC_MAP_MIN + pg, SRC_MAP_MIN - 1};
    char *want = malloc(SRC_MAP_MIN + pg);
    assert_non_null(want);
    for (size_t i = 0; i < SRC_MAP_MIN + pg; i++)
        want[i] = (char)('a' + i % 23);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(want, 1, n, fp), n);
        fclose(fp);
        for (int regular = 0; regular < 2; regular++) {
            char *text;
            size_t len, map_len = 99;
            unsigned mode;
            int err = regular ? src_read_regular(path, &text, &len, &mode, &map_len)
                              : src_read_file_map(path, &text, &len, &map_len);
            assert_int_equal(err, 0);
            assert_int_equal(len, n);
            if (n >= SRC_MAP_MIN)
                assert_true(map_len >= n + 2);
            else
                assert_int_equal(map_len, 0);
            assert_memory_equal(text, want, n);
            assert_int_equal(text[n], '\0');
            assert_int_equal(text[n + 1], '\0');
            src_file f = {.text = text, .len = len, .map_len = map_len};
            src_file_drop_pages(&f);
            assert_memory_equal(text, want, n);
            assert_int_equal(text[n + 1], '\0');
            src_text_free(text, map_len);
        }
        char *text;
        size_t len;
        assert_int_equal(src_read_file(path, &text, &len), 0);
        assert_memory_equal(text, want, n);
        free(text);
    }
    free(want);
    unlink(path);
    rmdir(dir);
}

/* Columns on lines far longer than SRC_MARK_STEP (where they come from the
 * column marks) equal a count from the line start, at every offset: ASCII,
 * 2-, 3- and 4-byte characters, invalid bytes and sequences cut by the end
 * of a line, several long and short lines; and srcmap_col_offset is the
 * inverse of the column. */
static void test_long_line_columns(void **state)
{
    (void)state;
    static const char *pieces[] = {"a", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80",
                                   "\xff", "\xe4\xb8", "\n", "tenant \"x\" { }"};
    size_t cap = 40000, len = 0;
    char *t = malloc(cap + 16);
    assert_non_null(t);
    unsigned seed = 7;
    while (len < cap) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 16) % 8;
        if (k == 6 && (seed >> 8) % 50) /* newlines are rare: long lines */
            k = 0;
        size_t pl = strlen(pieces[k]);
        memcpy(t + len, pieces[k], pl);
        len += pl;
    }
    t[len] = '\0';
    srcmap m;
    srcmap_init(&m);
    uint32_t f = srcmap_add(&m, "f.rlp", "f.rlp", t, len, false);
    /* The expected column of every offset, counted from each line start:
     * 1 + the characters that start before it (a character an offset
     * falls inside counts). */
    unsigned *wl = malloc((len + 1) * sizeof *wl), *wc = malloc((len + 1) * sizeof *wc);
    assert_non_null(wl);
    assert_non_null(wc);
    unsigned line = 1, k = 0;
    for (size_t i = 0; i <= len;) {
        if (i == len || t[i] == '\n') {
            wl[i] = line;
            wc[i] = k + 1;
            line++;
            k = 0;
            i++;
            continue;
        }
        const unsigned char *u = (const unsigned char *)t + i;
        size_t cl = *u < 0x80 ? 1 : utf8_seq_len(u, len - i);
        cl = cl ? cl : 1;
        wl[i] = line;
        wc[i] = k + 1;
        for (size_t j = 1; j < cl; j++) {
            wl[i + j] = line;
            wc[i + j] = k + 2;
        }
        /* The inverse, at each character start. */
        assert_int_equal(srcmap_col_offset(&m, f, (uint32_t)i, k + 1), i);
        k++;
        i += cl;
    }
    for (size_t off = 0; off <= len; off++) {
        unsigned l, c;
        srcmap_linecol(&m, f, (uint32_t)off, &l, &c);
        assert_int_equal(l, wl[off]);
        assert_int_equal(c, wc[off]);
    }
    free(wl);
    free(wc);
    /* Past the end of a line: its end. */
    const char *nl = memchr(t, '\n', len);
    assert_non_null(nl);
    assert_int_equal(srcmap_col_offset(&m, f, 0, 1000000), (uint32_t)(nl - t));
    srcmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_and_last_line),
        cmocka_unit_test(test_trailing_newline_and_eof),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_multibyte_columns),
        cmocka_unit_test(test_invalid_bytes_columns),
        cmocka_unit_test(test_many_lines),
        cmocka_unit_test(test_long_line_columns),
        cmocka_unit_test(test_several_files),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_read_mapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
