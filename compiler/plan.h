/* plan.h - turns a checked policy into the plan document that `rlc run`
 * deploys (SPEC.md section 5; what the runtime relies on is plan/).  The
 * plan is a jansson object built here, sealed with its digest, and written
 * as canonical JSON; its tenants (nearly all of a large plan) are written as
 * canonical text directly, without a tree.  Nothing here touches a store or
 * prints.
 *
 * Typical use (cli/cmd_compile.c):
 *
 *     buf tenants;  buf_init(&tenants, BUF_DEFAULT_MAX);
 *     json_t *plan = plan_build_text(m, &prog, &opts, &prog.diags, &tenants);  // NULL on errors
 *     ... fill verify[i].expect with the simulator ...
 *     plan_seal_write_text(plan, &tenants, "plan.json", err, sizeof err);    // atomic
 *     json_decref(plan);  buf_free(&tenants);
 *
 * `rlc test` and `rlc simulate` may call plan_build and read "tenants"
 * (rules sorted by id, each with its path and route) without sealing. */
#ifndef RLC_PLAN_H
#define RLC_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "model.h"
#include "plan_check.h"
#include "plan_digest.h"
#include "program.h"

typedef struct plan_opts {
    const char *compiler;      /* "rlc 0.1.0"; NULL: "rlc unknown" */
    /* The enforcement library's source.  NULL: the embedded enforce.lua
     * (RLC3003 when this build has none).  Tests pass their own. */
    const char *library_source;
    size_t library_len;
    /* For `rlc test` and `rlc simulate`, which only read "policy" and
     * "tenants": a policy block and a target are then not required. */
    bool rules_only;
} plan_opts;

/* Builds the plan of a checked policy.  Borrows m and p.  Plan-level
 * problems (RLC30xx) are added to d with their spans; returns NULL when any
 * was an error, else a new reference (caller decrefs) with no plan_digest
 * yet.  Call only when the check pipeline left no errors. */
json_t *plan_build(const m_policy *m, const program *p, const plan_opts *o, diag_list *d);

/* plan_build for `rlc compile`, which must not hold a 100 000-tenant plan
 * as a jansson tree (gigabytes): the tenants are appended to *tenants as
 * their canonical text, the whole array "[...]" (the bytes json_dumps
 * would give for plan_build's "tenants"), and the returned plan's "tenants"
 * holds only the tenants that the verification cases name, as trees, which
 * is what predicting the cases reads.  Seal and write it with
 * plan_seal_write_text. */
json_t *plan_build_text(const m_policy *m, const program *p, const plan_opts *o, diag_list *d,
                        buf *tenants);

/* Seals a plan from plan_build_text (sets plan_digest, replacing any) and
 * writes its canonical text to path ("-" is stdout) atomically: a temp file
 * in the same directory, fsync, rename, fsync of the directory; never a
 * partial or temp file, and an existing file is untouched on failure.  The
 * written plan has the tenants text in place of the tree's "tenants" (which
 * is left as it was), and plan_digest covers it; the plan is serialised
 * once.  Returns false with a message in err. */
bool plan_seal_write_text(json_t *plan, const buf *tenants, const char *path, char *err,
                          size_t errlen);

/* The identity of a limit (SPEC.md 5.5) into out (PLAN_RULE_ID_LEN + 1).
 * kind: "rate" or "concurrency"; s: the subject holding it; r: its route or
 * NULL; algorithm: its name or "concurrency"; window_ms: 0 for
 * concurrency. */
void plan_rule_id(const char *kind, const m_subject *s, const m_route *r, const char *algorithm,
                  int64_t window_ms, char out[PLAN_RULE_ID_LEN + 1]);

#endif
