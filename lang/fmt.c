/* fmt.c - the canonical printer.  See fmt.h.
 *
 * Comments are not in the tree: they are a sorted list of spans.  As the
 * printer walks the tree in source order it emits every comment that starts
 * before the next construct; a comment with no newline between it and the
 * last thing printed stays on that line, as a trailing comment. */
#include "fmt.h"

#include <string.h>

typedef struct printer {
    buf *out;
    const src_file *src;
    const ast_comment *next_comment;
    size_t last_end;        /* source offset of the last construct printed */
    int indent;
    bool at_line_start;
} printer;

static void indent(printer *p)
{
    for (int i = 0; i < p->indent; i++)
        buf_puts(p->out, "  ");
}

static void newline(printer *p)
{
    /* Trim trailing spaces before ending the line. */
    while (p->out->len && p->out->data[p->out->len - 1] == ' ')
        p->out->data[--p->out->len] = '\0';
    buf_putc(p->out, '\n');
}

static bool no_newline_between(const printer *p, size_t a, size_t b)
{
    for (size_t i = a; i < b && i < p->src->len; i++)
        if (p->src->text[i] == '\n')
            return false;
    return true;
}

static bool blank_line_between(const printer *p, size_t a, size_t b)
{
    int nl = 0;
    for (size_t i = a; i < b && i < p->src->len; i++) {
        char c = p->src->text[i];
        if (c == '\n') {
            if (++nl >= 2)
                return true;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            nl = 0;
        }
    }
    return false;
}

static void put_comment_text(printer *p, const ast_comment *c)
{
    size_t s = c->sp.start, e = c->sp.end;
    while (e > s && (p->src->text[e - 1] == ' ' || p->src->text[e - 1] == '\t' ||
                     p->src->text[e - 1] == '\r'))
        e--;
    buf_append(p->out, p->src->text + s, e - s);
}

/* Emits a trailing comment on the current line if one follows directly. */
static void trailing_comment(printer *p)
{
    const ast_comment *c = p->next_comment;
    if (c && c->sp.start >= p->last_end && no_newline_between(p, p->last_end, c->sp.start)) {
        buf_putc(p->out, ' ');
        put_comment_text(p, c);
        p->last_end = c->sp.end;
        p->next_comment = c->next;
    }
}

/* Emits comments standing before offset `upto` on their own lines.
 * `first` says nothing has been printed yet in this block (no blank line). */
static void leading_comments(printer *p, size_t upto, bool *first)
{
    while (p->next_comment && p->next_comment->sp.start < upto) {
        const ast_comment *c = p->next_comment;
        if (!*first && blank_line_between(p, p->last_end, c->sp.start))
            newline(p);
        indent(p);
        put_comment_text(p, c);
        newline(p);
        p->last_end = c->sp.end;
        p->next_comment = c->next;
        *first = false;
    }
}

void fmt_string(buf *o, const char *s)
{
    buf_putc(o, '"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': buf_puts(o, "\\\""); break;
        case '\\': buf_puts(o, "\\\\"); break;
        case '\n': buf_puts(o, "\\n"); break;
        case '\t': buf_puts(o, "\\t"); break;
        case '\r': buf_puts(o, "\\r"); break;
        default:
            if (*c < 0x20 || *c == 0x7f)
                buf_printf(o, "\\u{%x}", *c);
            else
                buf_putc(o, (char)*c);
        }
    }
    buf_putc(o, '"');
}

static void put_string(printer *p, const char *s)
{
    fmt_string(p->out, s);
}

static void put_dur(printer *p, const ast_dur *d)
{
    buf_printf(p->out, "%lld%s", (long long)d->n, d->unit);
}

