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
/* dir/name into out; false when too long. */
bool statedir_path(const char *dir, const char *name, char out[STATEDIR_PATH_MAX]);
/* Writes data to path atomically with the given mode (0600 for
 * checkpoints), fsyncing the file and its directory. */
bool statedir_write_atomic(const char *path, const void *data, size_t n, int mode, rerr *e);
/* fsyncs the directory containing path. */
bool statedir_sync_parent(const char *path, rerr *e);
/* Reads a whole file (malloc'd, NUL-terminated); NULL with errno set. */
char *statedir_read(const char *path, size_t *len);
/* A fresh random id: 16 hex digits of RAND_bytes, prefixed with the UTC
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
