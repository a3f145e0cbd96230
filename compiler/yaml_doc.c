/* yaml_doc.c - libyaml events to a bounded tree with byte spans.  libyaml
 * marks count characters, not bytes, so a cursor walks the text forward to
 * turn each mark into a byte offset (marks arrive in order, so the walk is
 * linear).  Caps (yaml_doc.h) are checked per event; the first error stops
 * the read.  It does not follow aliases or merge keys: an alias is an error. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yaml_doc.h"

typedef struct frame {
    ynode *node;
    ynode **items;
    size_t n, cap;
} frame;

typedef struct reader {
    arena *a;
    diag_list *dl;
    uint32_t file;
    const char *text;
    size_t len;
    size_t ci, bi;           /* cursor: character index and its byte offset */
    size_t nodes;
    frame stack[YAML_MAX_DEPTH + 1];
    int depth;
} reader;

/* Byte offset of character index idx (libyaml's mark.index). */
static uint32_t mark_byte(reader *r, size_t idx)
{
    if (idx < r->ci)
        r->ci = r->bi = 0;
    while (r->ci < idx && r->bi < r->len) {
        unsigned char c = (unsigned char)r->text[r->bi];
        size_t w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4 : 1;
        r->bi += w;
        r->ci++;
    }
    if (r->bi > r->len)
        r->bi = r->len;
    return (uint32_t)r->bi;
}

static span ev_span(reader *r, const yaml_event_t *e)
{
    uint32_t s = mark_byte(r, e->start_mark.index);
    uint32_t en = mark_byte(r, e->end_mark.index);
    return span_make(r->file, s, en > s ? en : s + (s < r->len));
}

span yaml_span(uint32_t file, const ynode *n)
{
    return span_make(file, n->start, n->end > n->start ? n->end : n->start + 1);
}

static bool push_child(reader *r, ynode *n)
{
    if (r->depth == 0)
        return true;
    frame *f = &r->stack[r->depth - 1];
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        ynode **p = realloc(f->items, cap * sizeof *p);
        if (!p)
            return false;
        f->items = p;
        f->cap = cap;
    }
    f->items[f->n++] = n;
    return true;
}

static int key_cmp(const void *x, const void *y)
{
    const ynode *a = *(ynode *const *)x, *b = *(ynode *const *)y;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int c = memcmp(a->str, b->str, a->len);
    if (c)
        return c;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* Duplicate scalar keys of a closed mapping: RLC4004 at the second. */
static void check_dup_keys(reader *r, ynode *m)
{
    size_t n = 0;
    ynode **keys = malloc((m->len ? m->len : 1) * sizeof *keys);
    if (!keys)
        return;
    for (size_t i = 0; i < m->len; i++)
        if (m->items[2 * i]->kind == YN_SCALAR)
            keys[n++] = m->items[2 * i];
    qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 1; i < n; i++) {
        if (keys[i]->len == keys[i - 1]->len &&
            !memcmp(keys[i]->str, keys[i - 1]->str, keys[i]->len)) {
            diag *d = diag_add(r->dl, DIAG_YAML_DUP_KEY, yaml_span(r->file, keys[i]),
                               "key '%.*s' appears twice in one mapping",
                               keys[i]->len > 80 ? 80 : (int)keys[i]->len, keys[i]->str);
            diag_note_add(r->dl, d, yaml_span(r->file, keys[i - 1]), "first given here");
        }
    }
    free(keys);
}

