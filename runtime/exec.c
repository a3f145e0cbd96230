/* exec.c - the deploy executor: `rlc run`, and what the executor's verbs
 * share (exec_private.h).  See exec.h and SPEC.md section 7.
 *
 * The run drives seven phases over an array of targets through their
 * kinds' operations (target.h) and knows no kind.  The order, and why:
 *   state directory lock (held to the end: while it is held, nobody
 *   recovers this run's journal) -> recovery of an interrupted deploy
 *   -> [1/7] load, connect
 *   -> [2/7] preflight (health, permissions, clocks: a refusal writes
 *   nothing, not even the lock)
 *   -> [3/7] journal begin (fsynced, names the lock token and targets),
 *   lock; health of the stores checked under the lock; read the live state
 *   -> [4/7] checkpoint file -> journal "checkpoint" -> journal "apply"
 *   -> [5/7] marks ("a deploy is writing"), then each target's writes
 *   -> journal "verify" -> [6/7] verify
 *   -> [7/7] commit (each target reads back what it committed: only what
 *   reads back as written is "committed") -> journal "committed" -> audit
 *   -> journal "audited" -> unlock -> finish.
 * A failure before "apply" abandons the run (nothing but the lock was
 * written); at or after it, the checkpoint is restored.  Recovery
 * (exec_recover.c) reads the journal of a run whose process is gone. */
#include "exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "digest.h"
#include "exec_private.h"
#include "fault.h"
#include "plan_load.h"
#include "rand.h"
#include "xalloc.h"
#include "plan_sign.h"
#include "redact.h"

/* --- the context -------------------------------------------------------------- */

static void env_say(void *ud, const char *msg)
{
    xc *c = ud;
    if (c->o->progress)
        c->o->progress(c->o->ud, msg);
}

static bool env_expand(void *ud, rerr *e);
static bool env_expand_cases(void *ud, rerr *e);
static bool env_check_all(void *ud, rerr *e);

/* Renews every lock the run holds (each only when a third of its TTL has
 * passed). */
static bool env_renew(void *ud, rerr *e)
{
    xc *c = ud;
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->locked && !c->t[i]->kind->keepalive(c->t[i], false, e))
            return false;
    return true;
}

void xc_init(xc *c, const exec_opts *o)
{
    memset(c, 0, sizeof *c);
    c->o = o;
    c->env.digest = c->digest;
    c->env.run = c->run;
    c->env.token = c->token;
    c->env.state_dir = o->state_dir;
    c->env.known = &c->known;
    c->env.dry_run = o->dry_run;
    c->env.full_read = o->full_read;
    c->env.say = env_say;
    c->env.renew = env_renew;
    c->env.expand = env_expand;
    c->env.expand_cases = env_expand_cases;
    c->env.check_all = env_check_all;
    c->env.ud = c;
}

void xc_free(xc *c)
{
    for (size_t i = 0; i < c->nt; i++)
        c->t[i]->kind->free(c->t[i]);
    if (c->have_rs)
        rules_free(&c->rs);
    plan_text_release(&c->text);
    tknown_free(&c->known);
    free(c->vnames);
    free(c->cnames);
    free(c->opened);
    free(c->bfirst);
    free(c->dfr);
    json_decref(c->plan);
    json_decref(c->skipped);
    json_decref(c->tenants);
    free(c->clk.v);
    if (c->jopen && c->j.fd >= 0)
        close(c->j.fd);
}

/* The plan, its rules and what was read from the stores, left to the
 * process's exit, which gives it all back at once: freeing it block by
 * block and unmapping the plan and the rules' array cost a one-tenant
 * re-apply about 0.6 ms, most of it in munmap (page-table changes are dear
 * on the measured VM).  The targets are closed as xc_free closes them
 * (their connections shut, their secrets wiped).  The rest is kept
 * reachable from here, so that a leak checker does not count it lost; the
 * other verbs free the same structures with xc_free, under ASan and
 * valgrind. */
static xc *volatile left_at_exit;   /* volatile: written, never read */

void xc_leave(xc *c)
{
    for (size_t i = 0; i < c->nt; i++)
        c->t[i]->kind->free(c->t[i]);
    c->nt = 0;
    if (c->jopen && c->j.fd >= 0)
        close(c->j.fd);
    c->jopen = false;
    left_at_exit = xmalloc(sizeof *c);
    *left_at_exit = *c;
}

void xc_say(xc *c, const char *fmt, ...)
{
    if (!c->o->progress)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    str_mark_cut(msg, sizeof msg, vsnprintf(msg, sizeof msg, fmt, ap));
    va_end(ap);
    c->o->progress(c->o->ud, msg);
}

void xc_new_token(xc *c)
{
    unsigned char rb[16];
    if (!rand_fill(rb, sizeof rb))
        memset(rb, 0, sizeof rb);
    digest_hex(rb, sizeof rb, c->token);
}

/* --- plan ------------------------------------------------------------------ */

/* Whether the plan has targets whose kind reads each tenant's rules as
 * JSON (c->tenants): the plan is streamed, so its "tenants" stay empty.
 * "targets" sorts before "tenants", so it is known already. */
static bool needs_tenants(xc *c, const json_t *plan)
{
    if (!c->tenants_checked) {
        c->tenants_checked = true;
        size_t k;
        json_t *tj;
        json_array_foreach(json_object_get(plan, "targets"), k, tj) {
            const target_kind *kind = target_kind_find(json_string_value(json_object_get(tj,
                                                                                "kind")));
            if (kind && kind->json_tenants && !c->tenants)
                c->tenants = json_array();
        }
    }
    return c->tenants != NULL;
}

/* Notes that the tenants [first, last] (names) come next in the file: a
 * record vouches for a bucket by the positions of its tenants in name
 * order, which are the plan's only when the plan is sorted. */
static void note_names(xc *c, const char *first, const char *last)
{
    if (c->prev_name && strcmp(c->prev_name, first) >= 0)
        c->unsorted = true;
    c->prev_name = last;
}

