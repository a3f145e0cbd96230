/* source.h - the source map: every file read during a compilation, and the
 * translation of byte spans into line and column.  Locations everywhere in
 * rlc are byte spans {file, start, end}; line/column is computed only when a
 * diagnostic is printed (jq's locfile), so the lexer stays cheap. */
#ifndef RLC_SOURCE_H
#define RLC_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRC_NONE UINT32_MAX  /* file index of a span with no file */

typedef struct span {
    uint32_t file;           /* index into the source map, or SRC_NONE */
    uint32_t start, end;     /* byte offsets, end exclusive */
} span;

typedef struct src_file {
    char *name;              /* as given on the command line or import path */
    char *path;              /* path used to open it (resolved), or "<stdin>" */
    char *text;              /* contents, NUL-terminated (may contain NULs) */
    size_t len;
    uint32_t *lines;         /* byte offset of each line start, built lazily */
    size_t nlines;
    /* Column marks, built lazily when a column is asked for on a line
     * longer than SRC_MARK_STEP bytes: mark j is the first character
     * boundary at or after byte j * SRC_MARK_STEP and the number of
     * characters before it on its line, so a column costs at most one step
     * of counting however long the line (rendering stays linear). */
    uint32_t *mark_off, *mark_col;
    size_t map_len;          /* text is a read-only mapping of the file, this
                              * many bytes long (src_read_regular), or 0 */
    bool builtin;            /* embedded stdlib module */
    bool two_nuls;           /* text[len + 1] is a NUL too: parse in place */
} src_file;

typedef struct srcmap {
    src_file *files;
    size_t nfiles, cap;
} srcmap;

/* Files at least this big are mapped rather than read (src_read_regular). */
#define SRC_MAP_MIN ((size_t)1 << 20)
/* Largest source file accepted; bigger files get RLC0003. */
#define SRC_MAX_BYTES ((size_t)64 * 1024 * 1024)
/* Bytes between two column marks (see src_file). */
#define SRC_MARK_STEP 256

void srcmap_init(srcmap *m);
void srcmap_free(srcmap *m);
/* Adds a file; takes ownership of text (malloc'd, len bytes + NUL; or a
 * mapping of map_len bytes from src_read_regular, to be set in the new
 * src_file by the caller).  Returns its index. */
uint32_t srcmap_add(srcmap *m, const char *name, const char *path, char *text,
                    size_t len, bool builtin);
/* 1-based line and column of offset off; columns count Unicode code points
 * (each invalid byte counts as one). */
void srcmap_linecol(srcmap *m, uint32_t file, uint32_t off,
                    unsigned *line, unsigned *col);
/* Byte offset of the character that starts column col (1-based) on the
 * line holding offset off; the line's end when the line is shorter. */
uint32_t srcmap_col_offset(srcmap *m, uint32_t file, uint32_t off, unsigned col);
/* Start and length of the source line holding offset off (no newline). */
void srcmap_line_text(srcmap *m, uint32_t file, uint32_t off,
                      const char **start, size_t *len);

/* Reads a whole file into a malloc'd buffer ended by two NULs.
 * Returns 0, or an errno value (EISDIR for directories, EFBIG past
 * SRC_MAX_BYTES). */
int src_read_file(const char *path, char **text, size_t *len);
/* As src_read_file, where a regular file may come back mapped, as
 * src_read_regular says. */
int src_read_file_map(const char *path, char **text, size_t *len, size_t *map_len);
/* The return of src_read_regular for a path that is neither a regular file
 * nor a directory (its mode is then in *mode). */
#define SRC_NOT_REGULAR (-1)
/* As src_read_file, for an imported file: only a regular file is read
 * (EISDIR for a directory, SRC_NOT_REGULAR for a FIFO, device or socket,
 * which is opened without blocking and never read).  When map_len is not
 * NULL, a file of SRC_MAP_MIN bytes or more may come back as a read-only
 * private mapping instead, *map_len bytes long (0 when read); it ends in
 * two NULs all the same.  Release it with src_text_free. */
int src_read_regular(const char *path, char **text, size_t *len, unsigned *mode,
                     size_t *map_len);
/* Frees a text from the functions above (map_len as they returned it). */
void src_text_free(char *text, size_t map_len);
/* Gives back the memory of a mapped file's pages (it is read again from
 * the file when next needed): for a file once parsed, which only a
 * diagnostic reads again.  Nothing for a text that is not mapped. */
void src_file_drop_pages(src_file *f);
/* Why text (len bytes) is not a policy, so that nothing of it may be
 * quoted: NUL bytes, invalid UTF-8, or a first word that begins no
 * declaration.  NULL when it may be one (its diagnostics can then show its
 * lines). */
const char *src_policy_refusal(const char *text, size_t len);

static inline span span_make(uint32_t file, uint32_t start, uint32_t end)
{
    span s = {file, start, end};
    return s;
}
static inline span span_join(span a, span b)
{
    span s = {a.file, a.start, b.end > a.end ? b.end : a.end};
    return s;
}
extern const span span_none;

#endif
