/* program.c - loading root files and their imports.  See program.h.
 *
 * Imports are followed depth first.  A file's key is its real path (or
 * "std:<name>" for embedded modules), so a file imported twice along two
 * paths is parsed once, while one that imports itself, directly or not, is
 * on the stack when we meet it again: that is a cycle. */
#include "program.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embed.h"
#include "buf.h"
#include "parse.h"
#include "suggest.h"
#include "xalloc.h"

enum { ST_ON_STACK = 1, ST_DONE = 2 };

typedef struct loaded {
    char *key;
    ast_file *ast;
    int state;
} loaded;

/* The chain of imports being followed: file at each level and the import
 * statement through which the next level was reached. */
typedef struct chain {
    uint32_t file[PROGRAM_MAX_IMPORT_DEPTH + 2];
    span via[PROGRAM_MAX_IMPORT_DEPTH + 2];
    int n;
} chain;

typedef struct loader {
    program *p;
    loaded *v;
    size_t n, cap;
} loader;

void program_init(program *p)
{
    memset(p, 0, sizeof *p);
    p->a = arena_new();
    srcmap_init(&p->map);
    diag_list_init(&p->diags, p->a);
}

void program_free(program *p)
{
    if (!p->a)
        return;
    free(p->files);
    srcmap_free(&p->map);
    arena_free(p->a);
    memset(p, 0, sizeof *p);
}

static void push_file(program *p, ast_file *f)
{
    if (p->nfiles == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->files = xrealloc(p->files, p->cap * sizeof *p->files);
    }
    p->files[p->nfiles++] = f;
}

static loaded *find_key(loader *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].key, key) == 0)
            return &l->v[i];
    return NULL;
}

static loaded *add_key(loader *l, const char *key)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    loaded *e = &l->v[l->n++];
    e->key = arena_strdup(l->p->a, key);
    e->ast = NULL;
    e->state = 0;
    return e;
}

static const char *file_name(program *p, uint32_t f)
{
    return p->map.files[f].name;
}

static void report_cycle(loader *l, chain *c, loaded *target, span via)
{
    program *p = l->p;
    uint32_t tfile = target->ast->file;
    int start = 0;
    for (int i = c->n - 1; i >= 0; i--)
        if (c->file[i] == tfile) {
            start = i;
            break;
        }
    buf b;
    buf_init(&b, 8192);
    for (int i = start; i < c->n; i++)
        buf_printf(&b, "%s -> ", file_name(p, c->file[i]));
    buf_puts(&b, file_name(p, tfile));
    diag *d;
    if (start == c->n - 1)
        d = diag_add(&p->diags, DIAG_IMPORT_CYCLE, via, "'%s' imports itself",
                     file_name(p, tfile));
    else
        d = diag_add(&p->diags, DIAG_IMPORT_CYCLE, via, "import cycle: %s", buf_str(&b));
    for (int i = start; i < c->n - 1; i++)
        diag_note_add(&p->diags, d, c->via[i], "'%s' imports '%s' here",
                      file_name(p, c->file[i]), file_name(p, c->file[i + 1]));
    buf_free(&b);
}

static void load_file(loader *l, chain *c, const char *name, const char *path,
                      const char *key, const char *builtin_text, size_t builtin_len,
                      span via);

