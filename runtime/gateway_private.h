/* gateway_private.h - what gateway.c (etcd and the shared phases) and
 * gateway_http.c (HTTP admin APIs) share: the target and entry structs and
 * small helpers.  Not for use outside those two files. */
#ifndef RLC_GATEWAY_PRIVATE_H
#define RLC_GATEWAY_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "etcd.h"
#include "gateway.h"
#include "httpc.h"

#define GW_MAX_TARGETS 8
/* A txn's request stays under etcd's default --max-request-bytes (1.5 MiB)
 * once base64 and JSON are added. */
#define GW_TXN_MAX_BYTES (700u << 10)

typedef enum { GW_ETCD, GW_HTTP, GW_NGINX } gw_kind;

typedef struct gw_entry {
    char *tenant;              /* the tenant's name */
    char *key;                 /* etcd key; http: path after the url ("tenants/NAME") */
    char *newval;              /* canonical config; NULL: delete (dropped tenant) */
    size_t newlen;
    char *oldval;              /* live bytes at read time; NULL: absent */
    size_t oldlen;
    long long oldrev;          /* etcd: mod_revision read (0: absent) */
    char *oldtag;              /* http: ETag read (NULL: absent or none) */
    bool changed;
} gw_entry;

typedef struct gw_target {
    gw_kind kind;
    char name[128];
    json_t *desc;              /* {"name","kind","settings"[,"endpoints"]}: no secrets */
    char base[600];            /* "<prefix><ns>/" */
    char addr[1024];           /* endpoints / url, for messages and the audit log */
    etcd *ec;
    httpc *hc;                 /* http */
    char url[1024];            /* http: the admin API base URL (may hold a secret) */
    char shown[1024];          /* http: url without user:password, for messages */
    char token[1024];          /* http: bearer token ("" none) */
    gw_entry *ent;
    size_t nent;
    bool have_read;
    char *state_old;           /* <base>deploy/state as read; NULL absent */
    size_t state_oldlen;
    long long state_rev;
} gw_target;

struct gateway {
    gw_target t[GW_MAX_TARGETS];
    size_t n;
    char ns[128];
    /* the deploy lock (first etcd target) */
    gw_target *lt;
    char lkey[700];
    char token[64];
    long long lease;
    int ttl_ms;
    long long renewed_ms;
    bool held;
};

/* Percent-encodes a tenant name for a key or URL path (malloc'd). */
char *gw_enc_name(const char *s);
/* Resolves a secret setting (string, {"env"}, {"file"}) into out. */
bool gw_secret(const json_t *setting, char *out, size_t n, const char *what, rerr *e);
/* The canonical config text of a plan tenant (malloc'd). */
char *gw_config_text(const json_t *tenant);
/* Why a live value is not exactly the canonical config of version ver
 * (ver NULL: of the version it names), or NULL. */
const char *gw_config_problem(const char *val, size_t len, const char *ver);
/* One checkpoint entry {"k": key, "v64": base64 value or null} of target
 * t: its key, and its value decoded (malloc'd; NULL when the key was
 * absent).  False with e set when the entry is malformed. */
bool gw_ck_entry(const gw_target *t, const json_t *entry, const char **key, char **val,
                 size_t *len, rerr *e);
/* Sorts entries by key. */
void gw_sort_entries(gw_target *t);

/* HTTP targets (gateway_http.c): the same phases as etcd's. */
bool gwh_connect(gw_target *t, rerr *e);
bool gwh_health(gw_target *t, rerr *e);
bool gwh_read(gw_target *t, const json_t *tenants, rerr *e);
bool gwh_apply(gw_target *t, size_t *written, rerr *e);
bool gwh_verify(gw_target *t, rerr *e);
bool gwh_restore(gw_target *t, const json_t *keys, rerr *e);
bool gwh_status(gw_target *t, json_t *tj, json_t *drift, rerr *e);

/* nginx targets (gateway_nginx.c): the generated snippet as one entry. */
bool gwn_health(gw_target *t, rerr *e);
bool gwn_read(gw_target *t, const json_t *plan, rerr *e);
bool gwn_apply(gw_target *t, size_t *written, rerr *e);
bool gwn_verify(gw_target *t, rerr *e);
bool gwn_restore(gw_target *t, const json_t *keys, rerr *e);
bool gwn_status(gw_target *t, json_t *tj, json_t *drift, rerr *e);

#endif
