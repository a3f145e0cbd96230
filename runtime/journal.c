/* journal.c - the deploy journal.  See journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "xalloc.h"

static bool write_line(journal *j, json_t *obj, bool sync, rerr *e)
{
    char *s = digest_canonical_json(obj);
    json_decref(obj);
    if (!s)
        return rerr_set(e, DIAG_STATE_IO, "cannot encode a journal entry");
    size_t n = strlen(s);
    s[n] = '\0';
    char *line = xmalloc(n + 2);
    memcpy(line, s, n);
    line[n] = '\n';
    free(s);
    ssize_t w = write(j->fd, line, n + 1);
    free(line);
    if (w != (ssize_t)(n + 1) || (sync && fsync(j->fd) != 0))
        return rerr_set(e, DIAG_STATE_IO, "cannot write the journal %s: %s", j->path,
                        strerror(errno));
    return true;
}

bool journal_begin(journal *j, const char *state_dir, const char *run_id, json_t *header,
                   rerr *e)
{
    j->fd = -1;
    snprintf(j->dir, sizeof j->dir, "%s", state_dir);
    snprintf(j->run_id, sizeof j->run_id, "%s", run_id);
    statedir_path(state_dir, "journal.jsonl", j->path);
    j->fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0600);
    if (j->fd < 0) {
        json_decref(header);
        if (errno == EEXIST)
            return rerr_set(e, DIAG_INTERRUPTED, "an interrupted deploy left %s; run 'rlc "
                            "rollback' to recover it first", j->path);
        return rerr_set(e, DIAG_STATE_IO, "cannot create %s: %s", j->path, strerror(errno));
    }
    if (!header)
        header = json_object();
    json_object_set_new(header, "phase", json_string("begin"));
    json_object_set_new(header, "run", json_string(run_id));
    json_object_set_new(header, "t", json_integer(statedir_now_ms()));
    if (!write_line(j, header, true, e))
        return false;
    return statedir_sync_parent(j->path, e);
}

static bool note(journal *j, const char *phase, json_t *extra, bool sync, rerr *e)
{
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "phase", json_string(phase));
    json_object_set_new(o, "t", json_integer(statedir_now_ms()));
    return write_line(j, o, sync, e);
}

bool journal_note(journal *j, const char *phase, json_t *extra, rerr *e)
{
    return note(j, phase, extra, true, e);
}

bool journal_note_unsynced(journal *j, const char *phase, json_t *extra, rerr *e)
{
    return note(j, phase, extra, false, e);
}

static bool finish(journal *j, const char *phase, bool sync, rerr *e)
{
    if (!note(j, phase, NULL, sync, e))
        return false;
    close(j->fd);
    j->fd = -1;
    char dst[STATEDIR_PATH_MAX], name[128];
    snprintf(name, sizeof name, "runs/%s.jsonl", j->run_id);
    statedir_path(j->dir, name, dst);
    if (rename(j->path, dst) != 0)
        return rerr_set(e, DIAG_STATE_IO, "cannot move %s to %s: %s", j->path, dst,
                        strerror(errno));
    return !sync || statedir_sync_parent(j->path, e);
}

bool journal_finish(journal *j, const char *phase, rerr *e)
{
    return finish(j, phase, true, e);
}

bool journal_finish_unsynced(journal *j, const char *phase, rerr *e)
{
    return finish(j, phase, false, e);
}

/* The entries of journal.jsonl, or NULL (e->code 0: none, or nothing
 * durable in it; *empty tells which). */
static json_t *read_entries(const char *state_dir, bool *empty, rerr *e)
{
    rerr_clear(e);
    *empty = false;
    char path[STATEDIR_PATH_MAX];
    statedir_path(state_dir, "journal.jsonl", path);
    size_t n;
    char *s = statedir_read(path, &n);
    if (!s) {
        if (errno != ENOENT)
            rerr_set(e, DIAG_STATE_IO, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    json_t *arr = json_array();
    for (char *p = s, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl)
            break;   /* torn last line: its step never started */
        *nl = '\0';
        json_t *o = json_loads(p, 0, NULL);
        if (!o)
            break;
        json_array_append_new(arr, o);
    }
    free(s);
    if (json_array_size(arr) == 0 || !journal_header(arr)) {
        json_decref(arr);
        *empty = true;
        return NULL;
    }
    return arr;
}

json_t *journal_pending(const char *state_dir, rerr *e)
{
    bool empty;
    json_t *arr = read_entries(state_dir, &empty, e);
    if (empty) {
        /* Nothing durable was written: the deploy never began.  The caller
         * holds the state directory's lock, so its writer is gone: remove
         * the empty journal so it does not block the next run. */
        char path[STATEDIR_PATH_MAX];
        statedir_path(state_dir, "journal.jsonl", path);
        unlink(path);
    }
    return arr;
}

json_t *journal_peek(const char *state_dir, rerr *e)
{
    bool empty;
    return read_entries(state_dir, &empty, e);
}

const char *journal_last_phase(const json_t *entries)
{
    json_t *o = json_array_get(entries, json_array_size(entries) - 1);
    return json_string_value(json_object_get(o, "phase"));
}

bool journal_adopt(journal *j, const char *state_dir, const char *run_id, rerr *e)
{
    snprintf(j->dir, sizeof j->dir, "%s", state_dir);
    snprintf(j->run_id, sizeof j->run_id, "%s", run_id);
    statedir_path(state_dir, "journal.jsonl", j->path);
    /* Cut a torn tail so the next entry starts on its own line. */
    size_t n;
    char *s = statedir_read(j->path, &n);
    if (s) {
        char *last = strrchr(s, '\n');
        size_t keep = last ? (size_t)(last - s) + 1 : 0;
        free(s);
        if (keep != n && truncate(j->path, (off_t)keep) != 0)
            return rerr_set(e, DIAG_STATE_IO, "cannot repair %s: %s", j->path,
                            strerror(errno));
    }
    j->fd = open(j->path, O_WRONLY | O_APPEND | O_NOFOLLOW);
    if (j->fd < 0)
        return rerr_set(e, DIAG_STATE_IO, "cannot open %s: %s", j->path, strerror(errno));
    return true;
}

bool journal_has(const json_t *entries, const char *phase)
{
    size_t i;
    json_t *o;
    json_array_foreach(entries, i, o) {
        const char *p = json_string_value(json_object_get(o, "phase"));
        if (p && !strcmp(p, phase))
            return true;
    }
    return false;
}

json_t *journal_header(const json_t *entries)
{
    json_t *h = json_array_get(entries, 0);
    const char *p = json_string_value(json_object_get(h, "phase"));
    return p && !strcmp(p, "begin") ? h : NULL;
}