/* Resolves one import statement of file `from` and loads its target. */
static void follow_import(loader *l, chain *c, uint32_t from, ast_node *imp)
{
    program *p = l->p;
    const char *spec = imp->name.s;
    span sp = imp->name.sp;
    if (c->n > PROGRAM_MAX_IMPORT_DEPTH) {
        diag_add(&p->diags, DIAG_IMPORT_TOO_DEEP, sp,
                 "imports nested too deeply (limit is %d levels)",
                 PROGRAM_MAX_IMPORT_DEPTH);
        return;
    }
    if (spec[0] == '\0') {
        diag_add(&p->diags, DIAG_IMPORT_NOT_FOUND, sp, "import of an empty path");
        return;
    }
    if (strncmp(spec, "std/", 4) == 0) {
        char name[PATH_MAX];
        size_t sl = strlen(spec);
        bool has_ext = sl > 4 && strcmp(spec + sl - 4, ".rlp") == 0;
        snprintf(name, sizeof name, "%s%s", spec, has_ext ? "" : ".rlp");
        const embedded_file *ef = embedded_find(name);
        if (!ef) {
            const char *cands[64];
            char stems[64][64];
            size_t nc = 0;
            for (size_t i = 0; i < rlc_embedded_count && nc < 64; i++) {
                const char *en = rlc_embedded[i].name;
                size_t el = strlen(en);
                if (strncmp(en, "std/", 4) != 0 || el < 4 || strcmp(en + el - 4, ".rlp") != 0)
                    continue;
                snprintf(stems[nc], sizeof stems[nc], "%.*s", (int)(el - 4), en);
                cands[nc] = stems[nc];
                nc++;
            }
            char stem[PATH_MAX];
            snprintf(stem, sizeof stem, "%.*s", (int)(has_ext ? sl - 4 : sl), spec);
            const char *s = suggest(stem, cands, nc);
            if (s)
                diag_add(&p->diags, DIAG_IMPORT_NOT_FOUND, sp,
                         "no standard module '%s'; did you mean '%s'?", spec, s);
            else
                diag_add(&p->diags, DIAG_IMPORT_NOT_FOUND, sp, "no standard module '%s'",
                         spec);
            return;
        }
        char key[PATH_MAX + 8];
        snprintf(key, sizeof key, "std:%s", name);
        load_file(l, c, name, name, key, ef->data, ef->len, sp);
        return;
    }

    if (p->std_imports_only) {
        diag_add(&p->diags, DIAG_IMPORT_NOT_FOUND, sp,
                 "cannot import '%s': only standard modules (std/...) can be imported here",
                 spec);
        return;
    }

    /* Relative to the importing file's directory (the current directory for
     * stdin and embedded modules). */
    char path[PATH_MAX];
    const src_file *sf = &p->map.files[from];
    int pn;
    if (spec[0] == '/' || sf->builtin || strcmp(sf->path, "<stdin>") == 0) {
        pn = snprintf(path, sizeof path, "%s", spec);
    } else {
        const char *slash = strrchr(sf->path, '/');
        if (slash)
            pn = snprintf(path, sizeof path, "%.*s/%s", (int)(slash - sf->path), sf->path, spec);
        else
            pn = snprintf(path, sizeof path, "%s", spec);
    }
    /* A cut path could name another file that exists: refuse it whole. */
    if (pn < 0 || (size_t)pn >= sizeof path) {
        diag_add(&p->diags, DIAG_IMPORT_UNREADABLE, sp, "cannot import '%s': %s", spec,
                 strerror(ENAMETOOLONG));
        return;
    }
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        int first = errno;
        char with_ext[PATH_MAX];
        size_t pl = strlen(path);
        bool fits = pl + 5 <= sizeof with_ext;
        if (fits) {
            memcpy(with_ext, path, pl);
            memcpy(with_ext + pl, ".rlp", 5);
        }
        if (fits && realpath(with_ext, real)) {
            memcpy(path, with_ext, pl + 5);
        } else if (first != ENOENT) {
            /* The path exists but cannot be resolved (a symbolic link
             * loop, a permission): say so, not "no such file". */
            diag_add(&p->diags, DIAG_IMPORT_UNREADABLE, sp, "cannot import '%s': %s", path,
                     strerror(first));
            return;
        } else {
            diag_add(&p->diags, DIAG_IMPORT_NOT_FOUND, sp, "cannot find '%s': %s", path,
                     strerror(errno));
            return;
        }
    }
    load_file(l, c, path, path, real, NULL, 0, sp);
}

