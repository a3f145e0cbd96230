/* sim.c - the in-process decision engine (see sim.h).  The order of
 * operations mirrors decide() in stdlib/enforce.lua step by step: collect
 * the applicable rules (subjects from the tenant down, each subject's rules
 * by id, route filter), evaluate each on its current state, commit all or
 * none, then pick the deciding rule.  Counter state lives in a hash table
 * keyed by "tenant\0rule id" that outlives rule sets, like Redis keys. */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_key.h"
#include "xalloc.h"

/* ---- counter slots ---------------------------------------------------- */

typedef struct lease {
    char *token;
    int64_t expiry;
} lease;

typedef struct slot {
    char *key;               /* "tenant\0id<values>" (len bytes) */
    size_t keylen;
    int64_t seq;             /* the slot "tenant\0": lease tokens made */
    rl_state st;
    lease *leases;           /* concurrency rules only */
    size_t nleases, cap;
} slot;

typedef struct slot_map {
    slot **v;
    size_t n, cap;           /* cap: power of two */
} slot_map;

static uint64_t hash_bytes(const char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}
#define HASH_INIT 14695981039346656037ULL

/* The counter of rule id for tenant; vals (vl bytes, may be 0) are the
 * request's names at the rule's template levels, as in the Redis key. */
static slot *slot_get_vals(slot_map *m, const char *tenant, const char *id, const char *vals,
                           size_t vl)
{
    size_t tl = strlen(tenant), il = strlen(id), kl = tl + 1 + il + vl;
    uint64_t h = hash_bytes(vals, vl, hash_bytes(id, il, hash_bytes(tenant, tl + 1, HASH_INIT)));
    if (m->cap == 0 || (m->n + 1) * 4 > m->cap * 3) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        slot **nv = xcalloc(1, nc * sizeof *nv);
        for (size_t i = 0; i < m->cap; i++) {
            slot *s = m->v[i];
            if (!s)
                continue;
            size_t j = hash_bytes(s->key, s->keylen, HASH_INIT) & (nc - 1);
            while (nv[j])
                j = (j + 1) & (nc - 1);
            nv[j] = s;
        }
        free(m->v);
        m->v = nv;
        m->cap = nc;
    }
    size_t j = h & (m->cap - 1);
    for (; m->v[j]; j = (j + 1) & (m->cap - 1)) {
        slot *s = m->v[j];
        if (s->keylen == kl && !memcmp(s->key, tenant, tl + 1) &&
            !memcmp(s->key + tl + 1, id, il) && (!vl || !memcmp(s->key + tl + 1 + il, vals, vl)))
            return s;
    }
    slot *s = xcalloc(1, sizeof *s);
    s->key = xcalloc(1, kl + 1);
    memcpy(s->key, tenant, tl + 1);
    memcpy(s->key + tl + 1, id, il);
    if (vl)
        memcpy(s->key + tl + 1 + il, vals, vl);
    s->keylen = kl;
    m->v[j] = s;
    m->n++;
    return s;
}

static slot *slot_get(slot_map *m, const char *tenant, const char *id)
{
    return slot_get_vals(m, tenant, id, NULL, 0);
}

static void slot_map_free(slot_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        slot *s = m->v[i];
        if (!s)
            continue;
        for (size_t k = 0; k < s->nleases; k++)
            free(s->leases[k].token);
        free(s->leases);
        algo_state_clear(&s->st);
        free(s->key);
        free(s);
    }
    free(m->v);
}

/* ---- subject index: (tenant, subject) -> run of rules ------------------ */

typedef struct subj_entry {
    uint32_t tenant;
    const char *subject;
    size_t len;
    uint32_t first, count;   /* in the tenant's rules array */
} subj_entry;

struct sim_req {
    uint32_t tenant;         /* index in rs->tenants; ntenants: tenant * */
    char name[PLAN_NAME_MAX + 1];  /* the tenant the request names */
    size_t n;
    const rl_rule *rules[SIM_MAX_APPLICABLE];
    slot *slots[SIM_MAX_APPLICABLE];
    bool too_many;
};

struct sim {
    const rl_ruleset *rs;
    slot_map slots;
    slot ***tslots;          /* [tenant][rule]: listed tenants' own counters */
    subj_entry *subj;        /* open addressing */
    size_t subj_cap;
    sim_req req;             /* the request being decided (large: not on the stack) */
    sim_outcome outs[SIM_MAX_APPLICABLE];
    slot *outslots[SIM_MAX_APPLICABLE];
    rl_verdict verdicts[SIM_MAX_APPLICABLE];
};


