/* parse.c - drives the scanner and parser over one file of the source map.
 * See parse.h. */
#include "parse.h"

#include <stdbool.h>

#include "parser.h"
#include "lexer.h"

/* The scanner's buffer for a mapped file: big enough that refilling it is
 * rare, small enough to stay in cache. */
#define PARSE_FEED_BYTES (64 * 1024)

ast_file *parse_file(arena *a, diag_list *diags, srcmap *map, uint32_t file)
{
    src_file *f = &map->files[file];
    parse_ctx ctx = {
        .a = a,
        .diags = diags,
        .map = map,
        .file = file,
        .text = f->text,
        .len = f->len,
    };
    ast_file *out = arena_alloc(a, sizeof *out);
    out->file = file;

    yyscan_t scanner;
    if (yylex_init_extra(&ctx, &scanner) != 0) {
        diag_add(diags, DIAG_IO_READ, span_make(file, 0, 0),
                 "cannot start the scanner for '%s'", f->name);
        out->nerrors = 1;
        return out;
    }
    ctx.scanner = scanner;
    /* Files read by program.c end in the two NULs flex needs, so they are
     * scanned in place: a copy would add the size of every file to the
     * peak memory of a large policy.  A mapped file is read-only, and the
     * scanner writes into what it scans: it is fed through a buffer of the
     * scanner's own (YY_INPUT), reused from one block of the file to the
     * next.  Other texts are copied. */
    YY_BUFFER_STATE bs = NULL;
    bool in_place = f->two_nuls && !f->map_len;
    if (f->map_len) {
        bs = yy_create_buffer(NULL, PARSE_FEED_BYTES, scanner);
        yy_switch_to_buffer(bs, scanner);
    } else if (in_place) {
        bs = yy_scan_buffer(f->text, f->len + 2, scanner);
    }
    if (!bs)
        bs = yy_scan_bytes(f->text, (int)f->len, scanner);
    yyparse(scanner, &ctx);
    if (in_place)
        lex_release(scanner, f->text, f->len);
    yy_delete_buffer(bs, scanner);
    yylex_destroy(scanner);

    out->items = ctx.items.head;
    out->comments = ctx.comments;
    out->nerrors = ctx.nerrors;
    if (!out->items && ctx.nerrors == 0) {
        out->nerrors++;
        diag_add(diags, DIAG_EMPTY_FILE, span_make(file, 0, 0),
                 "'%s' declares nothing (expected policy, import, tier, tenant, "
                 "target or test)", f->name);
    }
    return out;
}