static bool begin_rs(xc *c, const json_t *plan, size_t n, rerr *e)
{
    char err[512];
    if (!c->have_rs) {
        if (!rules_begin(plan, n, &c->rs, err, sizeof err))
            return rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
        c->have_rs = true;
    }
    return true;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tenants the verification cases name, sorted, each once (in
 * c->vnames, built on first use). */
static void case_names(xc *c)
{
    if (c->vnames)
        return;
    const json_t *vs = json_object_get(c->plan, "verify");
    c->vnames = xmalloc((json_array_size(vs) + 1) * sizeof *c->vnames);
    size_t i;
    json_t *vc;
    json_array_foreach(vs, i, vc) {
        const char *tn = json_string_value(json_object_get(vc, "tenant"));
        if (tn)
            c->vnames[c->nvnames++] = tn;
    }
    if (c->nvnames > 1)
        qsort(c->vnames, c->nvnames, sizeof *c->vnames, cmp_cstr);
    size_t u = 0;
    for (i = 0; i < c->nvnames; i++)
        if (!u || strcmp(c->vnames[u - 1], c->vnames[i]))
            c->vnames[u++] = c->vnames[i];
    c->nvnames = u;
}

/* Whether a verification case names a tenant of a bucket of names
 * [fn, ln]. */
static bool holds_case(xc *c, const char *fn, const char *ln)
{
    case_names(c);
    /* The first case's tenant at or after fn must come after ln. */
    size_t lo = 0, hi = c->nvnames;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(c->vnames[mid], fn) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nvnames && strcmp(c->vnames[lo], ln) <= 0;
}

/* Whether tenant name tn is in a bucket left out of the rules: looked up
 * among the names the record gives for it (its blob read and checked,
 * not the plan's bucket); -1 when that blob cannot be read. */
static int in_elided(xc *c, const char *tn)
{
    for (size_t i = 0; tn && i < c->known.nrec; i++) {
        tknown_rec *r = &c->known.rec[i];
        if (!r->nelided || !r->nb)
            continue;
        /* The record's buckets are in name order: the last one whose first
         * name is at or before tn is the only one that can hold it. */
        size_t lo = 0, hi = r->nb;
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(r->first(r->whole, mid), tn) <= 0)
                lo = mid;
            else
                hi = mid;
        }
        if (!r->elided[lo] || strcmp(tn, r->first(r->whole, lo)) < 0 ||
            strcmp(tn, r->last(r->whole, lo)) > 0)
            continue;
        /* A case's tenant the record says its map held, in a bucket the
         * plan holds unchanged since: no blob to read. */
        if (r->has_case && r->has_case(r->whole, tn))
            return 1;
        const char *const *names, *const *vers;
        size_t n;
        if (!r->open(r->whole, lo, &names, &vers, &n))
            return -1;
        const char *key = tn;
        return bsearch(&key, names, n, sizeof *names, cmp_cstr) != NULL;
    }
    return false;
}

/* Whether the plan's buckets may be left out of the rules: in a run (not
 * diff or status) of a plan whose one target is a kind that keeps records.
 * Buckets holding a verification case's tenant too: a target that will
 * run every case, not only the changed tenants', has them added
 * (target_env.expand_cases) before anything is written. */
static bool elidable(xc *c, const json_t *plan)
{
    if (!c->elide_ok) {
        const json_t *ts = json_object_get(plan, "targets");
        const target_kind *kind = json_array_size(ts) == 1
            ? target_kind_find(json_string_value(json_object_get(json_array_get(ts, 0),
                                                                 "kind")))
            : NULL;
        c->elide_ok = c->elide && kind && kind->known ? 1 : -1;
    }
    return c->elide_ok > 0;
}

/* A bucket that a record in the state directory vouches for: its tenants
 * by name and version from the record, without reading it (SPEC.md 7.7). */
static int take_known(xc *c, const json_t *plan, size_t k, const char *sha, size_t n,
                      size_t first, size_t total, rerr *e)
{
    if (needs_tenants(c, plan) || !c->o->state_dir[0] || c->o->full_read)
        return 0;
    if (!begin_rs(c, plan, total, e))
        return -1;
    if (!c->known_read) {
        c->known_read = true;
        for (size_t i = 0; target_kinds[i]; i++)
            if (target_kinds[i]->known)
                target_kinds[i]->known(c->o->state_dir, c->rs.ns, &c->known);
    }
    const tknown_bucket *kb = tknown_find(&c->known, sha);
    if (!kb || kb->n != n || first + n > total)
        return 0;
    tknown_rec *r = &c->known.rec[kb->rec];
    const char *fn = r->first(r->whole, kb->j), *ln = r->last(r->whole, kb->j);
    if (c->prev_name && strcmp(c->prev_name, fn) >= 0)
        return 0;
    if (elidable(c, plan)) {
        /* Not even opened: the record's target takes it as unchanged when
         * the store's manifest is the record's, and has it added
         * otherwise (env_expand). */
        r->elided[kb->j] = k + 1;
        r->nelided++;
        c->elided_tenants += n;
    } else {
        const char *const *names, *const *vers;
        size_t got;
        if (!r->open(r->whole, kb->j, &names, &vers, &got) || got != n)
            return 0;
        /* The ruleset borrows names and versions: c->known outlives it. */
        char err[512];
        for (size_t j = 0; j < n; j++) {
            if (!rules_add_tenant_known(&c->rs, names[j], vers[j], k, err, sizeof err)) {
                rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
                return -1;
            }
        }
    }
    note_names(c, fn, ln);
    c->buckets_known++;
    return 1;
}

/* plan_load_streamed's bfn: a bucket a record vouches for is taken from
 * the record (take_known); any other is read, and in a run of a plan
 * whose one target keeps records (a Redis target) without checking its
 * digest yet: a first deploy checks each bucket as it writes its tenants,
 * so that hashing the plan's 100 MB (at 100 000 tenants) goes beside the
 * server's work instead of before it.  The first bucket is checked now:
 * preflight names its first tenant's keys to the server. */
static int take_bucket(void *ud, const json_t *plan, size_t k, const char *sha, size_t n,
                       size_t first, size_t total, rerr *e)
{
    xc *c = ud;
    c->nbuckets++;
    c->cur_bucket = k;
    c->deferring = false;
    int r = take_known(c, plan, k, sha, n, first, total, e);
    if (r != 0 || !c->defer || k == 0 || needs_tenants(c, plan) || !elidable(c, plan))
        return r;
    if (k >= c->ndfr) {
        size_t nn = k + 64;
        c->dfr = xreallocarray(c->dfr, nn, sizeof *c->dfr);
        memset(c->dfr + c->ndfr, 0, (nn - c->ndfr) * sizeof *c->dfr);
        c->ndfr = nn;
    }
    c->dfr[k] = (xdeferred){.first = first, .pending = true};
    c->deferring = true;
    return 2;
}

/* A tenant of the bucket being read that is not checked yet: named in its
 * bucket's entry. */
static void note_deferred(xc *c, rl_tenant *t)
{
    if (!c->deferring)
        return;
    xdeferred *d = &c->dfr[c->cur_bucket];
    t->unchecked = true;
    t->bucket = c->cur_bucket;
    /* The least and the greatest name: its tenants lie between them in the
     * sorted rules (all the others too, when the plan's are not sorted). */
    if (!d->fn || strcmp(t->name, d->fn) < 0)
        d->fn = t->name;
    if (!d->ln || strcmp(t->name, d->ln) > 0)
        d->ln = t->name;
}

