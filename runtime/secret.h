/* secret.h - the one resolver of values that may be secret: the URLs,
 * endpoints, user names, passwords and tokens of targets (SPEC.md 2.8 and
 * 7.1).  Every target kind resolves its settings here, so an unset
 * variable, an empty one and an unreadable file mean the same everywhere.
 *
 * A setting is absent (no value: no AUTH, no token), a literal string, an
 * env("VAR") ({"env": "VAR"} in a plan, "env:VAR" on the command line) or
 * a file("PATH") ({"file": "PATH"}, "file:PATH").  An unset or empty
 * variable, an unreadable, empty or oversized file, and a value too long
 * for its field are RLC3157, naming the variable or file and what it was
 * for, never the value.  It does not decide whether a value may be written
 * literally (the compiler's RLC3006, the CLI's RLC3150) nor parse it. */
#ifndef RLC_SECRET_H
#define RLC_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "rerr.h"

/* Largest secret file read; a bigger one is refused rather than read. */
#define SECRET_FILE_MAX 65536

/* Resolves a plan setting into out (n bytes, NUL-terminated): "" when
 * setting is NULL (absent).  A file's value is its first line, without
 * the line end.  what names it in messages ("password", "store URL").
 * Returns false with RLC3157 in e (also for a setting of another shape);
 * out is then "". */
bool secret_resolve(const json_t *setting, const char *what, char *out, size_t n, rerr *e);

/* The same for a command-line spec: "env:VAR", "file:PATH", else the
 * literal text. */
bool secret_resolve_spec(const char *spec, const char *what, char *out, size_t n, rerr *e);

/* Overwrites a resolved value (before its memory is freed or reused). */
void secret_wipe(char *s, size_t n);

#endif
