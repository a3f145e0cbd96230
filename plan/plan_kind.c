/* plan_kind.c - the table of kinds.  See plan_kind.h. */
#include "plan_kind.h"

#include <string.h>

/* Names first, in the enum's order: the first PLAN_NALGOS are the
 * algorithms, which is also the array suggest() takes. */
static const char *const names[] = {
    [PLAN_TOKEN_BUCKET] = "token_bucket",
    [PLAN_GCRA] = "gcra",
    [PLAN_SLIDING_WINDOW] = "sliding_window",
    [PLAN_FIXED_WINDOW] = "fixed_window",
    [PLAN_APPROX_SLIDING_WINDOW] = "approx_sliding_window",
    [PLAN_CONCURRENCY] = "concurrency",
};

static const struct {
    const char *identity;
    char code;
    bool burst;
} kinds[] = {
    [PLAN_TOKEN_BUCKET] = {"token_bucket", 'T', true},
    [PLAN_GCRA] = {"gcra", 'G', true},
    [PLAN_SLIDING_WINDOW] = {"sliding_log", 'L', false},
    [PLAN_FIXED_WINDOW] = {"fixed_window", 'F', false},
    [PLAN_APPROX_SLIDING_WINDOW] = {"sliding_window", 'S', false},
    [PLAN_CONCURRENCY] = {"concurrency", 'C', false},
};

const char *plan_kind_name(plan_kind k) { return names[k]; }
const char *plan_kind_identity(plan_kind k) { return kinds[k].identity; }
char plan_kind_code(plan_kind k) { return kinds[k].code; }
bool plan_kind_has_burst(plan_kind k) { return kinds[k].burst; }
const char *const *plan_algo_names(void) { return names; }

bool plan_algo_parse(const char *s, size_t n, plan_kind *out)
{
    for (int k = 0; k < PLAN_NALGOS; k++)
        if (strlen(names[k]) == n && !memcmp(names[k], s, n)) {
            *out = (plan_kind)k;
            return true;
        }
    return false;
}
