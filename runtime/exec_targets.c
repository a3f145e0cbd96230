/* exec_targets.c - the executor's targets: chosen from the plan (--only,
 * --target) or a record, in kind order; the deploy lock over them (who
 * takes it: target.h, TLOCK_*); restoring a checkpoint and the audit record
 * across them.  See exec_private.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "exec_private.h"
#include "redact.h"

/* --- targets --------------------------------------------------------------- */

/* Whether --only (or $RLC_ONLY) selects target name. */
static bool selected(const xc *c, const char *name)
{
    const char *p = c->o->only;
    if (!p)
        return true;
    size_t n = strlen(name);
    while (*p) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, name, n))
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

const char *xc_group_of(const target_kind *k)
{
    return k->group ? k->group : k->name;
}

/* A target of kind k from tj into c->t (all: the plan's targets, or NULL). */
static bool add_target(xc *c, const target_kind *k, const json_t *tj, const json_t *all,
                       rerr *e)
{
    int same = 0;
    for (size_t i = 0; i < c->nt; i++)
        same += !strcmp(xc_group_of(c->t[i]->kind), xc_group_of(k));
    if (same == k->max || c->nt == MAX_TARGETS)
        return rerr_set(e, DIAG_PLAN_SHAPE, "more than %d %s targets", k->max, xc_group_of(k));
    target *t = k->create(tj, all, &c->env, e);
    if (!t)
        return false;
    c->t[c->nt++] = t;
    return true;
}

/* Stable: kinds by order, and within an order as the plan lists them. */
static void sort_targets(xc *c)
{
    for (size_t i = 1; i < c->nt; i++)
        for (size_t j = i; j > 0 && c->t[j - 1]->kind->order > c->t[j]->kind->order; j--) {
            target *x = c->t[j];
            c->t[j] = c->t[j - 1];
            c->t[j - 1] = x;
        }
}

/* The chosen targets of the plan into c->t; the others into c->skipped. */
static bool choose_targets(xc *c, rerr *e)
{
    c->skipped = json_array();
    const json_t *all = json_object_get(c->plan, "targets");
    size_t i;
    json_t *tj;
    json_array_foreach(all, i, tj) {
        const char *name = json_string_value(json_object_get(tj, "name"));
        const char *kind = json_string_value(json_object_get(tj, "kind"));
        if (name && !selected(c, name)) {
            json_array_append_new(c->skipped, json_pack("{s:s,s:O,s:s}", "name", name, "kind",
                                                        json_object_get(tj, "kind"), "why",
                                                        "not selected by --only"));
            continue;
        }
        if (!name)
            continue;
        if (!kind)
            return rerr_set(e, DIAG_PLAN_SHAPE, "a target lacks kind or name");
        const target_kind *k = target_kind_find(kind);
        if (!k) {
            json_array_append_new(c->skipped, json_pack("{s:s,s:s}", "name", name, "kind", kind));
            continue;
        }
        if (!add_target(c, k, tj, all, e))
            return false;
    }
    return true;
}

/* --target NAME=SPEC, each naming a chosen target. */
static bool apply_overrides(xc *c, rerr *e)
{
    for (size_t k = 0; k < c->o->noverrides; k++) {
        const char *ov = c->o->overrides[k];
        const char *eq = strchr(ov, '=');
        if (!eq) {
            char *shown = url_redact(ov);
            rerr_set(e, DIAG_STORE_URL, "--target takes NAME=URL, got '%s'", shown);
            free(shown);
            return false;
        }
        bool found = false;
        for (size_t m = 0; m < c->nt; m++) {
            target *t = c->t[m];
            if (strlen(t->name) != (size_t)(eq - ov) || strncmp(t->name, ov, (size_t)(eq - ov)))
                continue;
            found = true;
            if (!t->kind->override(t, eq + 1, e))
                return false;
        }
        if (!found)
            return rerr_set(e, DIAG_STORE_URL, "--target %.*s: %s no redis, etcd or http "
                            "target of that name", (int)(eq - ov), ov,
                            c->plan ? "the plan has" : "the last deploy had");
    }
    return true;
}

