/* audit.c - the hash-chained audit log.  See audit.h.
 *
 * Appends take an exclusive flock on the log so two rlc processes never
 * interleave records.  The previous hash comes from the head file when there
 * is one (not from the file's last line), so a record appended after a
 * truncation still does not chain onto the cut log. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "file_write.h"
#include "statedir.h"
#include "xalloc.h"

static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

void audit_head_text(const audit_head *h, char out[96])
{
    snprintf(out, 96, "%lu %s", h->seq, h->seq ? h->hash : zero_hash);
}

bool audit_head_parse(const char *s, audit_head *h)
{
    char hx[80];
    if (sscanf(s, "%lu %70s", &h->seq, hx) != 2 || strlen(hx) != DIGEST_HEX_LEN)
        return false;
    memcpy(h->hash, hx, DIGEST_HEX_LEN + 1);
    return true;
}

bool audit_read_anchor(const char *state_dir, audit_head *h, bool *present, rerr *e)
{
    char path[STATEDIR_PATH_MAX];
    statedir_path(state_dir, "audit.head", path);
    memset(h, 0, sizeof *h);
    *present = false;
    char *s = statedir_read(path, NULL);
    if (!s)
        return errno == ENOENT ? true
                               : rerr_set(e, DIAG_AUDIT_IO, "cannot read %s: %s", path,
                                          strerror(errno));
    bool ok = audit_head_parse(s, h);
    free(s);
    if (!ok)
        return rerr_set(e, DIAG_AUDIT_ANCHOR, "%s is not 'SEQ HASH'", path);
    *present = true;
    return true;
}

/* The hash of a record = SHA-256 of its canonical JSON without "hash". */
static bool record_hash(json_t *rec, char out[DIGEST_HEX_LEN + 1])
{
    json_t *copy = json_copy(rec);
    json_object_del(copy, "hash");
    bool ok = digest_json_hex(copy, out);
    json_decref(copy);
    return ok;
}

static json_t *actor(void)
{
    json_t *a = json_object();
    const char *user = getenv("USER");
    struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name)
        user = pw->pw_name;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    json_object_set_new(a, "user", json_string(user ? user : "?"));
    json_object_set_new(a, "host", json_string(host));
    json_object_set_new(a, "pid", json_integer(getpid()));
    static const char *ci_vars[] = {"RLC_CI_JOB", "CI_JOB_ID", "GITHUB_RUN_ID", "BUILD_ID"};
    for (size_t i = 0; i < sizeof ci_vars / sizeof ci_vars[0]; i++) {
        const char *v = getenv(ci_vars[i]);
        if (v && *v) {
            json_object_set_new(a, "ci_job", json_string(v));
            break;
        }
    }
    return a;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* Last line of the log (for a log that has no head file yet). */
static bool last_record_head(int fd, audit_head *h)
{
    memset(h, 0, sizeof *h);
    off_t end = lseek(fd, 0, SEEK_END);
    if (end <= 0)
        return true;
    size_t want = end > 65536 ? 65536 : (size_t)end;
    char *b = xmalloc(want + 1);
    if (pread(fd, b, want, end - (off_t)want) != (ssize_t)want) {
        free(b);
        return false;
    }
    b[want] = '\0';
    while (want && b[want - 1] == '\n')
        b[--want] = '\0';
    char *line = strrchr(b, '\n');
    line = line ? line + 1 : b;
    json_t *j = json_loads(line, 0, NULL);
    bool ok = false;
    if (j && json_is_integer(json_object_get(j, "seq")) &&
        json_is_string(json_object_get(j, "hash"))) {
        h->seq = (unsigned long)json_integer_value(json_object_get(j, "seq"));
        snprintf(h->hash, sizeof h->hash, "%s", json_string_value(json_object_get(j, "hash")));
        ok = true;
    }
    json_decref(j);
    free(b);
    return ok;
}

