/* cfg_store.h - what the config-store target kinds share (etcd, SPEC.md
 * 7.8; HTTP admin APIs, 7.9; nginx, 7.10): each tenant is one entry whose
 * value is the tenant's config JSON (canonical {"name","version","rules"},
 * SPEC 5.7).  A kind reads the live entries and decides which change; the
 * checkpoint, dry-run changes and diff of the entries are the same for
 * all, and are here.  Not for use outside the config-store kinds. */
#ifndef RLC_CFG_STORE_H
#define RLC_CFG_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "target.h"

typedef struct cfg_entry {
    char *tenant;              /* the tenant's name */
    char *key;                 /* etcd key; http: path after the url ("tenants/NAME") */
    char *newval;              /* canonical config; NULL: delete (dropped tenant) */
    size_t newlen;
    char *oldval;              /* live bytes at read time; NULL: absent */
    size_t oldlen;
    long long oldrev;          /* etcd: mod_revision read (0: absent) */
    char *oldtag;              /* http: ETag read (NULL: absent or none) */
    bool changed;
} cfg_entry;

typedef struct cfg_target {
    target base;
    char prefix[600];          /* "<prefix><ns>/" */
    cfg_entry *ent;
    size_t nent;
} cfg_target;

/* A target of kind k, size bytes (the kind's struct), from the plan's entry
 * or a recorded description tj. */
target *cfg_create(size_t size, const target_kind *k, const json_t *tj,
                   const target_env *env);
/* Frees the entries and the description (not t). */
void cfg_clear(cfg_target *t);
void cfg_entries_free(cfg_target *t);

/* The command's timeout: settings.timeout_ms, $RLC_TIMEOUT_MS, or dflt. */
int cfg_timeout_ms(const target *t, int dflt);
/* Percent-encodes a tenant name for a key or URL path (malloc'd). */
char *cfg_enc_name(const char *s);
/* The canonical config text of a plan tenant (malloc'd). */
char *cfg_config_text(const json_t *tenant);
/* Why a live value is not exactly the canonical config of version ver
 * (ver NULL: of the version it names), or NULL. */
const char *cfg_config_problem(const char *val, size_t len, const char *ver);
/* "version" of a config text (a new reference; null when val is NULL). */
json_t *cfg_version_of(const char *val, size_t len);
/* One checkpoint entry {"k": key, "v64": base64 value or null} of target
 * t: its key, and its value decoded (malloc'd; NULL when the key was
 * absent).  False with e set when the entry is malformed. */
bool cfg_ck_entry(const target *t, const json_t *entry, const char **key, char **val,
                  size_t *len, rerr *e);
/* Sorts entries by key. */
void cfg_sort_entries(cfg_target *t);
/* Counts the changed and removed entries into r. */
void cfg_count(const cfg_target *t, target_read *r);
/* The changed entries as checkpoint keys [{"k","v64","rev"[,"etag"]}]. */
json_t *cfg_checkpoint_keys(const cfg_target *t);

/* Operations every config-store kind uses as they are. */
void cfg_changes(const target *t, json_t *out);
json_t *cfg_checkpoint(target *t, rerr *e);
int cfg_ck_noop(const json_t *entry, const char *plan_digest);
bool cfg_diff(target *t, json_t *summary, json_t *tenants, rerr *e);

/* File targets (nginx, emit): writes data (NULL: removes the file) at path
 * atomically in its directory. */
bool cfg_put_file(const target *t, const char *path, const char *data, size_t len, rerr *e);
/* The read of a file target: its one entry, labelled label, for the file
 * at path that is to hold data (len bytes, copied), with what the file
 * holds now (absent: no old value) and whether that differs; counted into
 * rd.  A file that cannot be read is a state I/O error (DIAG_STATE_IO). */
bool cfg_file_read(cfg_target *t, const char *label, const char *path, const char *data,
                   size_t len, target_read *rd, rerr *e);
/* Whether the file of entry x still holds what was read (or is still
 * absent); RLC3190 in e when it changed since, so that a hand edit made
 * during the deploy fails it instead of being overwritten. */
bool cfg_file_unchanged(const target *t, const cfg_entry *x, rerr *e);
/* The verify of a file target: its one entry reads back as written. */
bool cfg_file_verify(target *t, json_t *summary, rerr *e);
/* The restore of a file target: each checkpointed file written back (or
 * removed); after each, after(t, e) when given (nginx reloads). */
bool cfg_file_restore(target *t, const json_t *entry, bool (*after)(const target *, rerr *),
                      rerr *e);

#endif