static uint64_t subj_hash(uint32_t t, const char *s, size_t n)
{
    return hash_bytes(s, n, HASH_INIT ^ ((uint64_t)t * 0x9E3779B97F4A7C15ULL));
}

static const subj_entry *subj_find(const sim *s, uint32_t t, const char *p, size_t n)
{
    if (!s->subj_cap)
        return NULL;
    size_t j = subj_hash(t, p, n) & (s->subj_cap - 1);
    for (; s->subj[j].subject; j = (j + 1) & (s->subj_cap - 1)) {
        const subj_entry *e = &s->subj[j];
        if (e->tenant == t && e->len == n && !memcmp(e->subject, p, n))
            return e;
    }
    return NULL;
}

static const rl_tenant *tenant_at(const rl_ruleset *rs, uint32_t t)
{
    return t < rs->ntenants ? &rs->tenants[t] : rs->any_tenant;
}

/* Adds (t, subject[0..n)) with its run of rules, unless it is there: a
 * subject without rules of its own is entered (count 0) for every subject
 * below it, since a request's path is resolved level by level (a listed
 * subject hides the template beside it, SPEC.md 2.3). */
static void subj_add(sim *s, uint32_t t, const char *subject, size_t n, uint32_t first,
                     uint32_t count)
{
    size_t j = subj_hash(t, subject, n) & (s->subj_cap - 1);
    for (; s->subj[j].subject; j = (j + 1) & (s->subj_cap - 1)) {
        subj_entry *e = &s->subj[j];
        if (e->tenant == t && e->len == n && !memcmp(e->subject, subject, n)) {
            if (count)
                e->first = first, e->count = count;
            return;
        }
    }
    s->subj[j] = (subj_entry){t, subject, n, first, count};
}

static void index_tenant(sim *s, uint32_t t, const rl_tenant *ten)
{
    for (size_t i = 0; i < ten->nrules; i++) {
        const rl_rule *r = &ten->rules[i];
        /* Rules are sorted by (depth, subject, id): one run per subject. */
        if (i > 0 && !strcmp(ten->rules[i - 1].subject, r->subject))
            continue;
        uint32_t count = 0;
        while (i + count < ten->nrules && !strcmp(ten->rules[i + count].subject, r->subject))
            count++;
        size_t n = strlen(r->subject);
        subj_add(s, t, r->subject, n, (uint32_t)i, count);
        for (size_t k = n; k > 0; k--)
            if (r->subject[k - 1] == '/')
                subj_add(s, t, r->subject, k - 1, 0, 0);
    }
}

static void index_rules(sim *s)
{
    const rl_ruleset *rs = s->rs;
    size_t total = 0;
    for (size_t t = 0; t <= rs->ntenants; t++)
        total += tenant_at(rs, (uint32_t)t) ? tenant_at(rs, (uint32_t)t)->nrules : 0;
    s->subj_cap = 16;
    /* Each rule may enter its subject and each of its up to 7 prefixes. */
    while (s->subj_cap < total * 2 * PLAN_DEPTH_MAX)
        s->subj_cap *= 2;
    s->subj = xcalloc(1, s->subj_cap * sizeof *s->subj);
    s->tslots = xcalloc(1, (rs->ntenants + 1) * sizeof *s->tslots);
    for (size_t t = 0; t < rs->ntenants; t++) {
        const rl_tenant *ten = &rs->tenants[t];
        s->tslots[t] = xcalloc(1, (ten->nrules + 1) * sizeof **s->tslots);
        for (size_t i = 0; i < ten->nrules; i++)
            if (!ten->rules[i].any_mask)
                s->tslots[t][i] = slot_get(&s->slots, ten->name, ten->rules[i].id);
        index_tenant(s, (uint32_t)t, ten);
    }
    if (rs->any_tenant)
        index_tenant(s, (uint32_t)rs->ntenants, rs->any_tenant);
}

static void unindex_rules(sim *s)
{
    if (s->rs)
        for (size_t t = 0; t < s->rs->ntenants; t++)
            free(s->tslots[t]);
    free(s->tslots);
    free(s->subj);
    s->tslots = NULL;
    s->subj = NULL;
    s->subj_cap = 0;
}

sim *sim_new(const rl_ruleset *rs)
{
    sim *s = xcalloc(1, sizeof *s);
    s->rs = rs;
    index_rules(s);
    return s;
}