/* Whether bucket k's cut into tenants is proven: every one of its tenants
 * was read whole by a reader that takes exactly one tenant object (then
 * the cut tiles the bucket with complete JSON values from its first byte,
 * which is the one way to cut it: a first deploy reads them all), else the
 * bucket is walked value by value against the cut. */
static bool split_proven(xc *c, size_t k, rerr *e)
{
    xdeferred *d = &c->dfr[k];
    size_t n = c->text.index[k].n, j = 0;
    bool all = true;
    rl_tenant *t = d->fn ? (rl_tenant *)rules_tenant(&c->rs, d->fn) : NULL;
    rl_tenant *end = c->rs.tenants + c->rs.ntenants;
    for (; t && t < end && strcmp(t->name, d->ln) <= 0; t++)
        if (t->bucket == k) {
            all &= t->parsed;
            j++;
        }
    return (all && j == n) || plan_check_split(&c->text, k, e);
}

/* Bucket k, read at load without checking its digest: checked now, with
 * the versions of its tenants taken from their text (RLC3105, RLC3106);
 * with sweep (before anything of its tenants is used by their names, or
 * recorded), its cut into tenants proven too. */
static bool check_bucket(xc *c, size_t k, bool sweep, rerr *e)
{
    if (k >= c->ndfr || (!c->dfr[k].pending && !(sweep && c->dfr[k].split)))
        return true;
    xdeferred *d = &c->dfr[k];
    char err[512];
    bool ok = !d->pending || plan_check_bucket(&c->text, k, d->first, e);
    if (ok && d->pending && d->fn) {
        rl_tenant *t = (rl_tenant *)rules_tenant(&c->rs, d->fn);
        rl_tenant *end = c->rs.tenants + c->rs.ntenants;
        for (; ok && t && t < end && strcmp(t->name, d->ln) <= 0; t++)
            if (t->unchecked && t->bucket == k && !rules_tenant_check(&c->rs, t, err, sizeof err))
                ok = rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
    }
    if (ok)
        d->pending = false;
    if (ok && sweep && d->split) {
        ok = split_proven(c, k, e);
        d->split = !ok;
    }
    if (!ok) {
        c->rs.load_failed = true;
        return false;
    }
    return true;
}

/* Every bucket not checked yet (target_env.check_all). */
static bool env_check_all(void *ud, rerr *e)
{
    xc *c = ud;
    for (size_t k = 0; k < c->ndfr; k++)
        if (!check_bucket(c, k, true, e))
            return false;
    return true;
}

/* rs->check: the bucket of unchecked tenant t. */
static bool check_tenant(void *ud, rl_ruleset *rs, const rl_tenant *t, char *err,
                         size_t errlen)
{
    rerr e = {0};
    if (check_bucket(ud, t->bucket, false, &e))
        return true;
    snprintf(err, errlen, "%s", e.msg);
    rs->fetch_code = e.code;
    return false;
}

static int take_tenant_text(void *ud, const json_t *plan, const char *text, size_t len,
                            size_t i, size_t n, rerr *e);
static bool take_tenant(void *ud, const json_t *plan, const json_t *tenant, size_t i, size_t n,
                        rerr *e);

/* The tenants of elided buckets into the rules (every one, or with
 * cases_only those holding a verification case's tenant): each bucket read
 * from the plan now, checked against its digest, as if it had been then. */
static bool expand_some(xc *c, bool cases_only, rerr *e)
{
    char err[512];
    bool added = false;
    /* Where each bucket's first tenant stands among all of them. */
    size_t total = 0, *firsts = xmalloc((c->text.nindex + 1) * sizeof *firsts);
    for (size_t k = 0; k < c->text.nindex; k++) {
        firsts[k] = total;
        total += c->text.index[k].n;
    }
    c->expanding = true;
    for (size_t i = 0; i < c->known.nrec; i++) {
        tknown_rec *r = &c->known.rec[i];
        for (size_t j = 0; r->nelided && j < r->nb; j++) {
            if (!r->elided[j] ||
                (cases_only && !holds_case(c, r->first(r->whole, j), r->last(r->whole, j))))
                continue;
            size_t pk = r->elided[j] - 1;
            size_t n = pk < c->text.nindex ? c->text.index[pk].n : 0;
            c->cur_bucket = pk;
            if (!plan_read_bucket(&c->text, c->plan, pk, firsts[pk], total, take_tenant_text,
                                  take_tenant, c, e)) {
                c->expanding = false;
                free(firsts);
                return false;
            }
            c->elided_tenants -= n;
            c->buckets_known--;
            r->elided[j] = 0;
            r->nelided--;
            added = true;
        }
    }
    c->expanding = false;
    free(firsts);
    return !added || rules_finish(&c->rs, err, sizeof err) ||
           rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
}

/* target_env.expand: every elided bucket, for a target that cannot take
 * them as unchanged. */
static bool env_expand(void *ud, rerr *e)
{
    return expand_some(ud, false, e);
}

/* target_env.expand_cases: the elided buckets that hold a verification
 * case's tenant, for a target that will run every case. */
static bool env_expand_cases(void *ud, rerr *e)
{
    return expand_some(ud, true, e);
}

/* rs->fetch: tenant t's text from its bucket of the plan, attached to t
 * once its rules hash to the version the record vouched for.  Only its
 * own bytes are read: the rest of the bucket is not used, so it need not
 * be read or hashed (a one-tenant re-apply would otherwise read the
 * verification's 32 buckets whole).  The record vouched for a sorted plan,
 * so t's place among rs's tenants is its place in the plan, where it is
 * looked for first. */
static bool fetch_tenant(void *ud, rl_ruleset *rs, const rl_tenant *t, char *err, size_t errlen)
{
    xc *c = ud;
    rerr e = {0};
    size_t k = t->bucket, first = 0, at = (size_t)(t - rs->tenants);
    if (!c->opened && c->nbuckets) {
        c->opened = xcalloc(c->nbuckets, sizeof *c->opened);
        c->bfirst = xcalloc(c->nbuckets, sizeof *c->bfirst);
        for (size_t b = 1; b < c->nbuckets && b < c->text.nindex; b++)
            c->bfirst[b] = c->bfirst[b - 1] + c->text.index[b - 1].n;
    }
    size_t from = 0;
    if (k < c->nbuckets) {
        first = c->bfirst[k];
        c->buckets_fetched += !c->opened[k];
        from = c->opened[k] ? c->opened[k] - 1 : 0;
    }
    const char *text;
    size_t len;
    bool ok = plan_read_tenant(&c->text, k, t->name, at >= first ? at - first : 0, &from,
                               &text, &len, &e);
    if (ok && k < c->nbuckets)
        c->opened[k] = from + 1;
    if (ok && !rules_tenant_attach(rs, t, text, len, err, errlen)) {
        /* The index vouches for the bucket's bytes, the record for what
         * they held: a tenant that differs was changed after compiling. */
        rerr_set(&e, DIAG_PLAN_DIGEST, "tenants[%zu] (tenant_index[%zu]): %s: the plan was "
                 "modified after it was compiled", at, k, err);
        ok = false;
    }
    if (ok)
        return true;
    snprintf(err, errlen, "%s", e.msg);
    rs->fetch_code = e.code;
    return false;
}

