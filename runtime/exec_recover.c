/* exec_recover.c - recovery of an interrupted deploy and `rlc rollback`
 * (SPEC.md 7.7): both restore a checkpoint through the targets' kinds
 * (target.h), recovery only when the journal proves its writer gone. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec_private.h"
#include "lock.h"

/* --- recovery -------------------------------------------------------------- */

exec_status xc_recover_pending(const exec_opts *o, rerr *e, json_t *summary)
{
    bool rec;
    json_t *s = NULL;
    if (!exec_recover(o, &rec, &s, e)) {
        json_decref(s);
        return e->code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED;
    }
    if (rec)
        json_object_set_new(summary, "recovered", s);
    else
        json_decref(s);
    return EXEC_OK;
}

/* Whether the deploy of an interrupted journal is provably over, so that
 * recovery may act on it.  The caller holds the state directory's lock,
 * which its writer held for its whole life: a journal written on this host
 * has no live writer.  One written elsewhere (a state directory shared over
 * the network, where the lock may not reach) is over only once no target's
 * deploy lock carries its token or names its run, and its last entry is
 * older than a lock's TTL (it may not have taken the lock yet).  False with
 * RLC3160 otherwise. */
static bool owner_gone(xc *c, const json_t *entries, const char *token, rerr *e)
{
    const json_t *h = journal_header(entries);
    const char *jhost = json_string_value(json_object_get(h, "host"));
    char host[256];
    statedir_hostname(host, sizeof host);
    if (jhost && !strcmp(jhost, host))
        return true;
    char who[400];
    snprintf(who, sizeof who, "deploy %s (pid %lld on %s)", c->run,
             (long long)json_integer_value(json_object_get(h, "pid")), jhost ? jhost : "a host "
             "this journal does not name");
    long long last = json_integer_value(json_object_get(
        json_array_get(entries, json_array_size(entries) - 1), "t"));
    long long age = statedir_now_ms() - last;
    if (age < lock_ttl_ms())
        return rerr_set(e, DIAG_LOCK_HELD, "%s may still be running: its journal was written "
                        "%.1f s ago, less than a lock's lifetime (%.1f s); run again later",
                        who, (double)age / 1000.0, lock_ttl_ms() / 1000.0);
    for (size_t i = 0; i < c->nt; i++)
        if (c->t[i]->kind->lock_gone && !c->t[i]->kind->lock_gone(c->t[i], who, token, e))
            return false;
    return true;
}

/* Restores the checkpoint the journal names. */
static bool recover_restore(xc *c, const json_t *entries, rerr *e)
{
    size_t i;
    json_t *en;
    json_array_foreach(entries, i, en)
        if (json_object_get(en, "checkpoint"))
            snprintf(c->ckpt, sizeof c->ckpt, "%s",
                     json_string_value(json_object_get(en, "checkpoint")));
    char *text = statedir_read(c->ckpt, NULL);
    json_t *ck = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!ck)
        return rerr_set(e, DIAG_CHECKPOINT, "interrupted deploy %s: checkpoint %s unreadable",
                        c->run, c->ckpt);
    xc_say(c, "it had started writing: restoring checkpoint %s", c->ckpt);
    bool ok = xc_restore_all(c, ck, false, e);
    json_decref(ck);
    return ok;
}

/* Finishes (committed), undoes (apply begun) or abandons the journal's
 * deploy; *what says which. */
static bool recover_act(xc *c, const json_t *entries, const char **what, rerr *e)
{
    if (journal_has(entries, "committed")) {
        *what = "finished";
        xc_say(c, "it had committed: finishing (audit record, lock release)");
        return journal_has(entries, "audited") ||
               (xc_audit(c, "recover", "committed", NULL, NULL, NULL, e) &&
                journal_note(&c->j, "audited", NULL, e));
    }
    if (journal_has(entries, "apply")) {
        *what = "rolled_back";
        return recover_restore(c, entries, e);
    }
    *what = "abandoned";
    xc_say(c, "it had written nothing yet: abandoning it");
    return true;
}

/* The marks removed (unless it committed), the lock released by its token,
 * the audit record and the journal closed. */
static bool recover_close(xc *c, const char *what, const char *token, rerr *e)
{
    bool finished = !strcmp(what, "finished");
    for (size_t i = 0; i < c->nt; i++) {
        target *t = c->t[i];
        rerr tmp;
        if (!finished && t->kind->unmark)
            t->kind->unmark(t, &tmp);
        if (token && xc_takes_lock(c, i))
            t->kind->unlock_token(t, token, &tmp);
    }
    bool ok = finished || xc_audit(c, "recover", what, NULL, NULL, NULL, e);
    ok = ok && journal_finish(&c->j, what, e);
    c->jopen = false;
    xc_say(c, "interrupted deploy %s: %s", c->run, what);
    return ok;
}

