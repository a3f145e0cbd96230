/* render_ci.h - diagnostics for CI systems: SARIF 2.1.0 for code scanning
 * (render_sarif.c) and GitHub workflow annotations (render_github.c). */
#ifndef RLC_RENDER_CI_H
#define RLC_RENDER_CI_H

#include <stdio.h>

#include "render.h"
#include "suppress.h"

/* Writes one SARIF log (one run) with every diagnostic of l, then every
 * suppressed one (with its reason); sup may be NULL.  Sorts l. */
void render_sarif(FILE *fp, srcmap *map, diag_list *l, const suppressed_list *sup,
                  const char *version);
/* Writes one workflow command line per diagnostic.  Sorts l. */
void render_github(FILE *fp, srcmap *map, diag_list *l);
/* Appends a source file name as a relative, forward-slash URI. */
void ci_relative_uri(buf *out, const char *name);
/* Whether a span has a file to point at. */
bool ci_located(srcmap *map, span sp);

#endif
