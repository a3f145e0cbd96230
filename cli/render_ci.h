/* render_ci.h - diagnostics for CI systems: SARIF 2.1.0 for code scanning
 * (render_sarif.c) and GitHub workflow annotations (render_github.c). */
#ifndef RLC_RENDER_CI_H
#define RLC_RENDER_CI_H

#include <stdio.h>

#include "render.h"
#include "suppress.h"

/* The diagnostics of one compilation, for render_sarif. */
typedef struct sarif_input {
    srcmap *map;
    diag_list *diags;
    const suppressed_list *sup;   /* may be NULL */
} sarif_input;

/* Writes one SARIF log (one run) with every diagnostic of each of the n
 * compilations, then every suppressed one (with its reason), in order.
 * Sorts each diagnostic list. */
void render_sarif(FILE *fp, const sarif_input *in, size_t n, const char *version);
/* Writes one workflow command line per diagnostic.  Sorts l. */
void render_github(FILE *fp, srcmap *map, diag_list *l);
/* Appends a source file name as a relative, forward-slash URI. */
void ci_relative_uri(buf *out, const char *name);
/* Whether a span has a file to point at. */
bool ci_located(srcmap *map, span sp);

#endif