static void put_value(printer *p, const ast_value *v)
{
    switch (v->kind) {
    case VAL_STRING: put_string(p, v->s); break;
    case VAL_INT: buf_printf(p->out, "%lld", (long long)v->i); break;
    case VAL_DURATION: put_dur(p, &v->dur); break;
    case VAL_IDENT: buf_puts(p->out, v->s); break;
    case VAL_ENV:
        buf_puts(p->out, "env(");
        put_string(p, v->s);
        buf_putc(p->out, ')');
        break;
    case VAL_FILE:
        buf_puts(p->out, "file(");
        put_string(p, v->s);
        buf_putc(p->out, ')');
        break;
    case VAL_CALL:
        /* An unknown call (checks reject it) keeps its argument in items. */
        buf_printf(p->out, "%s(", v->s);
        put_string(p, v->items ? v->items->s : "");
        buf_putc(p->out, ')');
        break;
    case VAL_LIST:
        buf_putc(p->out, '[');
        for (const ast_value *it = v->items; it; it = it->next) {
            put_value(p, it);
            if (it->next)
                buf_puts(p->out, ", ");
        }
        buf_putc(p->out, ']');
        break;
    }
}

static void node(printer *p, const ast_node *n);

/* Prints the children of a block between braces already opened. */
static void block_body(printer *p, const ast_node *n)
{
    /* Empty block with nothing inside: "{}" on the opening line. */
    if (!n->children && !(p->next_comment && p->next_comment->sp.start < n->sp.end)) {
        buf_puts(p->out, "{}");
        p->last_end = n->sp.end;
        trailing_comment(p);
        newline(p);
        return;
    }
    buf_putc(p->out, '{');
    trailing_comment(p);
    newline(p);
    p->indent++;
    bool first = true;
    for (const ast_node *c = n->children; c; c = c->next) {
        leading_comments(p, c->sp.start, &first);
        if (!first && blank_line_between(p, p->last_end, c->sp.start))
            newline(p);
        node(p, c);
        first = false;
    }
    leading_comments(p, n->sp.end, &first);
    p->indent--;
    indent(p);
    buf_putc(p->out, '}');
    p->last_end = n->sp.end;
    trailing_comment(p);
    newline(p);
}

/* Opening line of a block: set last_end to the end of its header so a
 * comment after the '{' is kept on that line. */
static void open_block(printer *p, const ast_node *n)
{
    size_t hdr = n->name.sp.end;
    if (ast_has_ref(n->kind) && n->ref.s && n->ref.sp.end > hdr)
        hdr = n->ref.sp.end;
    /* The '{' itself follows the header. */
    const char *t = p->src->text;
    size_t i = hdr;
    while (i < n->sp.end && t[i] != '{')
        i++;
    p->last_end = i < n->sp.end ? i + 1 : hdr;
    buf_putc(p->out, ' ');
}

/* A template is written `*`; a subject literally named "*" stays a string. */
static void put_subject_name(printer *p, const ast_name *nm)
{
    if (nm->any)
        buf_putc(p->out, '*');
    else
        put_string(p, nm->s);
}

