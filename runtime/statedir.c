/* statedir.c - the local state directory.  See statedir.h. */
/* F_OFD_SETLK and F_OFD_GETLK are Linux's and need _GNU_SOURCE. */
#define _GNU_SOURCE
#include "statedir.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "digest.h"
#include "file_write.h"
#include "rand.h"
#include "xalloc.h"

static bool mkdir_p1(const char *p, rerr *e)
{
    if (mkdir(p, 0700) == 0 || errno == EEXIST)
        return true;
    return rerr_set(e, DIAG_STATE_IO, "cannot create state directory %s: %s", p,
                    strerror(errno));
}

bool statedir_path(const char *dir, const char *name, char out[STATEDIR_PATH_MAX])
{
    int n = snprintf(out, STATEDIR_PATH_MAX, "%s/%s", dir, name);
    return n > 0 && n < STATEDIR_PATH_MAX;
}

/* Whether one directory on the state dir's path is safe: owned by this
 * user (or, for a parent, root) and writable by nobody else, except a
 * parent with the sticky bit (/tmp), where others cannot rename or remove
 * what is ours.  As ssh's StrictModes: whoever can write a directory on the
 * path can swap the journal, a checkpoint or the audit log under us. */
static bool dir_safe(const char *p, bool self, rerr *e)
{
    struct stat st;
    if (stat(p, &st) != 0)
        return rerr_set(e, DIAG_STATE_IO, "cannot read state directory %s: %s", p,
                        strerror(errno));
    uid_t me = geteuid();
    if (st.st_uid != me && (self || st.st_uid != 0))
        return rerr_set(e, DIAG_STATE_IO,
                        "refusing state directory: %s is owned by uid %ld, not by this user "
                        "(uid %ld)", p, (long)st.st_uid, (long)me);
    if ((st.st_mode & 022) && (self || !(st.st_mode & S_ISVTX)))
        return rerr_set(e, DIAG_STATE_IO,
                        "refusing state directory: %s is writable by %s (mode %04o)", p,
                        (st.st_mode & 002) ? "every user" : "its group",
                        (unsigned)(st.st_mode & 07777));
    return true;
}

/* The state dir, its parents up to /, and the entries in it that must be
 * what they seem: checked before anything is written. */
static bool statedir_safe(const char *dir, rerr *e)
{
    char *real = realpath(dir, NULL);
    if (!real)
        return rerr_set(e, DIAG_STATE_IO, "cannot resolve state directory %s: %s", dir,
                        strerror(errno));
    bool ok = dir_safe(real, true, e);
    for (char *slash = strrchr(real, '/'); ok && slash; slash = strrchr(real, '/')) {
        slash[slash == real ? 1 : 0] = '\0';
        ok = dir_safe(real, false, e);
        if (slash == real)
            break;
    }
    free(real);
    /* Subdirectories must be real directories, files real files: a link
     * would send a checkpoint or an audit record somewhere else. */
    static const struct {
        const char *name;
        bool is_dir;
    } entries[] = {{"checkpoints", true}, {"runs", true}, {"journal.jsonl", false},
                   {"audit.jsonl", false}, {"audit.head", false}};
    for (size_t i = 0; ok && i < sizeof entries / sizeof entries[0]; i++) {
        char p[STATEDIR_PATH_MAX];
        struct stat st;
        if (!statedir_path(dir, entries[i].name, p) || lstat(p, &st) != 0)
            continue;
        if (S_ISLNK(st.st_mode))
            ok = rerr_set(e, DIAG_STATE_IO, "refusing state directory: %s is a symbolic link",
                          p);
        else if (entries[i].is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
            ok = rerr_set(e, DIAG_STATE_IO, "refusing state directory: %s is not a %s", p,
                          entries[i].is_dir ? "directory" : "regular file");
        else if (entries[i].is_dir)
            ok = dir_safe(p, true, e);
        else if (st.st_uid != geteuid())
            ok = rerr_set(e, DIAG_STATE_IO,
                          "refusing state directory: %s is owned by uid %ld, not by this user "
                          "(uid %ld)", p, (long)st.st_uid, (long)geteuid());
    }
    return ok;
}

bool statedir_resolve(const char *opt, char out[STATEDIR_PATH_MAX], rerr *e)
{
    const char *d = opt && *opt ? opt : getenv("RLC_STATE_DIR");
    if (!d || !*d)
        d = ".rlc";
    if (strlen(d) > STATEDIR_PATH_MAX - 64)
        return rerr_set(e, DIAG_STATE_IO, "state directory path too long");
    snprintf(out, STATEDIR_PATH_MAX, "%s", d);
    return true;
}

bool statedir_open(const char *opt, char out[STATEDIR_PATH_MAX], rerr *e)
{
    if (!statedir_resolve(opt, out, e))
        return false;
    char sub[STATEDIR_PATH_MAX];
    if (!mkdir_p1(out, e) || !statedir_safe(out, e))
        return false;
    statedir_path(out, "checkpoints", sub);
    if (!mkdir_p1(sub, e))
        return false;
    statedir_path(out, "runs", sub);
    return mkdir_p1(sub, e);
}

bool statedir_sync_parent(const char *path, rerr *e)
{
    char tmp[STATEDIR_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd) != 0) {
        if (fd >= 0)
            close(fd);
        return rerr_set(e, DIAG_STATE_IO, "cannot sync directory of %s: %s", path,
                        strerror(errno));
    }
    close(fd);
    return true;
}

