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

/* Warnings and notes shown in any format, after sorting (errors are
 * capped as they are added, DIAG_MAX_ERRORS); the rest are only counted,
 * and the output says how many were not shown. */
#define RENDER_MAX_WARNINGS 100

/* For a walk over diagnostics in output order: whether d is shown.  *seen
 * counts the warnings and notes met so far (start it at 0). */
static inline bool render_shown(const diag *d, size_t *seen)
{
    return d->sev == SEV_ERROR || (*seen)++ < RENDER_MAX_WARNINGS;
}
/* How many of the *seen warnings and notes were not shown. */
static inline size_t render_hidden(size_t seen)
{
    return seen > RENDER_MAX_WARNINGS ? seen - RENDER_MAX_WARNINGS : 0;
}
/* "N not shown: only the first 100 warnings and notes are" into out. */
void render_hidden_text(buf *out, size_t hidden);

/* Appends one diagnostic in human form: location, severity, code, message,
 * the source line with an underline, then each note the same way. */
void render_text(buf *out, srcmap *map, const diag *d, bool color);
/* Appends one diagnostic as a single-line JSON object (no newline). */
void render_json(buf *out, srcmap *map, const diag *d);
/* Writes the diagnostics of l to fp in the chosen format (every error, the
 * first RENDER_MAX_WARNINGS warnings and notes), then (text) the count line
 * "rlc: 2 errors, 1 warning" or (JSON, only when some were not shown) a
 * line {"not_shown":{"warnings_and_notes":N,"limit":100}}.  Returns nothing; the caller
 * decides the exit code from l's counts. */
void render_all(FILE *fp, srcmap *map, diag_list *l, const render_opts *o);
/* "file:line:col" of a span (file name only when the span has no file). */
void render_location(buf *out, srcmap *map, span sp);
/* Whether color should be used on fp: a TTY, NO_COLOR unset. */
bool render_color_auto(FILE *fp);

#endif
