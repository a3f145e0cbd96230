/* exec_report.c - `rlc diff`, `rlc status` (SPEC.md 7.7) and `rlc
 * decide`: what would change, what is deployed, and what the store decides
 * for one request, read through the targets' kinds (target.h).  None
 * takes a lock, writes a journal or recovers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "exec_private.h"

exec_status exec_diff(const char *plan_path, const exec_opts *o, json_t **summary, rerr *e)
{
    xc c;
    xc_init(&c, o);
    c.summary = json_object();
    *summary = c.summary;
    /* A diff reads as a dry run does, and reports no progress. */
    c.env.dry_run = true;
    c.env.say = NULL;
    exec_status st = xc_load_plan(&c, plan_path, e);
    if (st != EXEC_OK)
        goto out;
    st = EXEC_FAILED;
    if (!xc_plan_targets(&c, e) || !xc_connect_all(&c, e))
        goto out;
    for (size_t i = 0; i < c.nt; i++) {
        target_read r = {0};
        if (!c.t[i]->kind->read(c.t[i], &r, e)) {
            if (c.rs.load_failed)
                st = EXEC_PLAN;
            goto out;
        }
    }
    json_t *tenants = json_array();
    json_object_set_new(c.summary, "tenants", tenants);
    for (size_t i = 0; i < c.nt; i++) {
        size_t from = json_array_size(tenants);
        if (c.t[i]->kind->diff && !c.t[i]->kind->diff(c.t[i], c.summary, tenants, e))
            goto out;
        xc_name_items(&c, i, tenants, from);
    }
    /* A changed tenant * is an entry of its own, not one of the tenants. */
    size_t nchanged = 0, ntemplate = 0;
    json_t *d;
    size_t k;
    json_array_foreach(tenants, k, d) {
        if (json_is_true(json_object_get(d, "template")))
            ntemplate++;
        else
            nchanged++;
    }
    json_object_set_new(c.summary, "tenants_changed", json_integer((json_int_t)nchanged));
    json_object_set_new(c.summary, "tenants_total", json_integer((json_int_t)c.rs.ntenants));
    json_object_set_new(c.summary, "template_changed", json_boolean(ntemplate > 0));
    st = nchanged || ntemplate ? EXEC_CHANGES : EXEC_OK;
out:
    if (e->code)
        json_object_set_new(c.summary, "error", json_pack("{s:i,s:s}", "code", e->code,
                                                          "message", e->msg));
    xc_free(&c);
    return st;
}

/* The header of the newest finished run's journal: the namespace and each
 * kind's list of targets. */