static void load_file(loader *l, chain *c, const char *name, const char *path,
                      const char *key, const char *builtin_text, size_t builtin_len,
                      span via)
{
    program *p = l->p;
    loaded *e = find_key(l, key);
    if (e) {
        if (e->state == ST_ON_STACK)
            report_cycle(l, c, e, via);
        return;
    }
    char *text;
    size_t len, map_len = 0;
    if (builtin_text) {
        text = xmalloc(builtin_len + 2);
        memcpy(text, builtin_text, builtin_len);
        text[builtin_len] = text[builtin_len + 1] = '\0';
        len = builtin_len;
    } else {
        unsigned mode = 0;
        int err = via.file == SRC_NONE ? src_read_file_map(path, &text, &len, &map_len)
                                       : src_read_regular(path, &text, &len, &mode, &map_len);
        if (err == SRC_NOT_REGULAR) {
            diag_add(&p->diags, DIAG_IMPORT_UNREADABLE, via,
                     "cannot import '%s': it is %s, not a regular file", path,
                     S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device"
                     : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket"
                     : "not a regular file");
            return;
        }
        /* An imported file that is not a policy is refused whole: its
         * diagnostics would quote its lines (an import of /proc/self/environ
         * or /etc/shadow must not print them). */
        const char *why = err || via.file == SRC_NONE ? NULL : src_policy_refusal(text, len);
        if (why) {
            diag_add(&p->diags, DIAG_IMPORT_UNREADABLE, via,
                     "cannot import '%s': it is not a policy (%s); its content is not shown",
                     path, why);
            src_text_free(text, map_len);
            return;
        }
        if (err) {
            if (via.file == SRC_NONE) {
                p->io_error = true;
                diag_add(&p->diags, err == EFBIG ? DIAG_FILE_TOO_LARGE : DIAG_IO_READ, via,
                         "cannot read '%s': %s", path,
                         err == EFBIG ? "file larger than 64 MiB" : strerror(err));
            } else {
                diag_add(&p->diags, err == EFBIG ? DIAG_FILE_TOO_LARGE : DIAG_IMPORT_UNREADABLE,
                         via, "cannot import '%s': %s", path,
                         err == EISDIR ? "it is a directory"
                         : err == EFBIG ? "file larger than 64 MiB" : strerror(err));
            }
            return;
        }
    }
    e = add_key(l, key);
    uint32_t fi = srcmap_add(&p->map, name, path, text, len, builtin_text != NULL);
    p->map.files[fi].two_nuls = true;
    p->map.files[fi].map_len = map_len;
    ast_file *af = parse_file(p->a, &p->diags, &p->map, fi);
    src_file_drop_pages(&p->map.files[fi]);
    e->ast = af;
    e->state = ST_ON_STACK;
    push_file(p, af);

    c->file[c->n] = fi;
    c->n++;
    for (ast_node *it = af->items; it; it = it->next) {
        if (it->kind != AST_IMPORT)
            continue;
        c->via[c->n - 1] = it->name.sp;
        follow_import(l, c, fi, it);
    }
    c->n--;
    /* e may have moved if the loaded table grew: look it up again. */
    find_key(l, key)->state = ST_DONE;
}

static void load_root(loader *l, const char *path, char *text, size_t len)
{
    chain c = {.n = 0};
    if (text) {
        /* In-memory root: never deduplicated against files on disk. */
        char key[64];
        snprintf(key, sizeof key, "mem:%zu", l->n);
        loaded *e = add_key(l, key);
        program *p = l->p;
        uint32_t fi = srcmap_add(&p->map, path, "<stdin>", text, len, false);
        ast_file *af = parse_file(p->a, &p->diags, &p->map, fi);
        e->ast = af;
        e->state = ST_ON_STACK;
        push_file(p, af);
        c.file[0] = fi;
        c.n = 1;
        for (ast_node *it = af->items; it; it = it->next)
            if (it->kind == AST_IMPORT) {
                c.via[0] = it->name.sp;
                follow_import(l, &c, fi, it);
            }
        find_key(l, key)->state = ST_DONE;
        return;
    }
    char real[PATH_MAX];
    const char *key = realpath(path, real) ? real : path;
    load_file(l, &c, path, path, key, NULL, 0, span_none);
}

static loader *loader_new(program *p)
{
    loader *l = xcalloc(1, sizeof *l);
    l->p = p;
    return l;
}

bool program_load(program *p, const char *const *paths, size_t n)
{
    loader *l = loader_new(p);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(paths[i], "-") == 0) {
            char *text = NULL;
            size_t len = 0;
            int err = src_read_file("/dev/stdin", &text, &len);
            if (err) {
                p->io_error = true;
                diag_add(&p->diags, DIAG_IO_READ, span_none, "cannot read standard input: %s",
                         strerror(err));
                continue;
            }
            load_root(l, "<stdin>", text, len);
        } else {
            load_root(l, paths[i], NULL, 0);
        }
    }
    free(l->v);
    free(l);
    return !p->io_error;
}

void program_load_text(program *p, const char *name, char *text, size_t len)
{
    loader *l = loader_new(p);
    load_root(l, name, text, len);
    free(l->v);
    free(l);
}