/* Each tenant of the plan into c->rs as plan_load_streamed parses it. */

static bool take_tenant(void *ud, const json_t *plan, const json_t *tenant, size_t i, size_t n,
                        rerr *e)
{
    xc *c = ud;
    char err[512];
    if (needs_tenants(c, plan))
        json_array_append_new(c->tenants,
                              json_pack("{s:O,s:O,s:O}", "name", json_object_get(tenant, "name"),
                                        "version", json_object_get(tenant, "version"), "rules",
                                        json_object_get(tenant, "rules")));
    if (!c->have_rs) {
        if (!rules_begin(plan, n, &c->rs, err, sizeof err))
            return rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
        c->have_rs = true;
    }
    if (!c->have_rs || i >= n)
        return rerr_set(e, DIAG_PLAN_SHAPE, "tenants[%zu]: more tenants than counted", i);
    /* A deploy takes equal versions for equal rules (the manifest record),
     * so the version must be the rules' digest (SPEC.md 5.5). */
    char hex[DIGEST_HEX_LEN + 1];
    const char *ver = json_string_value(json_object_get(tenant, "version"));
    if (!digest_json_hex(json_object_get(tenant, "rules"), hex) || !ver || strcmp(hex, ver))
        return rerr_set(e, DIAG_PLAN_SHAPE, "tenants[%zu]: \"version\" is not the SHA-256 of "
                        "its rules", i);
    if (!rules_add_tenant(&c->rs, tenant, err, sizeof err))
        return rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
    c->rs.tenants[c->rs.ntenants - 1].parsed = true;
    note_deferred(c, &c->rs.tenants[c->rs.ntenants - 1]);
    const char *nm = c->rs.tenants[c->rs.ntenants - 1].name;
    if (!c->expanding)
        note_names(c, nm, nm);
    return true;
}

/* The same from the tenant's canonical text, without a tree (rules.h). */
static int take_tenant_text(void *ud, const json_t *plan, const char *text, size_t len,
                            size_t i, size_t n, rerr *e)
{
    xc *c = ud;
    char err[512];
    if (needs_tenants(c, plan))
        return 0;   /* parsed and handed to take_tenant, which keeps it */
    if (!c->have_rs) {
        if (!rules_begin(plan, n, &c->rs, err, sizeof err)) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
            return -1;
        }
        c->have_rs = true;
    }
    if (i >= n) {
        rerr_set(e, DIAG_PLAN_SHAPE, "tenants[%zu]: more tenants than counted", i);
        return -1;
    }
    /* Rules are read when a target first needs them (the tenants a deploy
     * changes or verifies): the version is what tells whether it does. */
    rules_text_result r = c->deferring
        ? rules_add_tenant_unchecked(&c->rs, text, len, err, sizeof err)
        : rules_add_tenant_lazy(&c->rs, text, len, err, sizeof err);
    if (r == RULES_TEXT_OTHER)
        r = rules_add_tenant_text(&c->rs, text, len, err, sizeof err);
    switch (r) {
    case RULES_TEXT_OK: {
        /* Its bucket: the one take_bucket was last asked about (each is,
         * just before its tenants are read), which a record may vouch for. */
        c->rs.tenants[c->rs.ntenants - 1].bucket = c->cur_bucket;
        note_deferred(c, &c->rs.tenants[c->rs.ntenants - 1]);
        const char *nm = c->rs.tenants[c->rs.ntenants - 1].name;
        if (!c->expanding)
            note_names(c, nm, nm);
        return 1;
    }
    case RULES_TEXT_OTHER: return 0;
    case RULES_TEXT_ERROR: break;
    }
    rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
    return -1;
}

exec_status xc_load_plan(xc *c, const char *path, rerr *e)
{
    /* The signature first: with a key configured, a plan nobody signed is
     * not even parsed. */
    char signed_dg[DIGEST_HEX_LEN + 1] = "";
    if (c->o->verify_key) {
        if (!plan_sig_verify(path, c->o->verify_key, signed_dg, e)) {
            rerr_prefix(e, "%s", path);
            return EXEC_SIGNATURE;
        }
    }
    /* Parse, compatibility and digest checks are plan_load's (RLC310x);
     * tenants come one at a time straight into rules, so a plan of 100 000
     * tenants is never one JSON tree.  c->plan keeps the rest. */
    c->plan = plan_load_streamed(path, take_bucket, take_tenant_text, take_tenant, c,
                                 c->o->verify_key ? signed_dg : NULL, &c->text, e);
    if (!c->plan)
        return e->code == DIAG_PLAN_SIGNATURE ? EXEC_SIGNATURE : EXEC_PLAN;
    snprintf(c->digest, sizeof c->digest, "%s",
             json_string_value(json_object_get(c->plan, "plan_digest")));
    if (c->o->verify_key && strcmp(signed_dg, c->digest)) {
        rerr_set(e, DIAG_PLAN_SIGNATURE, "%s: the signature is for plan %.16s..., but this plan "
                 "is %.16s...: it was changed (and sealed again) after it was signed", path,
                 signed_dg, c->digest);
        return EXEC_SIGNATURE;
    }
    char err[512];
    if (!c->have_rs) {
        if (!rules_begin(c->plan, 0, &c->rs, err, sizeof err)) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s: %s", path, err);
            return EXEC_PLAN;
        }
        c->have_rs = true;
    }
    if (!rules_finish(&c->rs, err, sizeof err) ||
        !rules_add_template(&c->rs, c->plan, err, sizeof err)) {
        rerr_set(e, DIAG_PLAN_SHAPE, "%s: %s", path, err);
        return EXEC_PLAN;
    }
    const json_t *tt = json_object_get(c->plan, "tenant_template");
    if (tt) {
        char hex[DIGEST_HEX_LEN + 1];
        const char *ver = json_string_value(json_object_get(tt, "version"));
        if (!digest_json_hex(json_object_get(tt, "rules"), hex) || !ver || strcmp(hex, ver)) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s: tenant_template: \"version\" is not the SHA-256 "
                     "of its rules", path);
            return EXEC_PLAN;
        }
    }
    /* A case whose tenant is not in the plan would be skipped, and a
     * deploy would pass verification untested. */
    size_t i;
    json_t *vc;
    json_array_foreach(json_object_get(c->plan, "verify"), i, vc) {
        const char *tn = json_string_value(json_object_get(vc, "tenant"));
        if (rules_tenant_or_template(&c->rs, tn))
            continue;
        int el = in_elided(c, tn);
        /* A record whose blob cannot be read vouches for nothing: its
         * buckets are read from the plan, and the case's tenant looked up
         * among them. */
        if (el < 0 && !env_expand(c, e))
            return EXEC_PLAN;
        if (el == 0 || (el < 0 && !rules_tenant_or_template(&c->rs, tn))) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s: plan field verify[%zu].tenant names a tenant the "
                     "plan lacks", path, i);
            return EXEC_PLAN;
        }
    }
    /* The record keeps, of the cases' tenants, those the plan names (not
     * those only a template stands for), for the next run's check above. */
    case_names(c);
    c->cnames = xmalloc((c->nvnames + 1) * sizeof *c->cnames);
    for (i = 0; i < c->nvnames; i++) {
        const rl_tenant *rt = rules_tenant_or_template(&c->rs, c->vnames[i]);
        if ((rt && rt != c->rs.any_tenant) || in_elided(c, c->vnames[i]) == 1)
            c->cnames[c->ncnames++] = c->vnames[i];
    }
    c->env.case_names = c->cnames;
    c->env.ncase_names = c->ncnames;
    c->env.ns = c->rs.ns;
    c->env.policy = c->rs.policy;
    c->env.skew_ms = c->rs.skew_ms;
    c->env.client_time = c->rs.client_time;
    c->env.plan = c->plan;
    c->rs.fetch = fetch_tenant;
    c->rs.check = check_tenant;
    c->rs.fetch_ud = c;
    c->deferring = false;
    for (size_t k = 0; k < c->ndfr; k++)
        c->dfr[k].split = c->dfr[k].pending && c->text.cuts && k < c->text.nindex &&
                          c->text.cuts[k];
    /* Buckets left unchecked are found by their tenants' names in the
     * sorted rules, where a plan whose tenants were not in order mixes
     * them: its buckets are all checked now. */
    if (c->unsorted && !env_check_all(c, e)) {
        rerr_prefix(e, "%s", path);
        return EXEC_PLAN;
    }
    c->env.rs = &c->rs;
    c->env.plan_sorted = !c->unsorted && c->text.text;
    c->env.index = c->text.index;
    c->env.nindex = c->text.nindex;
    c->env.tenants = c->tenants;
    return EXEC_OK;
}