void sim_set_rules(sim *s, const rl_ruleset *rs)
{
    /* Counters and lease sequences live in slots, by tenant name, and
     * outlive rule sets as Redis keys do. */
    unindex_rules(s);
    s->rs = rs;
    index_rules(s);
}

void sim_free(sim *s)
{
    if (!s)
        return;
    unindex_rules(s);
    slot_map_free(&s->slots);
    free(s);
}

const char *sim_status_text(sim_status st)
{
    switch (st) {
    case SIM_OK: return "ok";
    case SIM_NO_TENANT: return "no rules deployed for this tenant";
    case SIM_BAD_ARG: return "bad request argument";
    case SIM_TOO_MANY: return "too many rules apply to one request";
    }
    return "?";
}

/* ---- resolution -------------------------------------------------------- */

/* Longest PATH and active key the library takes (SPEC.md 6.3): a request
 * names its own values, so what it can make the store build is bounded. */
#define SIM_PATH_MAX 1024
#define SIM_ACTIVE_KEY_MAX PLAN_KEY_MAX

/* The tenant index deciding name: listed, else tenant * (ntenants). */
static bool tenant_index(const rl_ruleset *rs, const char *name, uint32_t *out)
{
    const rl_tenant *t = rules_tenant(rs, name);
    if (t) {
        *out = (uint32_t)(t - rs->tenants);
        return true;
    }
    if (!rs->any_tenant)
        return false;
    *out = (uint32_t)rs->ntenants;
    return true;
}

/* Adds the rules of subject p[0..n) that match the route; vals[0..vl) are
 * the request's names at the template levels down to it, which name the
 * counters of a template's rules. */
static void add_subject(sim *s, sim_req *q, const subj_entry *e, const char *vals, size_t vl,
                        const char *method, const char *route)
{
    const rl_tenant *t = tenant_at(s->rs, q->tenant);
    for (uint32_t i = e->first; i < e->first + e->count; i++) {
        const rl_rule *r = &t->rules[i];
        if (!rules_route_matches(r, method, route))
            continue;
        if (q->n == SIM_MAX_APPLICABLE) {
            q->too_many = true;
            return;
        }
        q->rules[q->n] = r;
        q->slots[q->n] = q->tenant < s->rs->ntenants && !r->any_mask
                             ? s->tslots[q->tenant][i]
                             : slot_get_vals(&s->slots, q->name, r->id, vals, vl);
        q->n++;
    }
}

/* Fills q for the request; false on a malformed path.  Level by level
 * (SPEC.md 2.3): the listed subject of the segment's kind and name, else
 * the template of that kind ("key*"), else nothing from there down. */
static bool resolve(sim *s, uint32_t tenant, const char *name, const char *path,
                    const char *method, const char *route, sim_req *q)
{
    q->tenant = tenant;
    q->n = 0;
    q->too_many = false;
    if (!path)
        path = "";
    size_t plen = strlen(path), nlen = strlen(name);
    if (plen > SIM_PATH_MAX || nlen > PLAN_NAME_MAX ||
        plan_key_tag_into(NULL, 0, s->rs->ns, name) + sizeof PLAN_KEY_ACTIVE - 1 >
            SIM_ACTIVE_KEY_MAX)
        return false;
    memcpy(q->name, name, nlen + 1);
    char cur[SIM_PATH_MAX + 8];      /* the resolved subject: "group:a/key*" */
    char vals[3 * SIM_PATH_MAX + 8]; /* "/v1/v2": template levels' names */
    size_t cl = 0, vl = 0;
    const subj_entry *e = subj_find(s, tenant, "", 0);
    if (e)
        add_subject(s, q, e, vals, 0, method, route);
    bool live = true;               /* still on a subject the policy has */
    int depth = 1;
    for (size_t i = 0; plen > 0;) {
        size_t j = i;
        while (j < plen && path[j] != '/')
            j++;
        const char *seg = path + i;
        size_t sl = j - i;
        const char *colon = memchr(seg, ':', sl);
        size_t kl = colon ? (size_t)(colon - seg) : 0;
        if (!colon || colon + 1 == seg + sl ||
            !((kl == 5 && !memcmp(seg, "group", 5)) || (kl == 3 && !memcmp(seg, "key", 3))))
            return false;   /* a segment is group:NAME or key:NAME */
        if (++depth > PLAN_DEPTH_MAX)
            return false;
        if (live) {
            size_t base = cl;
            if (cl)
                cur[cl++] = '/';
            memcpy(cur + cl, seg, sl);
            e = subj_find(s, tenant, cur, cl + sl);
            if (e) {
                cl += sl;
            } else {
                cl = base;
                if (cl)
                    cur[cl++] = '/';
                memcpy(cur + cl, seg, kl);
                cur[cl + kl] = '*';
                e = subj_find(s, tenant, cur, cl + kl + 1);
                cl += kl + 1;
                if (e) {
                    /* The name as sent, ':' encoded too, so that the
                     * counter's ":log" can never be part of a name. */
                    vals[vl++] = '/';
                    for (const char *c = colon + 1; c < seg + sl; c++) {
                        if (*c == ':') {
                            memcpy(vals + vl, "%3A", 3);
                            vl += 3;
                        } else {
                            vals[vl++] = *c;
                        }
                    }
                }
            }
            if (e)
                add_subject(s, q, e, vals, vl, method, route);
            else
                live = false;
        }
        if (j >= plen)
            break;
        i = j + 1;
        if (i == plen)
            return false;   /* a trailing '/': an empty segment */
    }
    return true;
}

