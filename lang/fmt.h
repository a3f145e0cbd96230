/* fmt.h - prints a syntax tree back as canonical .rlp text: two-space
 * indentation, one statement per line, options in a fixed order, strings
 * re-escaped, comments kept where they were (leading or trailing), runs of
 * blank lines collapsed to one.  Printing the output again gives the same
 * bytes (fmt is idempotent; tests hold it to that). */
#ifndef RLC_FMT_H
#define RLC_FMT_H

#include "ast.h"
#include "buf.h"
#include "source.h"

/* Appends the canonical text of f (parsed from map) to out.  The file must
 * have parsed without errors. */
void fmt_file(buf *out, const srcmap *map, const ast_file *f);

/* Appends s as the language writes a string: quoted, escaped so that it
 * reads back as s.  Messages quote names with it too. */
void fmt_string(buf *out, const char *s);

#endif
