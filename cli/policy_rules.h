/* policy_rules.h - what `rlc simulate` and `rlc test` start from: the rules
 * of a policy, given either as .rlp sources (checked and planned in memory,
 * nothing written) or as a compiled plan.json. */
#ifndef RLC_POLICY_RULES_H
#define RLC_POLICY_RULES_H

#include <stdbool.h>

#include <jansson.h>

#include "model.h"
#include "program.h"
#include "render.h"
#include "rules.h"

typedef struct policy_rules {
    program p;          /* .rlp input: the sources, AST and diagnostics */
    bool have_program;
    m_policy *m;        /* .rlp input: the model (tests live here) */
    json_t *plan;       /* the plan (unsealed when built from sources) */
    rl_ruleset rs;
} policy_rules;

/* Loads paths (one plan.json, or .rlp files).  Diagnostics are rendered
 * with ro to stderr.  Returns EXIT_OK with *out filled, else the exit code
 * (EXIT_FAIL for errors in the policy, EXIT_USAGE for unreadable input). */
int policy_rules_load(const char *verbname, char *const *paths, int n, const render_opts *ro,
                      policy_rules *out);
void policy_rules_free(policy_rules *pr);

#endif