bool audit_append(const char *state_dir, const audit_rec *r, audit_head *head, char **line_out,
                  rerr *e)
{
    char path[STATEDIR_PATH_MAX], hpath[STATEDIR_PATH_MAX];
    statedir_path(state_dir, "audit.jsonl", path);
    statedir_path(state_dir, "audit.head", hpath);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
    if (fd < 0)
        return rerr_set(e, DIAG_AUDIT_IO, "cannot open %s: %s", path, strerror(errno));
    bool ok = false;
    json_t *rec = NULL;
    char *text = NULL;
    if (flock(fd, LOCK_EX) != 0) {
        rerr_set(e, DIAG_AUDIT_IO, "cannot lock %s: %s", path, strerror(errno));
        goto out;
    }
    audit_head prev;
    bool present;
    if (!audit_read_anchor(state_dir, &prev, &present, e))
        goto out;
    if (!present && !last_record_head(fd, &prev)) {
        rerr_set(e, DIAG_AUDIT_CHAIN, "%s: the last record is damaged and there is no head "
                                      "file to chain from; run 'rlc audit verify'", path);
        goto out;
    }
    long long now = statedir_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[40];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char ts2[48];
    snprintf(ts2, sizeof ts2, "%s.%03dZ", ts, (int)(now % 1000));

    rec = json_object();
    json_object_set_new(rec, "seq", json_integer((json_int_t)prev.seq + 1));
    json_object_set_new(rec, "prev", json_string(prev.seq ? prev.hash : zero_hash));
    json_object_set_new(rec, "time", json_string(ts2));
    json_object_set_new(rec, "actor", actor());
    json_object_set_new(rec, "action", json_string(r->action));
    json_object_set_new(rec, "run", str_or_null(r->run_id));
    json_object_set_new(rec, "plan_digest", str_or_null(r->plan_digest));
    json_object_set_new(rec, "policy", str_or_null(r->policy));
    json_object_set_new(rec, "targets", r->targets ? json_incref(r->targets) : json_array());
    json_object_set_new(rec, "state_before", str_or_null(r->state_before));
    json_object_set_new(rec, "state_after", str_or_null(r->state_after));
    json_object_set_new(rec, "result", json_string(r->result));
    if (r->err_code) {
        char code[16];
        diag_code_str(r->err_code, code);
        json_t *err = json_object();
        json_object_set_new(err, "code", json_string(code));
        json_object_set_new(err, "message", json_string(r->err_msg ? r->err_msg : ""));
        json_object_set_new(rec, "error", err);
    } else {
        json_object_set_new(rec, "error", json_null());
    }
    audit_head h = {.seq = prev.seq + 1};
    if (!record_hash(rec, h.hash)) {
        rerr_set(e, DIAG_AUDIT_IO, "cannot hash the audit record");
        goto out;
    }
    json_object_set_new(rec, "hash", json_string(h.hash));
    text = digest_canonical_json(rec);
    if (!text) {
        rerr_set(e, DIAG_AUDIT_IO, "cannot encode the audit record");
        goto out;
    }
    size_t len = strlen(text);
    char *line = xmalloc(len + 2);
    memcpy(line, text, len);
    line[len] = '\n';
    ssize_t w = write(fd, line, len + 1);
    free(line);
    if (w != (ssize_t)(len + 1) || fsync(fd) != 0) {
        rerr_set(e, DIAG_AUDIT_IO, "cannot append to %s: %s", path, strerror(errno));
        goto out;
    }
    char ht[96];
    audit_head_text(&h, ht);
    strcat(ht, "\n");
    /* Written over in place and flushed (a sector: the old head or the
     * new one after a crash), not replaced: no temporary file, rename or
     * flush of the directory on every record. */
    if (!statedir_write_flags(hpath, ht, strlen(ht), 0600, FW_SECTOR, e))
        goto out;
    if (head)
        *head = h;
    ok = true;
out:
    if (ok && line_out) {
        *line_out = text;
        text = NULL;
    }
    free(text);
    json_decref(rec);
    close(fd);   /* releases the flock */
    return ok;
}