static void node(printer *p, const ast_node *n)
{
    indent(p);
    switch (n->kind) {
    case AST_POLICY:
        buf_puts(p->out, "policy ");
        put_string(p, n->name.s);
        open_block(p, n);
        block_body(p, n);
        return;
    case AST_IMPORT:
        buf_puts(p->out, "import ");
        put_string(p, n->name.s);
        break;
    case AST_TIER:
        buf_printf(p->out, "tier %s", n->name.s);
        if (n->ref.s)
            buf_printf(p->out, " extends %s", n->ref.s);
        open_block(p, n);
        block_body(p, n);
        return;
    case AST_TENANT:
        buf_puts(p->out, "tenant ");
        put_subject_name(p, &n->name);
        if (n->ref.s)
            buf_printf(p->out, " tier %s", n->ref.s);
        open_block(p, n);
        block_body(p, n);
        return;
    case AST_GROUP:
    case AST_KEY:
        buf_printf(p->out, "%s ", n->kind == AST_GROUP ? "group" : "key");
        put_subject_name(p, &n->name);
        open_block(p, n);
        block_body(p, n);
        return;
    case AST_ROUTE:
        buf_printf(p->out, "route %s ", n->ref.s);
        put_string(p, n->name.s);
        open_block(p, n);
        block_body(p, n);
        return;
    case AST_TARGET:
        buf_printf(p->out, "target %s ", n->ref.s);
        put_string(p, n->name.s);
        open_block(p, n);
        block_body(p, n);
        return;
    case AST_TEST:
        buf_puts(p->out, "test ");
        put_string(p, n->name.s);
        open_block(p, n);
        block_body(p, n);
        return;
    case AST_LIMIT:
    {
        ast_dur w = ast_limit_window(n);
        buf_printf(p->out, "limit %lld/", (long long)ast_limit_count(n).v);
        put_dur(p, &w);
        if (n->lim.burst_set)
            buf_printf(p->out, " burst %lld", (long long)ast_limit_burst(n).v);
        if (n->lim.cost_set)
            buf_printf(p->out, " cost %lld", (long long)ast_limit_cost(n).v);
        if (n->lim.algo != AST_ALGO_NONE)
            buf_printf(p->out, " algorithm %s", ast_limit_algo(n).s);
        if (n->lim.shadow)
            buf_puts(p->out, " shadow");
        break;
    }
    case AST_CONCURRENCY:
        buf_printf(p->out, "concurrency %lld", (long long)n->conc.max.v);
        if (n->conc.lease.set) {
            buf_puts(p->out, " lease ");
            put_dur(p, &n->conc.lease);
        }
        if (n->conc.shadow)
            buf_puts(p->out, " shadow");
        break;
    case AST_ALLOW:
        buf_printf(p->out, "allow %s ", n->name.s);
        put_string(p, n->ref.s);
        break;
    case AST_SETTING:
        buf_printf(p->out, "%s = ", n->name.s);
        put_value(p, n->u.value);
        break;
    case AST_T_REQUEST:
        buf_puts(p->out, "request");
        for (const ast_seg *s = n->u.request.path; s; s = s->next) {
            buf_printf(p->out, " %s ", ast_kind_name(s->kind));
            put_string(p, s->name.s);
        }
        if (n->u.request.method.s) {
            buf_printf(p->out, " route %s ", n->u.request.method.s);
            put_string(p, n->u.request.route.s);
        }
        if (n->u.request.cost.set)
            buf_printf(p->out, " cost %lld", (long long)n->u.request.cost.v);
        break;
    case AST_T_SEND:
        buf_printf(p->out, "send %lld", (long long)n->u.send.n.v);
        if (n->u.send.within.set) {
            buf_puts(p->out, " within ");
            put_dur(p, &n->u.send.within);
        }
        buf_printf(p->out, " expect %s %lld", n->u.send.expect_allowed ? "allowed" : "rejected",
                   (long long)n->u.send.expect.v);
        break;
    case AST_T_WAIT:
        buf_puts(p->out, "wait ");
        put_dur(p, &n->u.wait.d);
        break;
    }
    p->last_end = n->sp.end;
    trailing_comment(p);
    newline(p);
}

static bool is_block(const ast_node *n)
{
    return n->kind != AST_IMPORT && n->kind != AST_ALLOW;
}

void fmt_file(buf *out, const srcmap *map, const ast_file *f)
{
    printer p = {
        .out = out,
        .src = &map->files[f->file],
        .next_comment = f->comments,
    };
    bool first = true;
    const ast_node *prev = NULL;
    for (const ast_node *n = f->items; n; n = n->next) {
        /* A comment directly above an item belongs to it: decide the blank
         * line before the comments, as in a block. */
        size_t lead = n->sp.start;
        if (p.next_comment && p.next_comment->sp.start < lead)
            lead = p.next_comment->sp.start;
        if (!first && (blank_line_between(&p, p.last_end, lead) ||
                       (prev && (is_block(prev) || is_block(n)))))
            newline(&p);
        bool inner_first = true;
        leading_comments(&p, n->sp.start, &inner_first);
        /* A blank line after them keeps a file header apart from the item. */
        if (!inner_first && blank_line_between(&p, p.last_end, n->sp.start))
            newline(&p);
        node(&p, n);
        first = false;
        prev = n;
    }
    bool tail_first = first;
    if (p.next_comment && !first && blank_line_between(&p, p.last_end, p.next_comment->sp.start))
        newline(&p);
    tail_first = true;
    leading_comments(&p, (size_t)-1, &tail_first);
}
