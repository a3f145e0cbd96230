/* source.c - the source map and file reading.  See source.h. */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"  /* for columns */
#include "xalloc.h"

const span span_none = {SRC_NONE, 0, 0};

void srcmap_init(srcmap *m)
{
    memset(m, 0, sizeof *m);
}

void srcmap_free(srcmap *m)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        free(m->files[i].name);
        free(m->files[i].path);
        src_text_free(m->files[i].text, m->files[i].map_len);
        free(m->files[i].lines);
        free(m->files[i].mark_off);
        free(m->files[i].mark_col);
    }
    free(m->files);
    memset(m, 0, sizeof *m);
}

uint32_t srcmap_add(srcmap *m, const char *name, const char *path, char *text,
                    size_t len, bool builtin)
{
    if (m->nfiles == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        src_file *f = xrealloc(m->files, cap * sizeof *f);
        m->files = f;
        m->cap = cap;
    }
    src_file *f = &m->files[m->nfiles];
    memset(f, 0, sizeof *f);
    f->name = xstrdup(name);
    f->path = xstrdup(path);
    f->text = text;
    f->len = len;
    f->builtin = builtin;
    return (uint32_t)m->nfiles++;
}

static void build_lines(src_file *f)
{
    size_t n = 1;
    for (size_t i = 0; i < f->len; i++)
        if (f->text[i] == '\n')
            n++;
    f->lines = xmalloc(n * sizeof *f->lines);
    f->lines[0] = 0;
    size_t k = 1;
    for (size_t i = 0; i < f->len; i++)
        if (f->text[i] == '\n')
            f->lines[k++] = (uint32_t)(i + 1);
    f->nlines = n;
}