bool statedir_write_atomic(const char *path, const void *data, size_t n, int mode, rerr *e)
{
    return statedir_write_flags(path, data, n, mode, 0, e);
}

bool statedir_write_flags(const char *path, const void *data, size_t n, int mode, int flags,
                          rerr *e)
{
    const char *part = data;
    char *msg;
    if (file_write_atomic(path, &part, &n, 1, mode, FW_EXACT_MODE | flags, &msg))
        return true;
    rerr_set(e, DIAG_STATE_IO, "%s", msg);
    free(msg);
    return false;
}

char *statedir_read(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    /* Sized from the file, its pages made ready at once, and read in as
     * few calls as the kernel allows: a deploy record of 100 000 tenants is
     * 9 MB, which a buffer doubling from 4 KiB read in 150 calls and
     * copied several times.  Grown should the file grow meanwhile. */
    struct stat st;
    size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 2 : 4096, n = 0;
    char *b = xmalloc(cap);
    xalloc_ready(b, cap);
    for (;;) {
        if (cap - n < 2) {
            b = xrealloc(b, cap * 2);
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

void statedir_new_id(char out[64])
{
    unsigned char r[8] = {0};
    if (!rand_fill(r, sizeof r))
        memset(r, 0, sizeof r); /* the time before it still tells runs apart */
    char hx[17];
    digest_hex(r, sizeof r, hx);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[16];
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%S", &tm);
    snprintf(out, 64, "%s.%06uZ-%s", ts, (unsigned)(now.tv_nsec / 1000) % 1000000u, hx);
}

bool statedir_newest(const char *dir, const char *sub, const char *suffix, char *out, size_t n)
{
    char path[STATEDIR_PATH_MAX];
    if (!statedir_path(dir, sub, path))
        return false;
    DIR *d = opendir(path);
    if (!d)
        return false;
    size_t sl = strlen(suffix);
    char best[256] = "";
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= sl || l >= sizeof best ||
            strcmp(de->d_name + l - sl, suffix))
            continue;
        if (strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    }
    closedir(d);
    if (!best[0])
        return false;
    best[strlen(best) - sl] = '\0';
    snprintf(out, n, "%s", best);
    return true;
}

long long statedir_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the run lock ------------------------------------------------------------ */

static struct flock whole_file(short type)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;   /* l_start = l_len = 0: the whole file */
    return fl;
}

void statedir_hostname(char *out, size_t n)
{
    if (gethostname(out, n) != 0 || !out[0])
        snprintf(out, n, "?");
    out[n - 1] = '\0';
}

void statedir_describe_holder(const char *holder_json, char *out, size_t n)
{
    json_t *h = holder_json ? json_loads(holder_json, 0, NULL) : NULL;
    if (!json_is_object(h)) {
        snprintf(out, n, "a process that did not say who it is");
        json_decref(h);
        return;
    }
    char since[32] = "?";
    json_int_t ms = json_integer_value(json_object_get(h, "since_ms"));
    if (ms > 0) {
        time_t s = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    snprintf(out, n, "pid %lld on %s (%s), rlc %s since %s, run %s",
             (long long)json_integer_value(json_object_get(h, "pid")),
             json_string_value(json_object_get(h, "host")) ?: "?",
             json_string_value(json_object_get(h, "user")) ?: "?",
             json_string_value(json_object_get(h, "verb")) ?: "?", since,
             json_string_value(json_object_get(h, "run")) ?: "?");
    json_decref(h);
}

/* The width of the holder's text in deploy.lock (read_holder reads up to
 * 2 047 bytes). */
#define HOLDER_WIDTH 1024

static char *read_holder(int fd)
{
    char text[2048];
    ssize_t k = pread(fd, text, sizeof text - 1, 0);
    /* Without the padding statedir_lock writes. */
    while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\n'))
        k--;
    text[k > 0 ? k : 0] = '\0';
    return xstrdup(text);
}

int statedir_lock(const char *dir, const char *holder_json, rerr *e)
{
    char path[STATEDIR_PATH_MAX];
    if (!statedir_path(dir, "deploy.lock", path)) {
        rerr_set(e, DIAG_STATE_IO, "state directory path too long");
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rerr_set(e, DIAG_STATE_IO, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        if (errno == EAGAIN || errno == EACCES) {
            char *h = read_holder(fd);
            char who[600];
            statedir_describe_holder(h && *h ? h : NULL, who, sizeof who);
            free(h);
            rerr_set(e, DIAG_LOCK_HELD, "a deploy is in progress in the state directory %s: "
                     "%s; wait for it to finish (or use another --state-dir)", dir, who);
        } else {
            rerr_set(e, DIAG_STATE_IO, "cannot lock %s: %s", path, strerror(errno));
        }
        close(fd);
        return -1;
    }
    /* Ours now: say who holds it.  The text is for messages only; the
     * lock is the proof. */
    /* Written over the last holder's text, padded with spaces (JSON
     * allows them) to a width that holds any holder, so that the file
     * keeps its size: truncating it first frees its block, which ext4
     * journals (about half a millisecond of every run). */
    size_t n = strlen(holder_json), w = n < HOLDER_WIDTH ? HOLDER_WIDTH : n + 1;
    char *text = xmalloc(w);
    memset(text, ' ', w - 1);
    memcpy(text, holder_json, n);
    text[w - 1] = '\n';
    struct stat st;
    bool ok = pwrite(fd, text, w, 0) == (ssize_t)w && fstat(fd, &st) == 0 &&
              (st.st_size <= (off_t)w || ftruncate(fd, (off_t)w) == 0);
    free(text);
    if (!ok) {
        rerr_set(e, DIAG_STATE_IO, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void statedir_unlock(int fd)
{
    if (fd < 0)
        return;
    struct flock fl = whole_file(F_UNLCK);
    (void)fcntl(fd, F_OFD_SETLK, &fl);
    close(fd);
}

bool statedir_lock_probe(const char *dir, bool *held, char **holder, rerr *e)
{
    *held = false;
    *holder = NULL;
    char path[STATEDIR_PATH_MAX];
    if (!statedir_path(dir, "deploy.lock", path))
        return rerr_set(e, DIAG_STATE_IO, "state directory path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;   /* never locked: no deploy ran from here */
        return rerr_set(e, DIAG_STATE_IO, "cannot open %s: %s", path, strerror(errno));
    }
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) {
        rerr_set(e, DIAG_STATE_IO, "cannot test the lock %s: %s", path, strerror(errno));
        close(fd);
        return false;
    }
    if (fl.l_type != F_UNLCK) {
        *held = true;
        *holder = read_holder(fd);
    }
    close(fd);
    return true;
}
