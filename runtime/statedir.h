/* statedir.h - the local state directory of deploys: the journal, the
 * checkpoints, the audit log and its head.  Chosen by --state-dir, else
 * $RLC_STATE_DIR, else ./.rlc; created mode 0700.  Files that must survive
 * a crash are written whole to a temp file, fsynced, renamed, and the
 * directory fsynced (statedir_write_atomic). */
#ifndef RLC_STATEDIR_H
#define RLC_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "rerr.h"

#define STATEDIR_PATH_MAX 4096

/* Resolves the directory (opt may be NULL) into out and creates it and its
 * checkpoints/ and runs/ subdirectories. */
bool statedir_open(const char *opt, char out[STATEDIR_PATH_MAX], rerr *e);
/* The same without creating anything (`rlc status` writes nothing). */
bool statedir_resolve(const char *opt, char out[STATEDIR_PATH_MAX], rerr *e);

/* The run lock of a state directory: <dir>/deploy.lock, an open file
 * description lock (fcntl F_OFD_SETLK, Linux) that a deploy, rollback or
 * recovery holds from its first step to its last.  The kernel drops it when
 * the holder exits, however it exits, so a lock that can be taken proves
 * that no live process on this host is working in the directory (on NFS the
 * lock reaches the server, so other hosts see it too).  The file keeps the
 * holder's JSON ({"host","pid","run","since_ms","user","verb"}) for the
 * messages of those that find it held; it is never removed, since removing
 * a lock file lets two processes lock two different files.
 *
 * statedir_lock takes it without waiting: the open descriptor (>= 0, give
 * it to statedir_unlock), or -1 with RLC3160 naming the holder, or RLC3162.
 * holder_json is borrowed. */
int statedir_lock(const char *dir, const char *holder_json, rerr *e);
/* Releases and closes (fd < 0: nothing). */
void statedir_unlock(int fd);
/* Whether a live process holds the lock, without taking it and without
 * creating the file.  *holder (malloc'd JSON text, may be empty; NULL when
 * not held) is what the holder wrote. */
bool statedir_lock_probe(const char *dir, bool *held, char **holder, rerr *e);
/* "pid 4242 on build-7 (alice), rlc run since 2026-11-30T03:15:00Z, run RUN"
 * from a holder's JSON text (NULL or unreadable: "a process that did not say
 * who it is"). */
void statedir_describe_holder(const char *holder_json, char *out, size_t n);
/* This host's name (gethostname; "?" when it fails). */
void statedir_hostname(char *out, size_t n);
/* dir/name into out; false when too long. */
bool statedir_path(const char *dir, const char *name, char out[STATEDIR_PATH_MAX]);
/* Writes data to path atomically with the given mode (0600 for
 * checkpoints), fsyncing the file and its directory. */
bool statedir_write_atomic(const char *path, const void *data, size_t n, int mode, rerr *e);
/* The same with file_write_atomic's FW_* flags added. */
bool statedir_write_flags(const char *path, const void *data, size_t n, int mode, int flags,
                          rerr *e);
/* fsyncs the directory containing path. */
bool statedir_sync_parent(const char *path, rerr *e);
/* Reads a whole file (malloc'd, NUL-terminated); NULL with errno set. */
char *statedir_read(const char *path, size_t *len);
/* A fresh random id: 16 hex digits of random bytes (rand_fill), prefixed with the UTC
 * time to the microsecond so ids sort by age even for runs within one
 * second ("20261130T031500.123456Z-1f3a..."). */
void statedir_new_id(char out[64]);
/* The greatest name (byte order) in dir/sub ending in suffix, without the
 * suffix, into out: the newest checkpoint or run record.  False when there
 * is none. */
bool statedir_newest(const char *dir, const char *sub, const char *suffix, char *out, size_t n);
/* Milliseconds since the epoch (CLOCK_REALTIME). */
long long statedir_now_ms(void);

#endif