sim_req *sim_resolve(sim *s, const char *tenant, const char *path, const char *method,
                     const char *route)
{
    uint32_t t;
    if (!tenant_index(s->rs, tenant, &t))
        return NULL;
    sim_req *q = xcalloc(1, sizeof *q);
    if (!resolve(s, t, tenant, path, method, route, q)) {
        free(q);
        return NULL;
    }
    return q;
}

void sim_req_free(sim_req *r) { free(r); }

/* ---- concurrency -------------------------------------------------------- */

/* ZREMRANGEBYSCORE key -inf now */
static void leases_expire(slot *sl, int64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < sl->nleases; i++) {
        if (sl->leases[i].expiry <= now)
            free(sl->leases[i].token);
        else
            sl->leases[k++] = sl->leases[i];
    }
    sl->nleases = k;
}

static void conc_eval(const rl_rule *r, slot *sl, int64_t now, sim_outcome *o)
{
    leases_expire(sl, now);
    int64_t cnt = (int64_t)sl->nleases, latest = 0, earliest = 0;
    for (size_t i = 0; i < sl->nleases; i++) {
        int64_t e = sl->leases[i].expiry;
        if (i == 0 || e > latest)
            latest = e;
        if (i == 0 || e < earliest)
            earliest = e;
    }
    o->admit = cnt < r->max;
    o->remaining = r->max - cnt > 0 ? r->max - cnt : 0;
    o->reset_ms = cnt > 0 ? latest - now : 0;
    o->retry_ms = o->admit ? 0 : earliest - now;
    o->used = cnt;
    if (o->admit) {
        int64_t mine = now + r->lease_ms;
        o->reset_ms = (cnt > 0 && latest > mine ? latest : mine) - now;
    }
}

/* ZADD key now+lease token; returns 1 when the token was new. */
static int conc_acquire(const rl_rule *r, slot *sl, int64_t now, const char *token)
{
    for (size_t i = 0; i < sl->nleases; i++)
        if (!strcmp(sl->leases[i].token, token)) {
            sl->leases[i].expiry = now + r->lease_ms;
            return 0;
        }
    if (sl->nleases == sl->cap) {
        sl->cap = sl->cap ? sl->cap * 2 : 8;
        lease *nl = xrealloc(sl->leases, sl->cap * sizeof *nl);
        sl->leases = nl;
    }
    size_t n = strlen(token);
    char *t = xcalloc(1, n + 1);
    memcpy(t, token, n + 1);
    sl->leases[sl->nleases++] = (lease){t, now + r->lease_ms};
    return 1;
}

/* ---- deciding ----------------------------------------------------------- */