/* --- preflight --------------------------------------------------------------- */

/* The clock check of preflight (SPEC.md 2.8, 7.7).  What a decision
 * depends on is the agreement of the clocks that decide for one tenant:
 * with time_source = server, the TIME of whichever node of the target holds
 * the tenant's slot (a replica promoted, or a slot migrated, carries the
 * counters to another node's clock), so every pair of nodes of one target
 * counts and this host's clock does not; with time_source = client, the
 * gateways' clocks stamp the requests and the nodes' clocks expire the
 * counters, and this host stands in for the gateways, so each node against
 * this host counts too.  Only a difference the measurement proves is held
 * against max_clock_skew: the measured difference less the error bars of
 * both ends.  Two nodes (or a node and this host) that share one clock
 * thus always pass, even at 0 ms; a difference smaller than the round trip
 * cannot be seen and is not claimed. */
static bool check_clocks(xc *c, json_t *report, rerr *e)
{
    const tclock *n = c->clk.v;
    size_t nn = c->clk.n;
    double worst = 0, worst_meas = 0, max_err = 0;
    const char *fast = NULL, *slow = NULL;
    bool with_host = false;
    for (size_t i = 0; i < nn; i++) {
        if (n[i].err_us > max_err)
            max_err = n[i].err_us;
        for (size_t j = 0; j < nn; j++) {
            if (i == j || n[i].owner != n[j].owner || n[i].off_us < n[j].off_us)
                continue;
            double d = n[i].off_us - n[j].off_us - n[i].err_us - n[j].err_us;
            if (d > worst || !fast) {
                worst = d > 0 ? d : 0;
                worst_meas = n[i].off_us - n[j].off_us;
                fast = n[i].name;
                slow = n[j].name;
                with_host = false;
            }
        }
        double h = (n[i].off_us < 0 ? -n[i].off_us : n[i].off_us) - n[i].err_us;
        if (c->env.client_time && h > worst) {
            worst = h;
            worst_meas = n[i].off_us < 0 ? -n[i].off_us : n[i].off_us;
            fast = n[i].off_us >= 0 ? n[i].name : "this host";
            slow = n[i].off_us >= 0 ? "this host" : n[i].name;
            with_host = true;
        }
    }
    /* Whole milliseconds, rounded up: a skew over the bound never prints
     * as equal to it. */
    long long worst_ms = (long long)((worst + 999.0) / 1000.0);
    json_object_set_new(report, "max_skew_ms", json_integer((json_int_t)worst_ms));
    json_object_set_new(report, "skew_measured_ms", json_integer((json_int_t)(worst_meas / 1000.0)));
    json_object_set_new(report, "skew_error_ms", json_real(max_err / 1000.0));
    json_object_set_new(report, "skew_against", json_string(c->env.client_time ? "nodes and this host"
                                                                          : "nodes"));
    if (worst <= (double)c->env.skew_ms * 1000.0)
        return true;
    buf b;
    buf_init(&b, 8192);
    double lo = 0, hi = 0;
    const char *lo_name = "", *hi_name = "";
    for (size_t i = 0; i < nn; i++) {
        buf_printf(&b, "%s%s %+lld ms", i ? ", " : "", n[i].name,
                   (long long)(n[i].off_us / 1000.0));
        if (!i || n[i].off_us < lo)
            lo = n[i].off_us, lo_name = n[i].name;
        if (!i || n[i].off_us > hi)
            hi = n[i].off_us, hi_name = n[i].name;
    }
    rerr_set(e, DIAG_CLOCK_SKEW, "clock skew %lld ms exceeds max_clock_skew %lld ms: %s is "
             "ahead of %s by %.0f ms measured, at least %lld ms once the round trips are "
             "allowed for (%s; node offsets from this host: %s; fastest %s, slowest %s)",
             worst_ms, (long long)c->env.skew_ms, fast, slow, worst_meas / 1000.0, worst_ms,
             with_host ? "time_source = client: this host's clock stands in for the gateways'"
                       : c->env.client_time ? "time_source = client: nodes against nodes and "
                                          "this host"
                                        : "time_source = server: nodes of one target",
             buf_str(&b), hi_name, lo_name);
    buf_free(&b);
    return false;
}

/* --- checkpoint, restore, audit ------------------------------------------------ */

