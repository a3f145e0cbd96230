/* render_github.c - diagnostics as GitHub workflow commands
 * ("::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=RLCnnnn::msg"),
 * which Actions turns into annotations on the pull request.  Notes follow
 * the message on their own lines. */
#include "render_ci.h"


/* Escapes for a command's message (data): % CR LF. */
static void gh_data(buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '%': buf_puts(out, "%25"); break;
        case '\r': buf_puts(out, "%0D"); break;
        case '\n': buf_puts(out, "%0A"); break;
        default: buf_putc(out, *s);
        }
    }
}

/* Escapes for a property value: also ':' and ','. */
static void gh_prop(buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case ':': buf_puts(out, "%3A"); break;
        case ',': buf_puts(out, "%2C"); break;
        case '%': buf_puts(out, "%25"); break;
        case '\r': buf_puts(out, "%0D"); break;
        case '\n': buf_puts(out, "%0A"); break;
        default: buf_putc(out, *s);
        }
    }
}

void render_github(FILE *fp, srcmap *map, diag_list *l)
{
    buf out;
    buf_init(&out, 0);
    diag_sort(l);
    size_t seen = 0;
    for (const diag *d = l->head; d; d = d->next) {
        if (!render_shown(d, &seen))
            continue;
        char code[16];
        diag_code_str(d->code, code);
        buf_printf(&out, "::%s ",
                   d->sev == SEV_ERROR ? "error" : d->sev == SEV_WARNING ? "warning" : "notice");
        if (ci_located(map, d->sp)) {
            unsigned l1, c1, l2, c2;
            srcmap_linecol(map, d->sp.file, d->sp.start, &l1, &c1);
            srcmap_linecol(map, d->sp.file, d->sp.end > d->sp.start ? d->sp.end : d->sp.start,
                           &l2, &c2);
            if (d->sp.end <= d->sp.start)
                c2 = c1 + 1;
            buf uri;
            buf_init(&uri, 0);
            ci_relative_uri(&uri, map->files[d->sp.file].name);
            buf_puts(&out, "file=");
            gh_prop(&out, buf_str(&uri));
            buf_free(&uri);
            buf_printf(&out, ",line=%u,col=%u,endLine=%u,endColumn=%u,", l1, c1, l2, c2);
        }
        buf_puts(&out, "title=");
        gh_prop(&out, code);
        buf_puts(&out, "::");
        gh_data(&out, d->msg);
        for (const diag_note *n = d->notes; n; n = n->next) {
            buf loc;
            buf_init(&loc, 0);
            render_location(&loc, map, n->sp);
            buf_puts(&out, "%0Anote: ");
            gh_data(&out, buf_str(&loc));
            buf_puts(&out, ": ");
            gh_data(&out, n->msg);
            buf_free(&loc);
        }
        buf_putc(&out, '\n');
    }
    if (render_hidden(seen)) {
        buf_puts(&out, "::notice title=rlc::");
        render_hidden_text(&out, render_hidden(seen));
        buf_putc(&out, '\n');
    }
    fwrite(buf_str(&out), 1, out.len, fp);
    fflush(fp);
    buf_free(&out);
}
