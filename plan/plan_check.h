/* plan_check.h - what a plan may hold, in one place for the compiler, which
 * writes only such plans, and the runtime, which refuses any other: a plan
 * file can be edited and sealed again with a fresh digest, so the runtime
 * trusts nothing the compiler checked (SPEC.md 5.3).  Limits and
 * predicates only; the messages and codes are each side's own. */
#ifndef RLC_PLAN_CHECK_H
#define RLC_PLAN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Namespace: 1 to 64 of [A-Za-z0-9_.-] (it prefixes every key, and a '{',
 * '}' or ':' in it would change every key's hash tag). */
#define PLAN_NS_MAX 64
/* Longest tenant, subject, policy or target name: a decoded string of the
 * language (PARSE_MAX_STRING; compiler/model.c asserts they agree). */
#define PLAN_NAME_MAX 4096
/* Ranges of the language (SPEC.md 2.9), which the runtime holds a loaded
 * plan to as well. */
#define PLAN_WINDOW_MIN_MS 1
#define PLAN_WINDOW_MAX_MS (366LL * 86400 * 1000)
#define PLAN_LEASE_MAX_MS (86400LL * 1000)
#define PLAN_SKEW_MAX_MS (3600LL * 1000)
/* Deepest subject path: tenant, groups and keys, 8 levels (RLC1037). */
#define PLAN_DEPTH_MAX 8
/* Largest max(count, burst) x window_ms, and cost x window_ms, a rule may
 * have: 2^51 keeps every intermediate of the decision arithmetic below 2^53,
 * exact in C's int64 and in Lua's doubles alike (RLC1034, SPEC.md 6.4). */
#define PLAN_PRODUCT_MAX (1LL << 51)
/* Largest integer that C int64 and Lua's doubles both hold exactly. */
#define PLAN_EXACT_INT_MAX (1LL << 53)
/* Most entries the log of an exact sliding window may keep, counted by
 * plan_log_entries (RLC1050, SPEC.md 6.4); above PLAN_LOG_WARN it costs
 * enough server time and memory per counter to be worth a warning
 * (RLC2009). */
#define PLAN_LOG_MAX 10000
#define PLAN_LOG_WARN 1000
/* Length of a rule id: 16 hex digits (64 bits of SHA-256, SPEC.md 5.5). */
#define PLAN_RULE_ID_LEN 16
/* Verification: at most this many tenants, requests per tenant, and
 * decisions per request (SPEC.md 5.6). */
#define PLAN_VERIFY_MAX_TENANTS 32
#define PLAN_VERIFY_PER_TENANT 3
#define PLAN_VERIFY_MAX_CASES (PLAN_VERIFY_MAX_TENANTS * PLAN_VERIFY_PER_TENANT)
#define PLAN_VERIFY_MAX_SENDS 32
/* Longest "rlc X.Y.Z" compiler string. */
#define PLAN_COMPILER_MAX 64

/* Entries the log of an exact sliding window of count per window_ms, each
 * request charging cost, can hold at once: min(count / cost, window_ms)
 * (each entry holds at least one request's charge, and no two entries
 * share a millisecond of the trailing window). */
int64_t plan_log_entries(int64_t count, int64_t window_ms, int64_t cost);

/* Whether ns (NUL-terminated) is a namespace the compiler accepts. */
bool plan_namespace_ok(const char *ns);

/* Whether m is one of the route methods: GET HEAD POST PUT PATCH DELETE
 * OPTIONS ANY. */
bool plan_method_ok(const char *m);
/* The method names, for suggestions; *n receives their count. */
const char *const *plan_methods(size_t *n);

/* NULL when path is a route path the compiler accepts ('/' first, no
 * space, control character, '?' or '#', no empty segment, '*' only as a
 * whole segment); else what is wrong with it, as a phrase. */
const char *plan_route_problem(const char *path);

/* Parses a version: exactly the grammar of semver 2.0.0,
 * MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], numbers below 10^9 without a
 * leading zero, nothing after it.  False for anything else. */
bool plan_version_parse(const char *s, long *maj, long *min, long *patch);
/* The same for a plan's compiler field, "rlc X.Y.Z". */
bool plan_compiler_parse(const char *s, long *maj, long *min, long *patch);

#endif
