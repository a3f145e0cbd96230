/* lex_util.h - token decoding for the scanner: integers with overflow
 * detection, durations, string escapes (UTF-8 itself is base/utf8.h).
 * Kept out of lexer.l so it can be unit tested and read as ordinary C.
 * Internal to lang/. */
#ifndef RLC_LEX_UTIL_H
#define RLC_LEX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "parse.h"

/* Parses a decimal integer (optional '-').  Returns false on overflow. */
bool dec_parse(const char *s, size_t n, int64_t *out);
/* Milliseconds per unit, or 0 when unit is not one of ms s m h d. */
int64_t duration_unit_ms(const char *unit, size_t n);

/* Scanner actions; each reports its own errors with precise spans. */
bool lex_int(parse_ctx *c, span sp, const char *t, size_t n, int64_t *out);
void lex_duration(parse_ctx *c, span sp, const char *t, size_t n, ast_dur *out);
/* The identifier t[0..n) as an arena string, shared with an identical one
 * seen before when the cache still holds it (never written through). */
char *lex_ident(parse_ctx *c, const char *t, size_t n);
char *lex_string(parse_ctx *c, span sp, const char *t, size_t n, bool closed);
void lex_comment(parse_ctx *c, span sp, const char *t, size_t n);
void lex_nonascii(parse_ctx *c, span sp, const char *t, size_t n);
void lex_badchar(parse_ctx *c, span sp, unsigned char ch);

#endif
