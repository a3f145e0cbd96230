/* check_report.h - `rlc check --report`: the worst-case bound table and the
 * list of suppressed diagnostics. */
#ifndef RLC_CHECK_REPORT_H
#define RLC_CHECK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"
#include "render.h"
#include "suppress.h"

/* Writes the report of m to fp: a table (json = false) or one JSON object
 * on one line {"report": {...}}. */
void check_report(FILE *fp, srcmap *map, const m_policy *m, const suppressed_list *sup,
                  bool json);

#endif