static bool write_checkpoint(xc *c, rerr *e)
{
    char name[128];
    snprintf(name, sizeof name, "checkpoints/%s.json", c->run);
    statedir_path(c->o->state_dir, name, c->ckpt);
    json_t *ck = json_pack("{s:s,s:s,s:s,s:s,s:I}", "run", c->run, "namespace", c->env.ns,
                           "plan_digest", c->digest, "policy",
                           c->env.policy ? c->env.policy : "", "t",
                           (json_int_t)statedir_now_ms());
    xc_record_lists(ck);
    for (size_t i = 0; i < c->nt; i++) {
        json_t *entry = c->t[i]->kind->checkpoint(c->t[i], e);
        if (!entry) {
            json_decref(ck);
            return false;
        }
        json_array_append_new(json_object_get(ck, c->t[i]->kind->record), entry);
    }
    char *text = digest_canonical_json(ck);
    json_decref(ck);
    bool ok = text && statedir_write_atomic(c->ckpt, text, strlen(text), 0600, e);
    free(text);
    return ok;
}

/* --- the run --------------------------------------------------------------- */

/* Records the wall time since the previous mark under name (summary
 * "phase_ms", for the benchmark and for users of large plans). */
static void mark(xc *c, const char *name)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (name && c->phase_ms)
        json_object_set_new(c->phase_ms, name, json_integer((json_int_t)(now - c->mark_ms)));
    c->mark_ms = now;
}

/* A phase refused the run: st, and the phase named in the summary. */
static bool phase_fail(xc *c, exec_status st, const char *phase)
{
    json_object_set_new(c->summary, "result", json_string("refused"));
    json_object_set_new(c->summary, "failed_phase", json_string(phase));
    c->st = st;
    return false;
}

/* A phase failed after the journal began, before "apply": abandon with st. */
static bool abandon_with(xc *c, exec_status st)
{
    c->st = st;
    c->undo = UNDO_ABANDON;
    return false;
}

/* A phase failed at or after "apply" (c->cause): roll back. */
static bool roll_back_with(xc *c)
{
    c->undo = UNDO_ROLLBACK;
    return false;
}

/* Nothing but the lock was written: release it and close the journal. */
static void abandon(xc *c, rerr *e)
{
    if (c->jopen) {
        rerr cause = *e, ae;
        xc_unlock_all(c);
        journal_finish(&c->j, "abandoned", &ae);
        c->jopen = false;
        xc_audit(c, "run", "refused", NULL, NULL, &cause, &ae);
        *e = cause;
    }
    if (c->st == EXEC_OK)
        c->st = e->code == DIAG_FAULT_INJECTED ? EXEC_FAILED : EXEC_PREFLIGHT;
    if (!json_object_get(c->summary, "result"))
        json_object_set_new(c->summary, "result", json_string("refused"));
}

/* Restores the checkpoint after a failure at or after "apply" and says so. */
static void roll_back(xc *c, rerr *e)
{
    const rerr *cause = &c->cause;
    xc_say(c, "apply failed: %s", cause->msg);
    xc_say(c, "rolling back to checkpoint %s", c->ckpt);
    char *text = statedir_read(c->ckpt, NULL);
    json_t *ck = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    rerr re = {0};
    bool ok = ck != NULL && xc_restore_all(c, ck, false, &re);
    for (size_t i = 0; ok && i < c->nt; i++)
        if (c->t[i]->kind->unmark)
            ok = c->t[i]->kind->unmark(c->t[i], &re);
    json_decref(ck);
    rerr ae;
    c->st = EXEC_FAILED;
    if (ok) {
        xc_say(c, "rolled back: every touched key is as it was at the checkpoint");
        journal_finish(&c->j, "rolled_back", &ae);
        c->jopen = false;
        xc_audit(c, "run", "rolled_back", c->before, c->before, cause, &ae);
        xc_unlock_all(c);
        rerr_set(e, DIAG_APPLY_FAILED, "RLC%04d %s; rolled back to checkpoint %s", cause->code,
                 cause->msg, c->ckpt);
        /* A fresh deploy reads a tenant's rules while writing (SPEC 7.7):
         * one refused there is still a plan refused, undone. */
        if (c->rs.load_failed)
            c->st = EXEC_PLAN;
        json_object_set_new(c->summary, "result", json_string("rolled_back"));
    } else {
        /* The journal stays: the next run, status or rollback retries. */
        rerr_set(e, DIAG_APPLY_FAILED, "RLC%04d %s; rollback failed too (RLC%04d %s): the "
                 "journal is kept and 'rlc rollback' will retry", cause->code, cause->msg,
                 re.code, re.msg);
        json_object_set_new(c->summary, "result", json_string("rollback_pending"));
    }
}

/* An interrupted deploy in the state directory is finished or undone
 * first. */
static bool run_recover(xc *c, rerr *e)
{
    exec_status st = xc_recover_pending(c->o, e, c->summary);
    if (st == EXEC_LOCKED)
        return phase_fail(c, st, "lock");
    c->st = st;
    mark(c, "recover");
    return st == EXEC_OK;
}

/* [1/7] The plan, its targets, and a connection to each. */
static bool run_load(xc *c, const char *plan_path, rerr *e)
{
    xc_say(c, "[1/7] load: %s", plan_path);
    if ((c->st = xc_load_plan(c, plan_path, e)) != EXEC_OK)
        return false;
    mark(c, "load");
    json_object_set_new(c->summary, "plan_digest", json_string(c->digest));
    json_object_set_new(c->summary, "policy", json_string(c->env.policy));
    xc_say(c, "      plan %.16s, policy %s, %zu tenants", c->digest, c->env.policy,
           c->rs.ntenants + c->elided_tenants);
    if (!xc_plan_targets(c, e))
        return phase_fail(c, EXEC_PREFLIGHT, "load");
    for (size_t i = 0; i < json_array_size(c->skipped); i++) {
        const json_t *s = json_array_get(c->skipped, i);
        xc_say(c, "      target %s (%s): %s, skipped",
               json_string_value(json_object_get(s, "name")),
               json_string_value(json_object_get(s, "kind")),
               json_string_value(json_object_get(s, "why")) ?: "not applied by this runtime");
    }
    json_object_set_new(c->summary, "skipped_targets", json_incref(c->skipped));
    json_object_set_new(c->summary, "run", json_string(c->run));
    if (!xc_connect_all(c, e))
        return phase_fail(c, EXEC_PREFLIGHT, "connect");
    return true;
}

/* [2/7] Before the journal and the lock: a target that cannot take the
 * deploy or its rollback (a replica, a missing permission, clocks apart)
 * is refused with nothing written, not even a lock that would be held
 * until it expires. */
