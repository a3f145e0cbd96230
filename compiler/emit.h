/* emit.h - the emit targets (SPEC.md 9): `target envoy_ratelimit` and
 * `target limitador` write the configuration file of Envoy's ratelimit
 * service or of Limitador from the policy.  This module checks that a
 * policy with such a target says nothing those formats cannot carry
 * (RLC4050-RLC4068, each at the offending limit, route or subject) and
 * writes the file's text with libyaml's emitter; the plan carries the text
 * in the target's write_file step, and the runtime (target_emit.c) only
 * writes it.  It does not read YAML (that is `rlc import`). */
#ifndef RLC_EMIT_H
#define RLC_EMIT_H

#include <stdbool.h>

#include "buf.h"
#include "diag.h"
#include "model.h"

/* Whether targets of kind k are emit targets. */
bool emit_kind(target_kind k);

/* Checks the policy against the formats of its emit targets (none: does
 * nothing).  Borrows m; located errors go to d, one per construct and
 * code however many subjects share it (a tier's limit). */
void emit_check(const m_policy *m, diag_list *d);

/* Appends the whole file of emit target t (a header comment line, then
 * the YAML) to out.  Call only when emit_check found no error.  Borrows
 * m and t.  False with a message in err when libyaml refuses an event
 * (out is then incomplete). */
bool emit_file(const m_policy *m, const m_target *t, buf *out, char *err, size_t errlen);

#endif