bool exec_recover(const exec_opts *o, bool *recovered, json_t **summary, rerr *e)
{
    *recovered = false;
    *summary = json_object();
    json_t *entries = journal_pending(o->state_dir, e);
    if (!entries)
        return e->code == 0;
    *recovered = true;
    xc c;
    xc_init(&c, o);
    c.summary = *summary;
    const json_t *h = journal_header(entries);
    snprintf(c.run, sizeof c.run, "%s", json_string_value(json_object_get(h, "run")) ?: "?");
    snprintf(c.digest, sizeof c.digest, "%s",
             json_string_value(json_object_get(h, "plan_digest")) ?: "");
    snprintf(c.nsbuf, sizeof c.nsbuf, "%s",
             json_string_value(json_object_get(h, "namespace")) ?: "rl");
    snprintf(c.polbuf, sizeof c.polbuf, "%s",
             json_string_value(json_object_get(h, "policy")) ?: "");
    c.env.ns = c.nsbuf;
    c.env.policy = c.polbuf;
    /* Before Redis 7 the script is needed, and the plan is where it was. */
    c.env.plan_path = json_string_value(json_object_get(h, "plan_path"));
    const char *token = json_string_value(json_object_get(h, "lock_token"));
    json_object_set_new(c.summary, "run", json_string(c.run));
    bool ok = xc_recorded_targets(&c, h, false, false, e) && owner_gone(&c, entries, token, e);
    if (ok)
        xc_say(&c, "found interrupted deploy %s (journal %s/journal.jsonl)", c.run,
               o->state_dir);
    if (ok) {
        ok = journal_adopt(&c.j, o->state_dir, c.run, e);
        c.jopen = ok;
    }
    const char *what = "";
    ok = ok && recover_act(&c, entries, &what, e) && recover_close(&c, what, token, e);
    json_object_set_new(c.summary, "result", json_string(ok ? what : "failed"));
    json_decref(entries);
    c.summary = NULL;
    xc_free(&c);
    return ok;
}

/* --- rollback -------------------------------------------------------------- */

/* Whether a checkpoint belongs to a run that changed nothing: every entry
 * says so or cannot tell, and one at least says so (an entry of a kind
 * that records the plan active before, target.h ck_noop). */
static bool checkpoint_is_noop(const json_t *ck)
{
    const char *digest = json_string_value(json_object_get(ck, "plan_digest"));
    if (!digest)
        return false;
    bool proven = false;
    for (size_t k = 0; target_kinds[k]; k++) {
        bool first = true;
        for (size_t j = 0; j < k; j++)
            first &= strcmp(target_kinds[j]->record, target_kinds[k]->record) != 0;
        if (!first)
            continue;
        size_t i;
        const json_t *en;
        json_array_foreach(json_object_get(ck, target_kinds[k]->record), i, en) {
            const target_kind *kind = target_kind_of_record(
                target_kinds[k]->record, json_object_get(en, "target"));
            int r = kind && kind->ck_noop ? kind->ck_noop(en, digest) : -1;
            if (r < 0)
                return false;
            proven |= r > 0;
        }
    }
    return proven;
}

/* The checkpoint `rlc rollback` restores by default: the newest one of a
 * run that changed something.  A re-run of the active plan writes a
 * checkpoint too (it may have crashed half-way), but rolling back to it
 * would change nothing; *skipped counts those passed over. */
bool xc_newest_checkpoint(const char *dir, char *out, size_t n, size_t *skipped)
{
    char cd[STATEDIR_PATH_MAX];
    statedir_path(dir, "checkpoints", cd);
    struct dirent **names = NULL;
    int k = scandir(cd, &names, NULL, alphasort);
    bool found = false;
    *skipped = 0;
    for (int i = k - 1; i >= 0; i--) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        if (!found && nm[0] != '.' && l > 5 && l < n + 5 && !strcmp(nm + l - 5, ".json")) {
            char path[STATEDIR_PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s", cd, nm);
            char *text = statedir_read(path, NULL);
            json_t *ck = text ? json_loads(text, 0, NULL) : NULL;
            free(text);
            /* An unreadable checkpoint is not skipped: restoring it reports why. */
            if (ck && checkpoint_is_noop(ck)) {
                (*skipped)++;
            } else {
                snprintf(out, n, "%.*s", (int)(l - 5), nm);
                found = true;
            }
            json_decref(ck);
        }
        free(names[i]);
    }
    free(names);
    return found;
}

/* The checkpoint to restore: id, or the newest of a run that changed
 * something; read into *ck (mode 0600 required). */