bool xc_plan_targets(xc *c, rerr *e)
{
    if (!choose_targets(c, e) || !apply_overrides(c, e))
        return false;
    if (c->nt == 0)
        return rerr_set(e, DIAG_PLAN_SHAPE, c->o->only ? "--only %s selects no redis, etcd or "
                        "http target of the plan" : "the plan has no redis, etcd or http target%s",
                        c->o->only ? c->o->only : "");
    sort_targets(c);
    for (size_t m = 0; m < c->nt; m++)
        if (c->t[m]->kind->resolve && !c->t[m]->kind->resolve(c->t[m], e))
            return false;
    return true;
}

/* Whether kind k is the first of the table with its record list. */
static bool first_of_record(size_t k)
{
    for (size_t j = 0; j < k; j++)
        if (!strcmp(target_kinds[j]->record, target_kinds[k]->record))
            return false;
    return true;
}

bool xc_recorded_targets(xc *c, const json_t *rec, bool entries, bool chosen, rerr *e)
{
    for (size_t k = 0; target_kinds[k]; k++) {
        if (!first_of_record(k))
            continue;
        const char *list = target_kinds[k]->record;
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(rec, list), i, d) {
            const json_t *desc = entries ? json_object_get(d, "target") : d;
            const target_kind *kind = target_kind_of_record(list, desc);
            if (!kind && (!json_object_get(desc, "kind") || !json_object_get(desc, "name")))
                return rerr_set(e, DIAG_PLAN_SHAPE, "a target lacks kind or name");
            if (chosen && !selected(c, json_string_value(json_object_get(desc, "name")) ?: ""))
                continue;
            if (kind && !add_target(c, kind, desc, NULL, e))
                return false;
        }
    }
    if (chosen && !apply_overrides(c, e))
        return false;
    if (chosen && c->o->only && c->nt == 0)
        return rerr_set(e, DIAG_PLAN_SHAPE, "--only %s selects none of the last deploy's "
                        "targets", c->o->only);
    sort_targets(c);
    for (size_t m = 0; m < c->nt; m++)
        if (c->t[m]->kind->resolve && !c->t[m]->kind->resolve(c->t[m], e))
            return false;
    return xc_connect_all(c, e);
}

bool xc_connect_all(xc *c, rerr *e)
{
    for (size_t i = 0; i < c->nt; i++)
        if (!c->t[i]->kind->connect(c->t[i], e))
            return false;
    return true;
}

/* Each kind's list of its targets' descriptions (journal header,
 * checkpoint): every list present, empty when the kind has no target. */
void xc_record_lists(json_t *into)
{
    for (size_t k = 0; target_kinds[k]; k++)
        if (!json_object_get(into, target_kinds[k]->record))
            json_object_set_new(into, target_kinds[k]->record, json_array());
}

void xc_record_descs(xc *c, json_t *into)
{
    xc_record_lists(into);
    for (size_t i = 0; i < c->nt; i++)
        json_array_append(json_object_get(into, c->t[i]->kind->record), c->t[i]->desc);
}

void xc_name_items(xc *c, size_t i, json_t *items, size_t from)
{
    size_t same = 0;
    for (size_t j = 0; j < c->nt; j++)
        same += c->t[j]->kind == c->t[i]->kind;
    for (size_t k = from; same > 1 && k < json_array_size(items); k++) {
        json_t *it = json_array_get(items, k);
        if (!json_object_get(it, "target"))
            json_object_set_new(it, "target", json_string(c->t[i]->name));
    }
}

static json_t *target_names(xc *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nt; i++) {
        json_t *o = json_pack("{s:s,s:s}", "name", c->t[i]->name, "address", c->t[i]->addr);
        if (c->t[i]->note[0])
            json_object_set_new(o, "note", json_string(c->t[i]->note));
        json_array_append_new(a, o);
    }
    return a;
}

/* --- the lock ---------------------------------------------------------------- */

bool xc_takes_lock(const xc *c, size_t i)
{
    bool each = false;
    for (size_t j = 0; j < c->nt; j++)
        each |= c->t[j]->kind->lock_scope == TLOCK_EACH;
    target_lock_scope s = c->t[i]->kind->lock_scope;
    if (each || s != TLOCK_FIRST)
        return s == TLOCK_EACH;
    for (size_t j = 0; j < i; j++)
        if (c->t[j]->kind->lock_scope == TLOCK_FIRST)
            return false;
    return true;
}