static bool run_preflight(xc *c, rerr *e)
{
    xc_say(c, "[2/7] preflight: %zu target%s", c->nt, c->nt == 1 ? "" : "s");
    json_t *pre = json_object();
    json_object_set_new(c->summary, "preflight", pre);
    json_object_set_new(pre, "nodes", json_array());
    bool ok = true;
    for (size_t i = 0; ok && i < c->nt; i++)
        if (c->t[i]->kind->preflight)
            ok = c->t[i]->kind->preflight(c->t[i], pre, &c->clk, e);
    if (!ok || !check_clocks(c, pre, e)) {
        rerr cause = *e, ae;
        xc_audit(c, "run", "refused", NULL, NULL, &cause, &ae);
        *e = cause;
        return phase_fail(c, EXEC_PREFLIGHT, "preflight");
    }
    if (c->clk.n)
        xc_say(c, "      clocks within %lld ms (max_clock_skew %lld ms)",
               (long long)json_integer_value(json_object_get(pre, "max_skew_ms")),
               (long long)c->env.skew_ms);
    return true;
}

/* The journal's header: it names the lock token, so a crash right after
 * taking the lock can still release it. */
static bool begin_journal(xc *c, const char *plan_path, rerr *e)
{
    xc_new_token(c);
    json_t *hdr = json_pack("{s:s,s:s,s:s,s:s,s:s}", "plan_digest", c->digest, "policy",
                            c->env.policy, "namespace", c->env.ns, "plan_path", plan_path,
                            "lock_token", c->token);
    xc_record_descs(c, hdr);
    /* Who writes it: recovery trusts the state directory's lock only for a
     * journal written on this host (owner_gone). */
    char host[256];
    statedir_hostname(host, sizeof host);
    json_object_set_new(hdr, "host", json_string(host));
    json_object_set_new(hdr, "pid", json_integer(getpid()));
    if (!journal_begin(&c->j, c->o->state_dir, c->run, hdr, e))
        return false;
    c->jopen = true;
    return true;
}

/* [3/7] The journal, then the lock (none in a dry run). */
static bool run_lock(xc *c, const char *plan_path, rerr *e)
{
    if (!c->o->dry_run) {
        if (!begin_journal(c, plan_path, e)) {
            c->st = EXEC_FAILED;
            return false;
        }
        if (!fault_point("lock", e))
            return abandon_with(c, EXEC_OK);
        char what[700] = "none (these targets have no lock; every write is conditional on what was read)";
        for (size_t i = 0; i < c->nt; i++)
            if (xc_takes_lock(c, i)) {
                c->t[i]->kind->lock_what(c->t[i], what, sizeof what);
                break;
            }
        xc_say(c, "[3/7] lock: %s", what);
        if (!xc_lock_all(c, e)) {
            rerr cause = *e, ae;
            journal_finish(&c->j, "refused", &ae);
            c->jopen = false;
            xc_audit(c, "run", "refused", NULL, NULL, &cause, &ae);
            return phase_fail(c, cause.code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED,
                              "lock");
        }
    }
    mark(c, "lock");
    return true;
}

/* Under the lock: the health of the targets checked there (a config store
 * is checked once the lock, an etcd lease, is held). */
static bool run_health(xc *c, rerr *e)
{
    if (!fault_point("preflight", e))
        return abandon_with(c, EXEC_PREFLIGHT);
    json_t *a = json_array();
    json_object_set_new(json_object_get(c->summary, "preflight"), "gateways", a);
    size_t n = 0;
    const char *noun = NULL;
    for (size_t i = 0; i < c->nt; i++) {
        target *t = c->t[i];
        if (!t->kind->health)
            continue;
        long long t0 = statedir_now_ms();
        const char *endpoint = "";
        if (!t->kind->health(t, &endpoint, e)) {
            rerr_prefix(e, "target %s", t->name);
            return abandon_with(c, EXEC_PREFLIGHT);
        }
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:I}", "target", t->name, "kind",
                                           t->kind->name, "endpoint", endpoint, "rtt_ms",
                                           (json_int_t)(statedir_now_ms() - t0)));
        n++;
        noun = noun ? noun : xc_group_of(t->kind);
    }
    if (n)
        xc_say(c, "      %zu %s target%s healthy", n, noun, n == 1 ? "" : "s");
    mark(c, "preflight");
    return true;
}

/* The state digest of the first target that keeps one (of the empty map,
 * no bucket, when none does: SPEC.md 7.6). */
static void state_digests(xc *c)
{
    digest_sha256_hex("[]", 2, c->before);
    digest_sha256_hex("[]", 2, c->after);
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->kind->state_digest) {
            c->t[i]->kind->state_digest(c->t[i], false, c->before);
            c->t[i]->kind->state_digest(c->t[i], true, c->after);
            break;
        }
}

/* The live state of every target, and what changes; a dry run stops
 * here. */
static bool run_read(xc *c, rerr *e)
{
    target_read r = {0};
    bool all_fast = true;
    for (size_t i = 0; i < c->nt; i++) {
        target_read one = {0};
        if (!c->t[i]->kind->read(c->t[i], &one, e))
            return abandon_with(c, c->rs.load_failed ? EXEC_PLAN : EXEC_PREFLIGHT);
        r.changed += one.changed;
        r.removed += one.removed;
        r.pointers += one.pointers;
        r.encoded += one.encoded;
        all_fast &= !one.full;
    }
    c->env.nchanged = r.changed;
    c->env.nremoved = r.removed;
    json_object_set_new(c->summary, "tenants_changed", json_integer((json_int_t)r.changed));
    json_object_set_new(c->summary, "tenants_removed", json_integer((json_int_t)r.removed));
    json_object_set_new(c->summary, "live_read", json_string(all_fast ? "manifest" : "full"));
    json_object_set_new(c->summary, "pointers_read", json_integer((json_int_t)r.pointers));
    json_object_set_new(c->summary, "configs_encoded", json_integer((json_int_t)r.encoded));
    state_digests(c);
    json_object_set_new(c->summary, "state_before", json_string(c->before));
    if (c->after[0])
        json_object_set_new(c->summary, "state_after", json_string(c->after));
    if (c->o->dry_run) {
        xc_say(c, "dry run: would write %zu tenant config%s and remove %zu; nothing written",
               r.changed, r.changed == 1 ? "" : "s", r.removed);
        json_t *w = json_array();
        for (size_t i = 0; i < c->nt; i++) {
            size_t from = json_array_size(w);
            c->t[i]->kind->changes(c->t[i], w);
            xc_name_items(c, i, w, from);
        }
        json_object_set_new(c->summary, "would_write", w);
        json_object_set_new(c->summary, "result", json_string("dry_run"));
        return true;
    }
    mark(c, "read");
    return true;
}