static bool rollback_checkpoint(xc *c, const char *checkpoint_id, char *id, size_t idn,
                                json_t **ck, rerr *e)
{
    const exec_opts *o = c->o;
    if (checkpoint_id) {
        snprintf(id, idn, "%s", checkpoint_id);
    } else {
        size_t skipped;
        if (!xc_newest_checkpoint(o->state_dir, id, idn, &skipped))
            return rerr_set(e, DIAG_CHECKPOINT, "no checkpoint in %s/checkpoints%s",
                            o->state_dir, skipped ? " of a deploy that changed anything" : "");
        if (skipped)
            json_object_set_new(c->summary, "skipped_noop_checkpoints",
                                json_integer((json_int_t)skipped));
    }
    char name[300];
    snprintf(name, sizeof name, "checkpoints/%s.json", id);
    statedir_path(o->state_dir, name, c->ckpt);
    struct stat sb;
    char *text = statedir_read(c->ckpt, NULL);
    *ck = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!*ck || stat(c->ckpt, &sb) != 0 || (sb.st_mode & 077))
        return rerr_set(e, DIAG_CHECKPOINT, "checkpoint %s is %s", c->ckpt,
                        !*ck ? "missing or not valid JSON"
                             : "readable by others (mode must be 0600)");
    return true;
}

/* Under the lock: refuse when a later deploy changed a target since the
 * checkpoint (unless --force), then restore every target. */
static exec_status rollback_restore(xc *c, const json_t *ck, const char *id, rerr *e)
{
    if (!xc_lock_all(c, e))
        return e->code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED;
    const char *ck_plan = json_string_value(json_object_get(ck, "plan_digest"));
    exec_status st = EXEC_OK;
    for (size_t i = 0; st == EXEC_OK && !c->o->force && i < c->nt; i++) {
        target *t = c->t[i];
        if (t->kind->rollback_check &&
            !t->kind->rollback_check(t, xc_ck_entry(ck, t), ck_plan, id, e))
            st = e->code == DIAG_ROLLBACK_REFUSED ? EXEC_REFUSED : EXEC_FAILED;
    }
    if (st == EXEC_OK && !xc_restore_all(c, ck, true, e))
        st = EXEC_FAILED;
    xc_unlock_all(c);
    return st;
}

exec_status exec_rollback(const char *checkpoint_id, const exec_opts *o, json_t **summary,
                          rerr *e)
{
    xc c;
    xc_init(&c, o);
    c.summary = json_object();
    *summary = c.summary;
    exec_status st;
    char lrun[64];
    statedir_new_id(lrun);
    int sdlock = xc_lock_state_dir(o, "rollback", lrun, e);
    json_t *ck = NULL;
    char id[256];
    if (sdlock < 0) {
        st = e->code == DIAG_LOCK_HELD ? EXEC_LOCKED : EXEC_FAILED;
        goto out;
    }
    if ((st = xc_recover_pending(o, e, c.summary)) != EXEC_OK)
        goto out;
    if (json_object_get(c.summary, "recovered") && !checkpoint_id) {
        /* Recovering an interrupted deploy was the rollback asked for. */
        json_object_set_new(c.summary, "result", json_string("recovered"));
        goto out;
    }
    if (!rollback_checkpoint(&c, checkpoint_id, id, sizeof id, &ck, e)) {
        st = EXEC_FAILED;
        goto out;
    }
    snprintf(c.nsbuf, sizeof c.nsbuf, "%s", json_string_value(json_object_get(ck, "namespace")) ?: "");
    snprintf(c.polbuf, sizeof c.polbuf, "%s", json_string_value(json_object_get(ck, "policy")) ?: "");
    c.env.ns = c.nsbuf;
    c.env.policy = c.polbuf;
    const char *ck_plan = json_string_value(json_object_get(ck, "plan_digest"));
    snprintf(c.digest, sizeof c.digest, "%s", ck_plan ? ck_plan : "");
    statedir_new_id(c.run);
    xc_new_token(&c);
    if (!xc_recorded_targets(&c, ck, true, false, e)) {
        st = EXEC_PREFLIGHT;
        goto out;
    }
    json_int_t nskip = json_integer_value(json_object_get(c.summary, "skipped_noop_checkpoints"));
    if (nskip)
        xc_say(&c, "rollback to checkpoint %s (passing over %lld newer checkpoint%s of runs "
               "that changed nothing)", id, (long long)nskip, nskip == 1 ? "" : "s");
    else
        xc_say(&c, "rollback to checkpoint %s", id);
    if ((st = rollback_restore(&c, ck, id, e)) != EXEC_OK)
        goto out;
    rerr ae;
    xc_audit(&c, "rollback", "rolled_back", NULL, NULL, NULL, &ae);
    xc_say(&c, "restored checkpoint %s: values and TTLs as they were", id);
    json_object_set_new(c.summary, "result", json_string("rolled_back"));
    json_object_set_new(c.summary, "checkpoint", json_string(id));
out:
    json_decref(ck);
    if (e->code)
        json_object_set_new(c.summary, "error", json_pack("{s:i,s:s}", "code", e->code,
                                                          "message", e->msg));
    xc_free(&c);
    statedir_unlock(sdlock);
    return st;
}