bool xc_lock_all(xc *c, rerr *e)
{
    for (size_t i = 0; i < c->nt; i++) {
        if (!xc_takes_lock(c, i))
            continue;
        if (!c->t[i]->kind->lock(c->t[i], e)) {
            rerr cause = *e;
            xc_unlock_all(c);
            *e = cause;
            return false;
        }
        c->t[i]->locked = true;
    }
    return true;
}

void xc_unlock_all(xc *c)
{
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->locked) {
            c->t[i]->kind->unlock(c->t[i]);
            c->t[i]->locked = false;
        }
}

/* Takes the state directory's lock for verb (statedir.h): held until the
 * caller's statedir_unlock, so that recovery and `rlc status` can tell a
 * live deploy from an interrupted one.  -1 with e set (RLC3160: another
 * rlc works in the directory). */
int xc_lock_state_dir(const exec_opts *o, const char *verb, const char *run, rerr *e)
{
    char host[256];
    statedir_hostname(host, sizeof host);
    const char *user = getenv("USER");
    json_t *h = json_pack("{s:s,s:I,s:s,s:I,s:s,s:s}", "host", host, "pid",
                          (json_int_t)getpid(), "run", run, "since_ms",
                          (json_int_t)statedir_now_ms(), "user", user ? user : "?", "verb", verb);
    char *text = digest_canonical_json(h);
    json_decref(h);
    int fd = statedir_lock(o->state_dir, text ? text : "{}", e);
    free(text);
    return fd;
}

/* --- checkpoint and audit ------------------------------------------------------ */

const json_t *xc_ck_entry(const json_t *ck, const target *t)
{
    size_t i;
    const json_t *en;
    json_array_foreach(json_object_get(ck, t->kind->record), i, en) {
        const char *name = json_string_value(json_object_get(json_object_get(en, "target"),
                                                             "name"));
        if (name && !strcmp(name, t->name))
            return en;
    }
    return NULL;
}

bool xc_restore_all(xc *c, const json_t *ck, bool stale, rerr *e)
{
    /* Every entry must name a target of this deploy. */
    for (size_t k = 0; target_kinds[k]; k++) {
        size_t i;
        const json_t *en;
        json_array_foreach(json_object_get(ck, target_kinds[k]->record), i, en) {
            const char *name = json_string_value(json_object_get(json_object_get(en, "target"),
                                                                 "name"));
            bool found = false;
            for (size_t m = 0; m < c->nt && name; m++)
                found |= !strcmp(c->t[m]->name, name);
            if (!found)
                return rerr_set(e, DIAG_CHECKPOINT, "the checkpoint names target %s, which is "
                                "not in this deploy", name ? name : "?");
        }
    }
    for (size_t i = 0; i < c->nt; i++)
        if (!c->t[i]->kind->restore(c->t[i], xc_ck_entry(ck, c->t[i]), stale, e))
            return false;
    return true;
}

bool xc_audit(xc *c, const char *action, const char *result, const char *before,
              const char *after, const rerr *err, rerr *e)
{
    json_t *names = target_names(c);
    audit_rec r = {.action = action, .run_id = c->run, .plan_digest = c->digest[0] ? c->digest
                                                                                   : NULL,
                   .policy = c->env.policy, .targets = names, .state_before = before,
                   .state_after = after, .result = result,
                   .err_code = err ? err->code : 0, .err_msg = err ? err->msg : NULL};
    audit_head h;
    char *line = NULL;
    bool ok = audit_append(c->o->state_dir, &r, &h, &line, e);
    json_decref(names);
    if (!ok)
        return false;
    json_t *notes = json_array();
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->note[0])
            json_array_append_new(notes, json_pack("{s:s,s:s}", "target", c->t[i]->name,
                                                   "note", c->t[i]->note));
    if (c->summary && json_array_size(notes))
        json_object_set(c->summary, "notes", notes);
    json_decref(notes);
    char ht[96];
    audit_head_text(&h, ht);
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->kind->anchor)
            c->t[i]->kind->anchor(c->t[i], ht, line);
    free(line);
    if (c->summary)
        json_object_set_new(c->summary, "audit_seq", json_integer((json_int_t)h.seq));
    return true;
}

