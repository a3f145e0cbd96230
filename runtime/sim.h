/* sim.h - the decision engine on a virtual clock: what the Redis library
 * (stdlib/enforce.lua) decides, computed in-process from the same rules.
 * `rlc simulate`, `rlc test`, the plan's verification cases and the
 * differential test use it.  Counter state is keyed by (tenant, rule id),
 * exactly like the Redis counter keys, so replacing the rules (a redeploy)
 * keeps the counters of every rule whose identity did not change.
 *
 * The caller supplies the time of every request; the engine never reads a
 * clock.  Not thread-safe: one engine per thread. */
#ifndef RLC_SIM_H
#define RLC_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algo.h"
#include "rules.h"

/* Most rules one request may touch (all subjects on its path, all routes). */
#define SIM_MAX_APPLICABLE 256
/* Longest lease token accepted. */
#define SIM_MAX_TOKEN 128

typedef enum sim_status {
    SIM_OK = 0,
    SIM_NO_TENANT,     /* no rules deployed for the tenant (Redis: RLC_NOCONFIG) */
    SIM_BAD_ARG,       /* cost out of range, negative time, bad path, token too long */
    SIM_TOO_MANY,      /* more than SIM_MAX_APPLICABLE rules apply */
} sim_status;

/* What one applicable rule said about a request. */
typedef struct sim_outcome {
    const rl_rule *rule;
    bool admit;          /* this rule alone would admit */
    bool charged;        /* the request was admitted and this rule charged */
    int64_t remaining, reset_ms, retry_ms;
    int64_t used;        /* concurrency: leases held after the request */
} sim_outcome;

typedef struct sim_decision {
    bool allowed;
    const rl_rule *rule;     /* the deciding rule (SPEC.md 6.3), or NULL */
    int64_t remaining;       /* -1 when no non-shadow rule applies */
    int64_t reset_ms;
    int64_t retry_ms;        /* 0 when allowed; -1 never */
    int64_t now_ms;
    char lease[SIM_MAX_TOKEN + 1];  /* acquired lease token, or "" */
    const rl_rule *shadow[SIM_MAX_APPLICABLE];  /* shadow rules that would reject */
    size_t nshadow;
    const sim_outcome *outcomes;    /* every applicable rule, evaluation order; */
    size_t noutcomes;               /* valid until the next call */
} sim_decision;

typedef struct sim sim;

/* Returns a new engine deciding by rs (borrowed: must outlive the engine or
 * the next sim_set_rules). */
sim *sim_new(const rl_ruleset *rs);
void sim_free(sim *s);                /* accepts NULL */
/* Replaces the rules, as a redeploy does: counters of rules with the same
 * (tenant, id) carry over, others start empty. */
void sim_set_rules(sim *s, const rl_ruleset *rs);

/* Decides one request.  path: "group:a/key:b" below the tenant ("" for the
 * tenant itself); method/route may be NULL; lease_id: the caller's token
 * for concurrency leases, or NULL/"" to have one made ("<now>-<seq>"). */
sim_status sim_decide(sim *s, const char *tenant, const char *path, const char *method,
                      const char *route, int64_t cost, int64_t now_ms, const char *lease_id,
                      sim_decision *out);
/* Releases lease token from every concurrency rule that applies to the
 * request at time now_ms (leases expired by then are dropped first, as in
 * decide); *released = how many live leases were removed. */
sim_status sim_release(sim *s, const char *tenant, const char *path, const char *method,
                       const char *route, const char *lease_id, int64_t now_ms,
                       int64_t *released);

/* Pre-resolved requests, for hot loops (the bench): the rules that apply to
 * (tenant, path, method, route), resolved once. */
typedef struct sim_req sim_req;
sim_req *sim_resolve(sim *s, const char *tenant, const char *path, const char *method,
                     const char *route);
void sim_req_free(sim_req *r);
sim_status sim_decide_req(sim *s, const sim_req *r, int64_t cost, int64_t now_ms,
                          sim_decision *out);

const char *sim_status_text(sim_status st);

#endif
