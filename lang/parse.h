/* parse.h - turns one source file into an ast_file.  Lexing and parsing
 * only: imports, names and values are left to later passes.  Errors go to
 * the diag list; parsing recovers and goes on until the error cap. */
#ifndef RLC_PARSE_H
#define RLC_PARSE_H

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

/* Brace nesting allowed in a file (RLC0011). */
#define PARSE_MAX_NESTING 64
/* Longest string literal and identifier, in bytes (RLC0013). */
#define PARSE_MAX_STRING 4096
#define PARSE_MAX_IDENT 128

/* Parses file number `file` of map.  Nodes, names and diagnostics go into
 * arena a (borrowed).  Returns the file (never NULL); its nerrors counts the
 * lexical and syntax errors found in it. */
ast_file *parse_file(arena *a, diag_list *diags, srcmap *map, uint32_t file);

/* Parser/lexer shared state.  Internal to lang/, exposed for the generated
 * scanner and parser only. */
typedef struct parse_ctx {
    arena *a;
    diag_list *diags;
    srcmap *map;
    uint32_t file;
    const char *text;
    size_t len;
    size_t offset;            /* lexer position, bytes */
    size_t fed;               /* bytes of text given to the scanner's own
                                 buffer (YY_INPUT), for a mapped file */
    int depth;                /* current brace nesting */
    bool fatal;               /* stop reporting: input abandoned */
    size_t nerrors;
    ast_list items;
    ast_comment *comments, *comments_tail;
    void *scanner;
    /* Identifiers seen lately, by hash: a policy repeats a handful of them
     * (algorithms, tiers, methods, units) hundreds of thousands of times,
     * and each IDENT shares the arena copy of the last one like it. */
    char *idents[64];
    char *strings[256];       /* the same for plain quoted strings */
} parse_ctx;

/* Puts back the source byte the scanner holds aside (it keeps a NUL in its
 * place while a token is out), so that text[0..len) is whole again after a
 * parse that stopped before the end of the input.  Defined in lexer.l. */
void lex_release(void *scanner, char *text, size_t len);

#endif
