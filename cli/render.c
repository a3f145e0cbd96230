/* render.c - diagnostic rendering: text with source excerpts, and JSON
 * lines.  See render.h. */
#include "render.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"

#define WINDOW_CELLS 120   /* longest excerpt shown of one source line */

bool render_color_auto(FILE *fp)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && nc[0])
        return false;
    return isatty(fileno(fp));
}

static const char *sev_color(severity s)
{
    switch (s) {
    case SEV_ERROR: return "\033[1;31m";
    case SEV_WARNING: return "\033[1;33m";
    default: return "\033[1;36m";
    }
}

static void put_safe(buf *out, const char *s);

void render_location(buf *out, srcmap *map, span sp)
{
    if (sp.file == SRC_NONE || sp.file >= map->nfiles) {
        buf_puts(out, "rlc");
        return;
    }
    unsigned line, col;
    srcmap_linecol(map, sp.file, sp.start, &line, &col);
    put_safe(out, map->files[sp.file].name);
    buf_printf(out, ":%u:%u", line, col);
}

/* Whether code point cp would make a terminal do something rather than
 * show a character: C1 controls (U+0080..U+009F, e.g. CSI), and the bidi
 * overrides and isolates that reorder what is shown ("Trojan Source"). */
static bool cp_unsafe(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

static uint32_t cp_decode(const unsigned char *s, size_t l)
{
    if (l == 2)
        return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    if (l == 3)
        return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
           ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
}

/* Appends one code point (or one bad byte) of source for display, replacing
 * what a terminal would act on with one '?' (a tab with one space), so each
 * cell of the excerpt stays one column wide.  Returns bytes consumed. */
static size_t put_cell(buf *out, const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        buf_putc(out, (c < 0x20 || c == 0x7f) ? (c == '\t' ? ' ' : '?') : (char)c);
        return 1;
    }
    size_t l = utf8_seq_len((const unsigned char *)s, n);
    if (!l) {
        buf_putc(out, '?');
        return 1;
    }
    if (cp_unsafe(cp_decode((const unsigned char *)s, l)))
        buf_putc(out, '?');
    else
        buf_append(out, s, l);
    return l;
}

/* Appends text that may hold user input (messages quote names and strings
 * from the source; file names come from the command line) with the same
 * replacements as the excerpt: no escape sequence reaches the terminal. */
static void put_safe(buf *out, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;)
        i += put_cell(out, s + i, n - i);
}

/* The excerpt of the line holding sp: at most WINDOW_CELLS characters of
 * it around the span, then a line of '^' under the span.  Positions come
 * from the source map's column marks, so an excerpt costs the window, not
 * the line: rendering many diagnostics on one long line stays linear. */
static void excerpt(buf *out, srcmap *map, span sp, severity sev, bool color)
{
    if (sp.file == SRC_NONE || sp.file >= map->nfiles)
        return;
    src_file *f = &map->files[sp.file];
    if (f->len == 0)
        return;
    const char *ls;
    size_t llen;
    srcmap_line_text(map, sp.file, sp.start, &ls, &llen);
    size_t base = (size_t)(ls - f->text);
    size_t soff = sp.start - base;
    size_t eoff = sp.end > sp.start ? sp.end - base : soff + 1;
    if (eoff > llen)
        eoff = llen > soff ? llen : soff + 1;
    /* Cells (characters) before the span's start and end, and in the line. */
    unsigned line, col;
    srcmap_linecol(map, sp.file, (uint32_t)(base + llen), &line, &col);
    size_t cells = col - 1;
    srcmap_linecol(map, sp.file, sp.start, &line, &col);
    size_t sc = soff >= llen ? cells : col - 1, ec;
    if (eoff >= llen) {
        ec = eoff > llen ? cells + 1 : cells;
    } else {
        unsigned l2, c2;
        srcmap_linecol(map, sp.file, (uint32_t)(base + eoff), &l2, &c2);
        ec = c2 - 1;
    }
    if (ec <= sc)
        ec = sc + 1;
    size_t first = 0;
    if (ec > WINDOW_CELLS)
        first = sc > 40 ? sc - 40 : 0;
    buf_printf(out, "%5u | ", line);
    size_t pad = 0;
    if (first) {
        buf_puts(out, "...");
        pad = 3;
    }
    size_t i = srcmap_col_offset(map, sp.file, sp.start, (unsigned)first + 1) - base;
    size_t shown = 0;
    while (i < llen && shown < WINDOW_CELLS) {
        i += put_cell(out, ls + i, llen - i);
        shown++;
    }
    if (i < llen)
        buf_puts(out, "...");
    buf_puts(out, "\n      | ");
    for (size_t k = 0; k < pad + (sc - first); k++)
        buf_putc(out, ' ');
    size_t width = ec - sc;
    if (width > WINDOW_CELLS - (sc - first))
        width = WINDOW_CELLS - (sc - first) > 0 ? WINDOW_CELLS - (sc - first) : 1;
    if (color)
        buf_puts(out, sev_color(sev));
    for (size_t k = 0; k < width; k++)
        buf_putc(out, '^');
    if (color)
        buf_puts(out, "\033[0m");
    buf_putc(out, '\n');
}