json_t *audit_load(const char *state_dir, rerr *e)
{
    char path[STATEDIR_PATH_MAX];
    statedir_path(state_dir, "audit.jsonl", path);
    char *s = statedir_read(path, NULL);
    json_t *arr = json_array();
    if (!s) {
        if (errno == ENOENT)
            return arr;
        rerr_set(e, DIAG_AUDIT_IO, "cannot read %s: %s", path, strerror(errno));
        json_decref(arr);
        return NULL;
    }
    unsigned long lineno = 0;
    for (char *p = s, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p) - 1;
        else
            *nl = '\0';
        lineno++;
        json_error_t je;
        json_t *j = json_loads(p, 0, &je);
        if (!j || !json_is_object(j)) {
            rerr_set(e, DIAG_AUDIT_CHAIN, "%s:%lu: not a JSON record (%s)", path, lineno,
                     j ? "not an object" : je.text);
            json_decref(j);
            json_decref(arr);
            free(s);
            return NULL;
        }
        json_array_append_new(arr, j);
    }
    free(s);
    return arr;
}

bool audit_verify(const char *state_dir, const audit_head *store_anchor, unsigned long *records,
                  audit_head *head, rerr *e)
{
    json_t *arr = audit_load(state_dir, e);
    if (!arr)
        return false;
    bool ok = false;
    audit_head h = {0};
    size_t i;
    json_t *rec;
    json_array_foreach(arr, i, rec) {
        unsigned long line = (unsigned long)i + 1;
        json_t *seq = json_object_get(rec, "seq"), *prev = json_object_get(rec, "prev"),
               *hash = json_object_get(rec, "hash");
        if (!json_is_integer(seq) || !json_is_string(prev) || !json_is_string(hash)) {
            rerr_set(e, DIAG_AUDIT_CHAIN, "line %lu: record lacks seq, prev or hash", line);
            goto out;
        }
        char want[DIGEST_HEX_LEN + 1];
        record_hash(rec, want);
        if (strcmp(want, json_string_value(hash))) {
            rerr_set(e, DIAG_AUDIT_CHAIN, "line %lu (seq %lld): contents do not match its "
                                          "hash: the record was modified", line,
                     (long long)json_integer_value(seq));
            goto out;
        }
        if (strcmp(json_string_value(prev), h.seq ? h.hash : zero_hash)) {
            rerr_set(e, DIAG_AUDIT_CHAIN, "line %lu (seq %lld): 'prev' is not the hash of the "
                                          "record before it: a record was removed, inserted "
                                          "or moved before this line", line,
                     (long long)json_integer_value(seq));
            goto out;
        }
        if (json_integer_value(seq) != (json_int_t)h.seq + 1) {
            rerr_set(e, DIAG_AUDIT_CHAIN, "line %lu: seq %lld where %lu was expected", line,
                     (long long)json_integer_value(seq), h.seq + 1);
            goto out;
        }
        h.seq++;
        memcpy(h.hash, json_string_value(hash), DIGEST_HEX_LEN + 1);
    }
    audit_head anchor;
    bool present;
    if (!audit_read_anchor(state_dir, &anchor, &present, e))
        goto out;
    if (!present && h.seq) {
        rerr_set(e, DIAG_AUDIT_ANCHOR, "the log has %lu records but audit.head is missing",
                 h.seq);
        goto out;
    }
    if (present && (anchor.seq != h.seq || (h.seq && strcmp(anchor.hash, h.hash)))) {
        rerr_set(e, DIAG_AUDIT_ANCHOR, "the log ends at seq %lu but audit.head says seq %lu: "
                 "%s", h.seq, anchor.seq, anchor.seq > h.seq ? "records were cut from the end"
                                                             : "the head file is stale or the "
                                                               "log was replaced");
        goto out;
    }
    if (store_anchor && (store_anchor->seq != h.seq ||
                         (h.seq && strcmp(store_anchor->hash, h.hash)))) {
        rerr_set(e, DIAG_AUDIT_ANCHOR, "the log ends at seq %lu but the store's head says seq "
                 "%lu: %s", h.seq, store_anchor->seq,
                 store_anchor->seq > h.seq ? "records were cut from the end"
                                           : "the log was replaced or written elsewhere");
        goto out;
    }
    ok = true;
out:
    if (records)
        *records = h.seq;
    if (head)
        *head = h;
    json_decref(arr);
    return ok;
}
