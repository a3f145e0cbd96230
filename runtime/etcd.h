/* etcd.h - a small client for the etcd v3 JSON gateway (etcd 3.4:
 * POST /v3/kv/range, /v3/kv/put, /v3/kv/deleterange, /v3/kv/txn,
 * /v3/lease/grant|keepalive|revoke, /v3/auth/authenticate; GET /health).
 * Keys and values are bytes (base64 on the wire); 64-bit numbers travel as
 * JSON strings and fields with default values are omitted, which this
 * module hides.  One reused libcurl handle; errors are rerr values naming
 * the endpoint and the call (SPEC.md 7.8).
 *
 * Endpoints are tried in order: a request that could not connect (nothing
 * was sent) moves on to the next endpoint; a request that may have reached
 * a server is never re-sent, since a txn must not be applied twice. */
#ifndef RLC_ETCD_H
#define RLC_ETCD_H

#include <stdbool.h>
#include <stddef.h>

#include "rerr.h"

/* etcd's default --max-txn-ops: compares and operations per txn. */
#define ETCD_MAX_TXN_OPS 128

typedef struct etcd etcd;

typedef struct etcd_kv {
    char *key, *val;             /* malloc'd, NUL-terminated (bytes may hold NULs) */
    size_t keylen, vallen;
    long long create_rev, mod_rev, lease;
} etcd_kv;

typedef struct etcd_kvs {
    etcd_kv *v;
    size_t n;
    bool more;                   /* the range had more keys than the limit */
    long long rev;               /* store revision of the answer */
} etcd_kvs;

/* endpoints: "http://host:port" (https too).  user may be NULL or "" (no
 * auth); with a user, a token is fetched from /v3/auth/authenticate. */
etcd *etcd_open(const char *const *endpoints, size_t n, const char *user, const char *pass,
                int timeout_ms, rerr *e);
void etcd_close(etcd *c);
/* The endpoint in use, for messages. */
const char *etcd_endpoint(const etcd *c);

/* GET /health: {"health":"true"}; else RLC3180. */
bool etcd_health(etcd *c, rerr *e);
/* Keys in [key, range_end): range_end NULL = the one key; limit 0 = all. */
bool etcd_range(etcd *c, const char *key, const char *range_end, long long limit,
                etcd_kvs *out, rerr *e);
void etcd_kvs_free(etcd_kvs *k);
/* The smallest key greater than every key starting with prefix
 * (prefix with its last byte incremented), malloc'd. */
char *etcd_prefix_end(const char *prefix);
/* Base64 (RFC 4648, padded), as etcd's JSON gateway carries keys and values
 * and as checkpoints store bytes; malloc'd and NUL-terminated.  Decoding
 * returns NULL on invalid input (a NULL s decodes to ""). */
char *etcd_base64(const char *p, size_t n);
char *etcd_unbase64(const char *s, size_t *outlen);

typedef enum { ETCD_CMP_MOD, ETCD_CMP_CREATE } etcd_cmp_target;
typedef struct etcd_cmp {
    const char *key;
    etcd_cmp_target target;
    long long rev;               /* EQUAL; 0 means "absent" for either target */
} etcd_cmp;

typedef enum { ETCD_OP_PUT, ETCD_OP_DELETE, ETCD_OP_RANGE } etcd_op_kind;
typedef struct etcd_op {
    etcd_op_kind kind;
    const char *key;
    const char *val;             /* put */
    size_t vallen;
    long long lease;             /* put: 0 none */
} etcd_op;

/* One transaction: if every compare holds, the success ops run, else the
 * failure ops.  *succeeded tells which; *rev is the store revision after
 * it; ranges of the branch that ran are appended to *ranges (may be NULL). */
bool etcd_txn(etcd *c, const etcd_cmp *cmps, size_t ncmp, const etcd_op *ok_ops, size_t nok,
              const etcd_op *fail_ops, size_t nfail, bool *succeeded, long long *rev,
              etcd_kvs *ranges, rerr *e);
bool etcd_put(etcd *c, const char *key, const char *val, size_t vallen, long long lease,
              rerr *e);
bool etcd_delete(etcd *c, const char *key, const char *range_end, rerr *e);

bool etcd_lease_grant(etcd *c, long long ttl_s, long long *id, rerr *e);
/* *ttl is the remaining TTL after the renewal; 0 means the lease is gone. */
bool etcd_lease_keepalive(etcd *c, long long id, long long *ttl, rerr *e);
bool etcd_lease_revoke(etcd *c, long long id, rerr *e);

#endif