static sim_status decide(sim *s, const sim_req *q, int64_t cost, int64_t now,
                         const char *lease_id, sim_decision *d)
{
    if (q->too_many)
        return SIM_TOO_MANY;
    if (cost < 1 || cost > RL_MAX_REQUEST_COST || now < 0)
        return SIM_BAD_ARG;
    if (lease_id && strlen(lease_id) > SIM_MAX_TOKEN)
        return SIM_BAD_ARG;
    const int64_t skew = s->rs->skew_ms;
    bool blocked = false, any_conc = false;
    for (size_t i = 0; i < q->n; i++) {
        const rl_rule *r = q->rules[i];
        sim_outcome *o = &s->outs[i];
        o->rule = r;
        o->charged = false;
        if (r->kind == PLAN_CONCURRENCY) {
            conc_eval(r, q->slots[i], now, o);
        } else {
            rl_verdict *v = &s->verdicts[i];
            algo_rate(r, &q->slots[i]->st, cost, now, skew, v);
            o->admit = v->admit;
            o->remaining = v->remaining;
            o->reset_ms = v->reset_ms;
            o->retry_ms = v->retry_ms;
        }
        if (!o->admit && !r->shadow)
            blocked = true;
    }
    d->allowed = !blocked;
    d->now_ms = now;
    d->lease[0] = '\0';
    d->nshadow = 0;
    if (!blocked) {
        for (size_t i = 0; i < q->n; i++) {
            const rl_rule *r = q->rules[i];
            sim_outcome *o = &s->outs[i];
            if (!o->admit)
                continue;
            o->charged = true;
            if (r->kind != PLAN_CONCURRENCY) {
                algo_commit(r, &q->slots[i]->st, &s->verdicts[i]);
                continue;
            }
            if (!any_conc) {
                any_conc = true;
                if (lease_id && *lease_id)
                    snprintf(d->lease, sizeof d->lease, "%s", lease_id);
                else
                    snprintf(d->lease, sizeof d->lease, "%lld-%lld", (long long)now,
                             (long long)++slot_get(&s->slots, q->name, "")->seq);
            }
            int added = conc_acquire(r, q->slots[i], now, d->lease);
            o->remaining = r->max - o->used - added;
            o->used += added;
            if (o->remaining < 0)
                o->remaining = 0;
        }
    }
    /* The deciding rule: rejected -> the non-shadow rejecter that asks the
     * longest wait (never = -1 is longest); admitted -> the non-shadow rule
     * with the least remaining.  Ties go to the earlier rule. */
    const sim_outcome *best = NULL;
    for (size_t i = 0; i < q->n; i++) {
        const sim_outcome *o = &s->outs[i];
        const rl_rule *r = o->rule;
        if (r->shadow) {
            if (!o->admit)
                d->shadow[d->nshadow++] = r;
            continue;
        }
        if (blocked) {
            if (o->admit)
                continue;
            if (!best || (best->retry_ms != -1 && (o->retry_ms == -1 || o->retry_ms > best->retry_ms)))
                best = o;
        } else if (!best || o->remaining < best->remaining) {
            best = o;
        }
    }
    d->rule = best ? best->rule : NULL;
    d->remaining = best ? best->remaining : -1;
    d->reset_ms = best ? best->reset_ms : 0;
    d->retry_ms = blocked ? best->retry_ms : 0;
    d->outcomes = s->outs;
    d->noutcomes = q->n;
    return SIM_OK;
}

sim_status sim_decide_req(sim *s, const sim_req *r, int64_t cost, int64_t now_ms,
                          sim_decision *out)
{
    return decide(s, r, cost, now_ms, NULL, out);
}

sim_status sim_decide(sim *s, const char *tenant, const char *path, const char *method,
                      const char *route, int64_t cost, int64_t now_ms, const char *lease_id,
                      sim_decision *out)
{
    uint32_t t;
    if (!tenant_index(s->rs, tenant, &t))
        return SIM_NO_TENANT;
    if (!resolve(s, t, tenant, path, method, route, &s->req))
        return SIM_BAD_ARG;
    return decide(s, &s->req, cost, now_ms, lease_id, out);
}

sim_status sim_release(sim *s, const char *tenant, const char *path, const char *method,
                       const char *route, const char *lease_id, int64_t now_ms,
                       int64_t *released)
{
    *released = 0;
    uint32_t t;
    if (!tenant_index(s->rs, tenant, &t))
        return SIM_NO_TENANT;
    sim_req *q = &s->req;
    if (!resolve(s, t, tenant, path, method, route, q) || !lease_id || !*lease_id)
        return SIM_BAD_ARG;
    for (size_t i = 0; i < q->n; i++) {
        if (q->rules[i]->kind != PLAN_CONCURRENCY)
            continue;
        slot *sl = q->slots[i];
        leases_expire(sl, now_ms);
        for (size_t k = 0; k < sl->nleases; k++)
            if (!strcmp(sl->leases[k].token, lease_id)) {
                free(sl->leases[k].token);
                sl->leases[k] = sl->leases[--sl->nleases];
                ++*released;
                break;
            }
    }
    return SIM_OK;
}