void render_text(buf *out, srcmap *map, const diag *d, bool color)
{
    char code[16];
    diag_code_str(d->code, code);
    if (color)
        buf_puts(out, "\033[1m");
    render_location(out, map, d->sp);
    buf_puts(out, ": ");
    if (color)
        buf_puts(out, sev_color(d->sev));
    buf_printf(out, "%s[%s]", severity_name(d->sev), code);
    if (color)
        buf_puts(out, "\033[0m\033[1m");
    buf_puts(out, ": ");
    put_safe(out, d->msg);
    buf_putc(out, '\n');
    if (color)
        buf_puts(out, "\033[0m");
    excerpt(out, map, d->sp, d->sev, color);
    for (const diag_note *n = d->notes; n; n = n->next) {
        render_location(out, map, n->sp);
        buf_puts(out, ": ");
        if (color)
            buf_puts(out, sev_color(SEV_NOTE));
        buf_puts(out, "note");
        if (color)
            buf_puts(out, "\033[0m");
        buf_puts(out, ": ");
        put_safe(out, n->msg);
        buf_putc(out, '\n');
        excerpt(out, map, n->sp, SEV_NOTE, color);
    }
}

static void json_pos(buf *out, srcmap *map, span sp)
{
    if (sp.file == SRC_NONE || sp.file >= map->nfiles) {
        buf_puts(out, "\"file\":null,\"line\":0,\"column\":0,\"end_line\":0,\"end_column\":0");
        return;
    }
    unsigned l1, c1, l2, c2;
    srcmap_linecol(map, sp.file, sp.start, &l1, &c1);
    srcmap_linecol(map, sp.file, sp.end > sp.start ? sp.end : sp.start, &l2, &c2);
    buf_puts(out, "\"file\":");
    buf_json_str(out, map->files[sp.file].name);
    buf_printf(out, ",\"line\":%u,\"column\":%u,\"end_line\":%u,\"end_column\":%u", l1, c1,
               l2, c2);
}

void render_json(buf *out, srcmap *map, const diag *d)
{
    char code[16];
    diag_code_str(d->code, code);
    buf_printf(out, "{\"code\":\"%s\",\"severity\":\"%s\",", code, severity_name(d->sev));
    json_pos(out, map, d->sp);
    buf_puts(out, ",\"message\":");
    buf_json_str(out, d->msg);
    buf_puts(out, ",\"notes\":[");
    for (const diag_note *n = d->notes; n; n = n->next) {
        buf_putc(out, '{');
        json_pos(out, map, n->sp);
        buf_puts(out, ",\"message\":");
        buf_json_str(out, n->msg);
        buf_putc(out, '}');
        if (n->next)
            buf_putc(out, ',');
    }
    buf_puts(out, "]}");
}

void render_hidden_text(buf *out, size_t hidden)
{
    buf_printf(out, "%zu not shown: only the first %d warnings and notes are", hidden,
               RENDER_MAX_WARNINGS);
}

void render_all(FILE *fp, srcmap *map, diag_list *l, const render_opts *o)
{
    buf out;
    buf_init(&out, 0);
    diag_sort(l);
    size_t seen = 0;
    for (const diag *d = l->head; d; d = d->next) {
        if (!render_shown(d, &seen))
            continue;
        if (o->format == FMT_JSON) {
            render_json(&out, map, d);
            buf_putc(&out, '\n');
        } else {
            render_text(&out, map, d, o->color);
        }
    }
    size_t hidden = render_hidden(seen);
    if (o->format == FMT_JSON && hidden)
        buf_printf(&out, "{\"not_shown\":{\"warnings_and_notes\":%zu,\"limit\":%d}}\n",
                   hidden, RENDER_MAX_WARNINGS);
    if (o->format == FMT_TEXT && (l->nerrors || l->nwarnings || l->dropped || hidden)) {
        size_t ne = l->nerrors;
        buf_printf(&out, "rlc: %zu error%s, %zu warning%s", ne, ne == 1 ? "" : "s",
                   l->nwarnings, l->nwarnings == 1 ? "" : "s");
        if (diag_full(l))
            buf_printf(&out, " (stopped at the limit of %zu errors%s", l->max_errors,
                       hidden ? "; " : ")");
        else if (hidden)
            buf_puts(&out, " (");
        if (hidden) {
            render_hidden_text(&out, hidden);
            buf_putc(&out, ')');
        }
        buf_putc(&out, '\n');
    }
    fwrite(buf_str(&out), 1, out.len, fp);
    fflush(fp);
    buf_free(&out);
}