/* Index of the line containing off (binary search). */
static size_t line_index(src_file *f, uint32_t off)
{
    if (!f->lines)
        build_lines(f);
    size_t lo = 0, hi = f->nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->lines[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Length of the character at text[i] as columns count it: a valid UTF-8
 * sequence, else one byte. */
static size_t char_len(const src_file *f, size_t i)
{
    const unsigned char *u = (const unsigned char *)f->text + i;
    size_t l = *u < 0x80 ? 1 : utf8_seq_len(u, f->len - i);
    return l ? l : 1;
}

/* End of line li (before its newline; the end of the text for the last). */
static size_t line_end(const src_file *f, size_t li)
{
    return li + 1 < f->nlines ? f->lines[li + 1] - 1 : f->len;
}

static void build_marks(src_file *f)
{
    size_t n = f->len / SRC_MARK_STEP + 1;
    f->mark_off = xmalloc(n * sizeof *f->mark_off);
    f->mark_col = xmalloc(n * sizeof *f->mark_col);
    size_t j = 0;
    uint32_t cells = 0;
    for (size_t i = 0; i <= f->len;) {
        while (j < n && j * SRC_MARK_STEP <= i) {
            f->mark_off[j] = (uint32_t)i;
            f->mark_col[j++] = cells;
        }
        if (i == f->len)
            break;
        if (f->text[i] == '\n') {
            i++;
            cells = 0;
            continue;
        }
        i += char_len(f, i);
        cells++;
    }
}

/* A known (offset, characters before it) on line li at or before off:
 * the line start, or the nearest column mark on a long line. */
static void nearest_mark(src_file *f, size_t li, size_t off, size_t *at, unsigned *cells)
{
    size_t ls = f->lines[li];
    *at = ls;
    *cells = 0;
    if (line_end(f, li) - ls <= SRC_MARK_STEP)
        return;
    if (!f->mark_off)
        build_marks(f);
    size_t j = off / SRC_MARK_STEP;
    if (j > 0 && f->mark_off[j] > off)
        j--;
    if (f->mark_off[j] >= ls && f->mark_off[j] <= off) {
        *at = f->mark_off[j];
        *cells = f->mark_col[j];
    }
}

void srcmap_linecol(srcmap *m, uint32_t file, uint32_t off, unsigned *line,
                    unsigned *col)
{
    if (file >= m->nfiles) {
        *line = 0;
        *col = 0;
        return;
    }
    src_file *f = &m->files[file];
    if (off > f->len)
        off = (uint32_t)f->len;
    size_t li = line_index(f, off);
    *line = (unsigned)li + 1;
    /* Columns count code points, so an editor and a SARIF viewer put the
     * caret on the same character; each byte of an invalid sequence is a
     * column of its own, as the excerpt in render.c shows it. */
    size_t i;
    unsigned cells;
    nearest_mark(f, li, off, &i, &cells);
    for (; i < off; cells++)
        i += char_len(f, i);
    *col = cells + 1;
}

uint32_t srcmap_col_offset(srcmap *m, uint32_t file, uint32_t off, unsigned col)
{
    if (file >= m->nfiles)
        return 0;
    src_file *f = &m->files[file];
    if (off > f->len)
        off = (uint32_t)f->len;
    size_t li = line_index(f, off);
    size_t le = line_end(f, li);
    unsigned want = col ? col - 1 : 0;
    /* Marks hold increasing counts along a line: start from the last one
     * at or before the wanted column. */
    size_t i = f->lines[li];
    unsigned cells = 0;
    if (le - i > SRC_MARK_STEP) {
        if (!f->mark_off)
            build_marks(f);
        size_t lo = (i + SRC_MARK_STEP - 1) / SRC_MARK_STEP, hi = le / SRC_MARK_STEP + 1;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (f->mark_off[mid] <= le && f->mark_col[mid] <= want)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0 && f->mark_off[lo - 1] >= i && f->mark_off[lo - 1] <= le &&
            f->mark_col[lo - 1] <= want) {
            i = f->mark_off[lo - 1];
            cells = f->mark_col[lo - 1];
        }
    }
    for (; i < le && cells < want; cells++)
        i += char_len(f, i);
    return (uint32_t)(i < le ? i : le);
}

void srcmap_line_text(srcmap *m, uint32_t file, uint32_t off,
                      const char **start, size_t *len)
{
    *start = "";
    *len = 0;
    if (file >= m->nfiles)
        return;
    src_file *f = &m->files[file];
    if (off > f->len)
        off = (uint32_t)f->len;
    size_t li = line_index(f, off);
    size_t s = f->lines[li];
    size_t e = line_end(f, li);
    if (e > s && f->text[e - 1] == '\r')
        e--;
    *start = f->text + s;
    *len = e - s;
}

static int read_fp(FILE *fp, char **text, size_t *len, size_t *map_len);

int src_read_file_map(const char *path, char **text, size_t *len, size_t *map_len)
{
    *text = NULL;
    *len = 0;
    if (map_len)
        *map_len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return errno;
    return read_fp(fp, text, len, map_len);
}

int src_read_file(const char *path, char **text, size_t *len)
{
    return src_read_file_map(path, text, len, NULL);
}

int src_read_regular(const char *path, char **text, size_t *len, unsigned *mode,
                     size_t *map_len)
{
    *text = NULL;
    *len = 0;
    *mode = 0;
    if (map_len)
        *map_len = 0;
    /* O_NONBLOCK: opening a FIFO with no writer would wait forever; the
     * mode is checked on what was opened, not on the name. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        *mode = (unsigned)st.st_mode;
        close(fd);
        return S_ISDIR(st.st_mode) ? EISDIR : SRC_NOT_REGULAR;
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *fp = fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ? NULL : fdopen(fd, "rb");
    if (!fp) {
        int e = errno;
        close(fd);
        return e;
    }
    return read_fp(fp, text, len, map_len);
}

void src_text_free(char *text, size_t map_len)
{
    if (map_len)
        munmap(text, map_len);
    else
        free(text);
}

void src_file_drop_pages(src_file *f)
{
    if (f->map_len)
        madvise(f->text, f->map_len, MADV_DONTNEED);
}

/* Maps the n bytes of the regular file fd read-only, followed by at least
 * two NULs, or returns NULL.  A large policy is read once by the scanner
 * and then only where a diagnostic quotes it, so its pages come from the
 * page cache as they are read and can be given back once it is parsed
 * (src_file_drop_pages): reading it into memory of our own cost a fresh
 * page per 4 KiB, cleared by the kernel and then copied over, and kept
 * every file of the policy in memory to the end (460 MB at 1 000 000
 * tenants, a sixth of the peak).  The NULs: the bytes past the end of the
 * file in its last page read as zeros, and a zero page of our own is
 * mapped after the file for a size close to a multiple of the page.  As
 * with any mapped file, one truncated by someone else while rlc runs
 * makes the next read of its lost pages fail (SIGBUS). */
static char *map_text(int fd, size_t n, size_t *map_len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t file_part = (n + pg - 1) & ~(pg - 1);
    size_t total = (n + 2 + pg - 1) & ~(pg - 1);
    char *p = mmap(NULL, total, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (mmap(p, file_part, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
        munmap(p, total);
        return NULL;
    }
    *map_len = total;
    return p;
}

const char *src_policy_refusal(const char *text, size_t len)
{
    if (memchr(text, '\0', len))
        return "it contains NUL bytes";
    if (utf8_validate(text, len) != len)
        return "it is not UTF-8 text";
    /* The first token must begin a declaration: skip blanks and comments. */
    size_t i = 0;
    for (;;) {
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
                           text[i] == '\n'))
            i++;
        if (i < len && text[i] == '#') {
            while (i < len && text[i] != '\n')
                i++;
            continue;
        }
        break;
    }
    if (i == len)
        return NULL;   /* declares nothing: RLC0012 says so, with nothing to quote */
    static const char *const starts[] = {"policy", "import", "tier", "tenant",
                                         "allow", "target", "test"};
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
        size_t kl = strlen(starts[k]);
        if (len - i > kl && !memcmp(text + i, starts[k], kl) &&
            (text[i + kl] == ' ' || text[i + kl] == '\t' || text[i + kl] == '\n' ||
             text[i + kl] == '\r' || text[i + kl] == '"' || text[i + kl] == '#'))
            return NULL;
    }
    return "its first word is not a declaration (policy, import, tier, tenant, allow, "
           "target or test)";
}

static int read_fp(FILE *fp, char **text, size_t *len, size_t *map_len)
{
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int e = errno;
        fclose(fp);
        return e;
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(fp);
        return EISDIR;
    }
    if (map_len && S_ISREG(st.st_mode) && (size_t)st.st_size >= SRC_MAP_MIN &&
        (size_t)st.st_size <= SRC_MAX_BYTES) {
        char *m = map_text(fileno(fp), (size_t)st.st_size, map_len);
        if (m) {
            fclose(fp);
            *text = m;
            *len = (size_t)st.st_size;
            return 0;
        }
    }
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
    if (cap > SRC_MAX_BYTES + 1)
        cap = SRC_MAX_BYTES + 1;
    char *p = xmalloc(cap + 2);
    /* Reading a 47 MB policy spent most of its time faulting in the
     * buffer: one fault per 2 MiB instead. */
    xalloc_huge(p, cap + 2);
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > SRC_MAX_BYTES) {
                free(p);
                fclose(fp);
                return EFBIG;
            }
            cap *= 2;
            p = xrealloc(p, cap + 2);
        }
        size_t r = fread(p + n, 1, cap - n, fp);
        n += r;
        if (r == 0) {
            if (ferror(fp)) {
                int e = errno ? errno : EIO;
                free(p);
                fclose(fp);
                return e;
            }
            break;
        }
    }
    fclose(fp);
    if (n > SRC_MAX_BYTES) {
        free(p);
        return EFBIG;
    }
    /* Two NULs: the scanner can then work on the text in place. */
    p[n] = p[n + 1] = '\0';
    *text = p;
    *len = n;
    return 0;
}