static json_t *last_run_targets(const char *dir)
{
    char rd[STATEDIR_PATH_MAX];
    statedir_path(dir, "runs", rd);
    char name[256];
    if (!statedir_newest(dir, "runs", ".jsonl", name, sizeof name))
        return NULL;
    char path[STATEDIR_PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s.jsonl", rd, name);
    char *text = statedir_read(path, NULL);
    if (!text)
        return NULL;
    text[strcspn(text, "\n")] = '\0';
    json_t *h = json_loads(text, 0, NULL);
    free(text);
    if (json_is_object(h))
        return h;
    json_decref(h);
    return NULL;
}

/* What `rlc status` says about a deploy in the state directory, without
 * writing anything (no recovery: that is run's and rollback's, under the
 * directory's lock): "in_progress" (the lock is held: holder and the
 * journal's last phase) or "interrupted" (a journal whose writer is gone). */
static bool deploy_in_dir(const exec_opts *o, json_t *summary, rerr *e)
{
    bool held;
    char *holder;
    if (!statedir_lock_probe(o->state_dir, &held, &holder, e))
        return false;
    rerr je = {0};
    json_t *entries = journal_peek(o->state_dir, &je);
    const char *phase = entries ? journal_last_phase(entries) : NULL;
    if (held) {
        json_t *h = holder && *holder ? json_loads(holder, 0, NULL) : NULL;
        if (!json_is_object(h)) {
            json_decref(h);
            h = json_object();
        }
        json_object_set_new(h, "phase", json_string(phase ? phase : "starting"));
        json_object_set_new(summary, "in_progress", h);
    } else if (entries) {
        const json_t *jh = journal_header(entries);
        json_object_set_new(summary, "interrupted",
                            json_pack("{s:O*,s:s*,s:O*,s:O*,s:O*}", "run",
                                      json_object_get(jh, "run"), "phase", phase, "host",
                                      json_object_get(jh, "host"), "pid",
                                      json_object_get(jh, "pid"), "since_ms",
                                      json_object_get(jh, "t")));
    }
    free(holder);
    json_decref(entries);
    return true;
}

/* The targets of the last deploy from this state directory, or of the one
 * in progress or interrupted ({"namespace", and the journal's lists}), or
 * NULL. */
static json_t *recorded(xc *c)
{
    json_t *lr = last_run_targets(c->o->state_dir);
    if (lr)
        return lr;
    /* The first deploy from here, in progress or interrupted: its journal
     * names the targets. */
    rerr je = {0};
    json_t *entries = journal_peek(c->o->state_dir, &je);
    const json_t *h = journal_header(entries);
    if (h && json_object_get(h, "targets"))
        lr = json_deep_copy(h);
    json_decref(entries);
    return lr;
}

/* The targets to report on: the plan's, or the recorded ones.  *none when
 * a deploy in progress has not named them yet. */
static exec_status status_targets(xc *c, const char *plan_path, bool *none, rerr *e)
{
    *none = false;
    if (plan_path) {
        exec_status st = xc_load_plan(c, plan_path, e);
        if (st != EXEC_OK)
            return st;
        return xc_plan_targets(c, e) && xc_connect_all(c, e) ? EXEC_OK : EXEC_FAILED;
    }
    json_t *lr = recorded(c);
    if (!lr && json_object_get(c->summary, "in_progress")) {
        *none = true;
        return EXEC_OK;
    }
    if (!lr) {
        rerr_set(e, DIAG_STATE_IO, "no deploy recorded in %s; name a plan: rlc status PLAN",
                 c->o->state_dir);
        return EXEC_FAILED;
    }
    snprintf(c->nsbuf, sizeof c->nsbuf, "%s",
             json_string_value(json_object_get(lr, "namespace")) ?: "rl");
    c->env.ns = c->nsbuf;
    bool ok = xc_recorded_targets(c, lr, false, true, e);
    json_decref(lr);
    return ok ? EXEC_OK : EXEC_FAILED;
}

exec_status exec_status_report(const char *plan_path, const exec_opts *o, json_t **summary,
                               rerr *e)
{
    xc c;
    xc_init(&c, o);
    c.summary = json_object();
    *summary = c.summary;
    exec_status st = EXEC_FAILED;
    bool none;
    if (!deploy_in_dir(o, c.summary, e) ||
        (st = status_targets(&c, plan_path, &none, e)) != EXEC_OK)
        goto out;
    size_t drift = 0;
    json_t *targets = json_array();
    json_object_set_new(c.summary, "targets", targets);
    if (none) {
        /* Nothing to read yet: the deploy has not written its journal. */
        json_object_set_new(c.summary, "drift", json_integer(0));
        goto out;
    }
    for (size_t i = 0; i < c.nt; i++)
        if (!c.t[i]->kind->status(c.t[i], targets, &drift, e)) {
            st = EXEC_FAILED;
            goto out;
        }
    rerr ae;
    json_t *audit_log = audit_load(o->state_dir, &ae);
    json_t *recent = json_array();
    for (size_t i = audit_log && json_array_size(audit_log) > 5 ? json_array_size(audit_log) - 5
                                                                : 0;
         audit_log && i < json_array_size(audit_log); i++)
        json_array_append(recent, json_array_get(audit_log, i));
    json_decref(audit_log);
    json_object_set_new(c.summary, "recent", recent);
    char cp[STATEDIR_PATH_MAX];
    size_t skipped;
    if (xc_newest_checkpoint(o->state_dir, cp, sizeof cp, &skipped))
        json_object_set_new(c.summary, "newest_checkpoint", json_string(cp));
    json_object_set_new(c.summary, "drift", json_integer((json_int_t)drift));
    st = drift ? EXEC_DRIFT : EXEC_OK;
out:
    if (e->code)
        json_object_set_new(c.summary, "error", json_pack("{s:i,s:s}", "code", e->code,
                                                          "message", e->msg));
    xc_free(&c);
    return st;
}

/* --- rlc decide ---------------------------------------------------------------- */

exec_status exec_decide(const char *plan_path, const exec_opts *o,
                        const struct target_decide *q, json_t **answer, rerr *e)
{
    xc c;
    xc_init(&c, o);
    c.summary = json_object();
    *answer = NULL;
    bool none = false;
    /* From a plan only the target asked is connected: a decision needs no
     * other store reachable. */
    exec_status st = plan_path ? xc_load_plan(&c, plan_path, e)
                               : status_targets(&c, NULL, &none, e);
    if (st == EXEC_OK && plan_path && !xc_plan_targets(&c, e))
        st = EXEC_FAILED;
    if (st == EXEC_OK && none) {
        rerr_set(e, DIAG_STATE_IO, "a deploy is in progress and has recorded no target yet; "
                 "name a plan: rlc decide PLAN ...");
        st = EXEC_FAILED;
    }
    target *t = NULL;
    for (size_t i = 0; st == EXEC_OK && i < c.nt; i++) {
        if (!c.t[i]->kind->decide)
            continue;
        if (t) {
            rerr_set(e, DIAG_STATE_IO, "targets %s and %s both decide requests: name one "
                     "with --only", t->name, c.t[i]->name);
            st = EXEC_FAILED;
        }
        t = c.t[i];
    }
    if (st == EXEC_OK && !t) {
        rerr_set(e, DIAG_STATE_IO, "no target that decides requests (a redis target) %s",
                 o->only ? "among those --only names" : "in the plan");
        st = EXEC_FAILED;
    }
    if (st == EXEC_OK && plan_path && !t->kind->connect(t, e))
        st = EXEC_FAILED;
    if (st == EXEC_OK && !t->kind->decide(t, q, answer, e))
        st = EXEC_FAILED;
    if (*answer)
        json_object_set_new(*answer, "target", json_string(t->name));
    json_decref(c.summary);
    xc_free(&c);
    return st;
}