/* [4/7] The checkpoint of every target, in one file. */
static bool run_checkpoint(xc *c, rerr *e)
{
    size_t n = c->env.nchanged + c->env.nremoved;
    xc_say(c, "[4/7] checkpoint: %zu tenant%s to change", n, n == 1 ? "" : "s");
    if (!fault_point("checkpoint", e) || !write_checkpoint(c, e))
        return abandon_with(c, c->rs.load_failed ? EXEC_PLAN : EXEC_FAILED);
    json_object_set_new(c->summary, "checkpoint", json_string(c->ckpt));
    /* Flushed with "apply" just below: a crash before that finds neither
     * durable, and nothing had been written. */
    if (!journal_note_unsynced(&c->j, "checkpoint", json_pack("{s:s}", "checkpoint", c->ckpt),
                               e))
        return abandon_with(c, EXEC_FAILED);
    xc_say(c, "      %s (mode 0600)", c->ckpt);
    if (!journal_note(&c->j, "apply", NULL, e))
        return abandon_with(c, EXEC_FAILED);
    mark(c, "checkpoint");
    return true;
}

/* [5/7] The marks, then each target's writes. */
static bool run_apply(xc *c)
{
    rerr *cause = &c->cause;
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->kind->mark &&
            (!fault_point("apply.marker", cause) || !c->t[i]->kind->mark(c->t[i], cause)))
            return roll_back_with(c);
    xc_say(c, "[5/7] apply");
    size_t written = 0, grouped = 0;
    const char *noun = NULL;
    for (size_t i = 0; i < c->nt; i++) {
        size_t w = 0;
        if (!env_renew(c, cause) || !c->t[i]->kind->apply(c->t[i], &w, cause))
            return roll_back_with(c);
        written += w;
        if (c->t[i]->kind->group) {
            grouped += w;
            noun = noun ? noun : c->t[i]->kind->group;
        }
    }
    if (noun)
        xc_say(c, "      %zu %s entr%s written, each conditional on what was read", grouped,
               noun, grouped == 1 ? "y" : "ies");
    json_object_set_new(c->summary, "keys_written", json_integer((json_int_t)written));
    /* A fresh deploy knows its config versions, and so the state after,
     * only once its configs are written. */
    if (!c->after[0]) {
        state_digests(c);
        json_object_set_new(c->summary, "state_after", json_string(c->after));
    }
    mark(c, "apply");
    return true;
}

/* [6/7] Each target checks what it wrote. */
static bool run_verify(xc *c)
{
    rerr *cause = &c->cause;
    /* Not flushed: recovery restores the checkpoint after "apply" as after
     * "verify" (the checkpoint holds the verification's shadow keys). */
    if (!fault_point("apply.done", cause) || !journal_note_unsynced(&c->j, "verify", NULL, cause))
        return roll_back_with(c);
    xc_say(c, "[6/7] verify %s", c->t[0]->kind->verify_how);
    const char *noun = NULL;
    for (size_t i = 0; i < c->nt; i++) {
        if (!c->t[i]->kind->verify(c->t[i], c->summary, cause))
            return roll_back_with(c);
        noun = noun ? noun : c->t[i]->kind->group;
    }
    if (noun)
        xc_say(c, "      %s entries read back as written", noun);
    mark(c, "verify");
    return true;
}

/* [7/7] Each target commits (and reads back its commit) under a renewed
 * lock; then the journal, the audit record, the unlock. */
static bool run_commit(xc *c, rerr *e)
{
    rerr *cause = &c->cause;
    xc_say(c, "[7/7] commit");
    /* No bucket is recorded as deployed unchecked (a first deploy checked
     * each as it wrote its tenants: none is left then). */
    if (!env_check_all(c, cause))
        return roll_back_with(c);
    for (size_t i = 0; i < c->nt; i++) {
        target *t = c->t[i];
        if ((t->locked && !t->kind->keepalive(t, true, cause)) ||
            (t->kind->commit && !t->kind->commit(t, cause)))
            return roll_back_with(c);
    }
    c->st = EXEC_FAILED;
    if (!journal_note(&c->j, "committed", NULL, e) || !fault_point("commit.audit", e) ||
        !xc_audit(c, "run", "committed", c->before, c->after, NULL, e) ||
        !journal_note(&c->j, "audited", NULL, e) || !fault_point("commit.unlock", e))
        return false;
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->kind->committed)
            c->t[i]->kind->committed(c->t[i]);
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->locked) {
            c->t[i]->kind->unlock(c->t[i]);
            c->t[i]->locked = false;
        }
    if (!journal_finish_unsynced(&c->j, "finished", e))
        return false;
    c->jopen = false;
    c->st = EXEC_OK;
    mark(c, "commit");
    xc_say(c, "      committed: run %s, audit record %lld", c->run,
           (long long)json_integer_value(json_object_get(c->summary, "audit_seq")));
    json_object_set_new(c->summary, "result", json_string("committed"));
    return true;
}

exec_status exec_run(const char *plan_path, const exec_opts *o, json_t **summary, rerr *e)
{
    xc c;
    xc_init(&c, o);
    c.elide = true;
    c.defer = true;
    c.summary = json_object();
    *summary = c.summary;
    c.phase_ms = json_object();
    json_object_set_new(c.summary, "phase_ms", c.phase_ms);
    mark(&c, NULL);
    statedir_new_id(c.run);
    int sdlock = xc_lock_state_dir(o, "run", c.run, e);
    if (sdlock < 0)
        phase_fail(&c, e->code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED, "lock");
    else if (run_recover(&c, e) &&
             run_load(&c, plan_path, e) &&           /* [1/7] */
             run_preflight(&c, e) &&                 /* [2/7] */
             run_lock(&c, plan_path, e) &&           /* [3/7] */
             run_health(&c, e) &&
             run_read(&c, e) && !o->dry_run &&
             run_checkpoint(&c, e) &&                /* [4/7] */
             run_apply(&c) &&                        /* [5/7] */
             run_verify(&c) &&                       /* [6/7] */
             run_commit(&c, e))                      /* [7/7] */
        c.st = EXEC_OK;
    if (c.undo == UNDO_ROLLBACK)
        roll_back(&c, e);
    else if (c.undo == UNDO_ABANDON)
        abandon(&c, e);
    if (e->code)
        json_object_set_new(c.summary, "error", json_pack("{s:i,s:s}", "code", e->code,
                                                          "message", e->msg));
    if (c.have_rs) {
        /* Tenants whose rules this run read (the others' versions sufficed). */
        size_t nread = c.rs.read_once;
        for (size_t i = 0; i < c.rs.ntenants; i++)
            nread += !c.rs.tenants[i].text && !c.rs.tenants[i].deferred;
        json_object_set_new(c.summary, "rules_read", json_integer((json_int_t)nread));
        /* Buckets of the plan read (and checked against their digests);
         * the others were known from a record. */
        json_object_set_new(c.summary, "buckets_read",
                            json_integer((json_int_t)(c.nbuckets - c.buckets_known +
                                                      c.buckets_fetched)));
        json_object_set_new(c.summary, "buckets", json_integer((json_int_t)c.nbuckets));
    }
    if (o->exiting)
        xc_leave(&c);
    else
        xc_free(&c);
    statedir_unlock(sdlock);
    return c.st;
}