static ynode *new_node(reader *r, ynode_kind k, span sp)
{
    if (++r->nodes > YAML_MAX_NODES) {
        diag_add(r->dl, DIAG_YAML_LIMIT, sp,
                 "too many YAML nodes (limit is %zu per file)", (size_t)YAML_MAX_NODES);
        return NULL;
    }
    ynode *n = arena_alloc(r->a, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = k;
    n->start = sp.start;
    n->end = sp.end;
    return n;
}

bool yaml_read(arena *a, diag_list *dl, uint32_t file, const char *text, size_t len,
               ydocs *out)
{
    reader r = {.a = a, .dl = dl, .file = file, .text = text, .len = len};
    size_t nerr0 = dl->nerrors;
    yaml_parser_t p;
    yaml_event_t e;
    bool ok = false, have_event = false;
    size_t cap = 0;
    out->docs = NULL;
    out->doc_start = NULL;
    out->n = 0;
    if (!yaml_parser_initialize(&p))
        return false;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
    ynode *root = NULL;
    for (;;) {
        if (!yaml_parser_parse(&p, &e)) {
            uint32_t at = mark_byte(&r, p.problem_mark.index);
            diag_add(dl, DIAG_YAML_SYNTAX, span_make(file, at, at + (at < len)),
                     "YAML: %s%s%s", p.problem ? p.problem : "cannot be parsed",
                     p.context ? " " : "", p.context ? p.context : "");
            goto out;
        }
        have_event = true;
        span sp = ev_span(&r, &e);
        ynode *n = NULL;
        switch (e.type) {
        case YAML_STREAM_END_EVENT:
            ok = true;
            goto out;
        case YAML_DOCUMENT_START_EVENT:
            root = NULL;
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (out->n == cap) {
                size_t nc = cap ? cap * 2 : 4;
                ynode **d = arena_alloc(a, nc * sizeof *d);
                uint32_t *s = arena_alloc(a, nc * sizeof *s);
                if (cap) {
                    memcpy(d, out->docs, cap * sizeof *d);
                    memcpy(s, out->doc_start, cap * sizeof *s);
                }
                out->docs = d;
                out->doc_start = s;
                cap = nc;
            }
            out->docs[out->n] = root;
            out->doc_start[out->n++] = root ? root->start : sp.start;
            break;
        case YAML_ALIAS_EVENT:
            diag_add(dl, DIAG_YAML_ALIAS, sp, "YAML alias '*%s' is not supported by rlc import",
                     (const char *)e.data.alias.anchor);
            goto out;
        case YAML_SCALAR_EVENT:
            if (e.data.scalar.length > YAML_MAX_SCALAR) {
                diag_add(dl, DIAG_YAML_LIMIT, sp,
                         "YAML scalar of %zu bytes (limit is %zu)", e.data.scalar.length,
                         (size_t)YAML_MAX_SCALAR);
                goto out;
            }
            if (!(n = new_node(&r, YN_SCALAR, sp)))
                goto out;
            n->str = arena_strndup(a, (const char *)e.data.scalar.value, e.data.scalar.length);
            n->len = e.data.scalar.length;
            n->plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (!push_child(&r, n))
                goto out;
            if (!r.depth)
                root = n;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (r.depth == YAML_MAX_DEPTH) {
                diag_add(dl, DIAG_YAML_LIMIT, sp,
                         "YAML nested too deeply (limit is %d levels)", YAML_MAX_DEPTH);
                goto out;
            }
            if (!(n = new_node(&r, e.type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP, sp)))
                goto out;
            if (!push_child(&r, n))
                goto out;
            if (!r.depth)
                root = n;
            r.stack[r.depth++] = (frame){.node = n};
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            frame *f = &r.stack[--r.depth];
            n = f->node;
            n->end = sp.end > n->start ? sp.end : n->end;
            n->items = arena_alloc(a, (f->n ? f->n : 1) * sizeof *n->items);
            if (f->n)
                memcpy(n->items, f->items, f->n * sizeof *n->items);
            n->len = n->kind == YN_MAP ? f->n / 2 : f->n;
            free(f->items);
            *f = (frame){0};
            if (n->kind == YN_MAP && n->len > 1)
                check_dup_keys(&r, n);
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&e);
        have_event = false;
    }
out:
    if (have_event)
        yaml_event_delete(&e);
    while (r.depth > 0)
        free(r.stack[--r.depth].items);
    yaml_parser_delete(&p);
    return ok && dl->nerrors == nerr0;
}

const ynode *yaml_get(const ynode *m, const char *key, const ynode **keyn)
{
    if (keyn)
        *keyn = NULL;
    if (!m || m->kind != YN_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < m->len; i++) {
        const ynode *k = m->items[2 * i];
        if (k->kind == YN_SCALAR && k->len == kl && !memcmp(k->str, key, kl)) {
            if (keyn)
                *keyn = k;
            return m->items[2 * i + 1];
        }
    }
    return NULL;
}

bool yaml_is_null(const ynode *n)
{
    if (!n)
        return true;
    if (n->kind != YN_SCALAR || !n->plain)
        return false;
    return !strcmp(n->str, "") || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
           !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}
