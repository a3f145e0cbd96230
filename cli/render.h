/* render.h - turns diagnostics into text for people or JSON for tools.
 * The only place that knows how a diagnostic looks on a terminal. */
#ifndef RLC_RENDER_H
#define RLC_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "diag.h"
#include "source.h"

typedef enum diag_format { FMT_TEXT, FMT_JSON, FMT_SARIF, FMT_GITHUB } diag_format;

typedef struct render_opts {
    bool color;
    diag_format format;
} render_opts;

/* Appends one diagnostic in human form: location, severity, code, message,
 * the source line with an underline, then each note the same way. */
void render_text(buf *out, srcmap *map, const diag *d, bool color);
/* Appends one diagnostic as a single-line JSON object (no newline). */
void render_json(buf *out, srcmap *map, const diag *d);
/* Writes every diagnostic of l to fp in the chosen format, then (text only)
 * the count line "rlc: 2 errors, 1 warning".  Returns nothing; the caller
 * decides the exit code from l's counts. */
void render_all(FILE *fp, srcmap *map, diag_list *l, const render_opts *o);
/* "file:line:col" of a span (file name only when the span has no file). */
void render_location(buf *out, srcmap *map, span sp);
/* Whether color should be used on fp: a TTY, NO_COLOR unset. */
bool render_color_auto(FILE *fp);

#endif
