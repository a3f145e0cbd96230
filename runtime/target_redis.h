/* target_redis.h - what the files of the Redis target kind share: the
 * target struct and the helpers one file needs of another.  target_redis.c
 * holds the kind's table and most phases; redis_preflight.c the checks
 * before the lock, redis_checkpoint.c checkpoint and restore,
 * redis_verify.c verification against shadow keys,
 * redis_manifest.c the state directory's record of the store.  Not for use
 * outside those files: the deploy reaches them through target.h. */
#ifndef RLC_TARGET_REDIS_H
#define RLC_TARGET_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lock.h"
#include "redis_cluster.h"
#include "redis_config.h"

/* The name verification gives every template level (compiler/plan.c). */
#define RT_VERIFY_VALUE "rlc-verify"
#include "statedir.h"
#include "target.h"

extern const target_kind target_redis;

typedef struct rtenant {
    /* Pointers first, flags last: 100 000 of these are written at every
     * re-apply, and padding between fields was a sixth of them. */
    const rl_tenant *t;        /* NULL: a tenant removed by this plan */
    const char *name;
    char *tag;                 /* "{ns:name}", made when first needed (rt_tag) */
    const char *live;          /* live active version, NULL when none: was itself when
                                * the record proves it (most of 100 000 tenants), else
                                * owned (live_own) */
    const char *was;           /* its entry in t->st (the deploy state), NULL when none */
    redis_cmds cmds;           /* HSET config, activate */
    char newver[REDIS_CONFIG_VERSION_LEN + 1];
    bool live_own;
    bool changed;
    bool verified;             /* a verification case's tenant (its rules are kept) */
    bool same_rec;             /* newver is the record's entry, which was is: the two are
                                * equal without comparing them (most of 100 000) */
} rtenant;

/* A tenant -> config version entry, with the plan version (64 hex digits)
 * its config was encoded from when a deploy record gives it (else NULL). */
typedef struct rkv {
    const char *k, *v, *pv;
} rkv;

/* One bucket of a deploy record (redis_manifest.c, SPEC.md 7.7): a run of
 * consecutive entries of the tenant -> config version map, cut where the
 * names say (SPEC.md 5.2), kept as one blob of a pack file. */
typedef struct rbucket {
    char state[DIGEST_HEX_LEN + 1];   /* the digest of its entries (the state's) */
    char plan[DIGEST_HEX_LEN + 1];    /* the plan bucket it was read whole from, or "" */
    char sha[DIGEST_HEX_LEN + 1];     /* of its blob */
    const char *first, *last;         /* its first and last names (in the index) */
    size_t n;
    long long off, len;               /* its blob in the pack */
    /* Once opened (its blob read and checked): its entries, in name order,
     * their strings in text (the blob, cut in place), or in escaped when
     * the names held escapes (copied out by jansson); names and vers the
     * same for tknown. */
    rkv *v;
    char *text, *escaped;
    const char **names, **vers;
    bool opened, bad;
} rbucket;

/* A deploy record: the index (one entry per bucket) read, the buckets
 * opened only when asked for. */
typedef struct rrecord {
    json_t *idx;                      /* the index as jansson read it, or NULL */
    char *itext;                      /* the index's text, cut, when scanned */
    char manifest[DIGEST_HEX_LEN + 1];
    char pack[STATEDIR_PATH_MAX];     /* its pack file */
    const char *encoder;
    rbucket *b;
    size_t nb;
    /* Tenants named by the cases of the plan deployed when the index was
     * written, every one in the map then: sorted, each once (borrowed
     * from itext or idx). */
    const char **cases;
    size_t ncases;
} rrecord;

/* Opens bucket j of r: false when its blob is missing or does not hash to
 * its digest. */
bool redis_record_open(rrecord *r, size_t j);

typedef struct rtarget {
    target base;
    rurl url;
    char user[128], pass[512];
    rstore *s;
    bool functions;
    bool probed;               /* preflight found whether the store has functions */
    char sha[41];              /* the script's sha (before Redis 7) */
    dlock lock;
    rtenant *ten;
    size_t nten;
    /* The live NS:deploy:state (tenant -> config version), or the record's
     * map standing for it (but for its elided buckets), sorted by name:
     * st[0..nst), its strings in st_text or the record's.  have_state:
     * read (st may still be empty). */
    rkv *st;
    size_t nst;
    char *st_text;
    bool have_state;
    /* This state directory's record of the store, when the store's
     * manifest matches it (rec_own: the target read it, else the plan
     * load's, borrowed); elided[j]: its bucket j was not even opened (the
     * plan's bucket is the same; SPEC.md 7.7).  rec_kv: its entries with
     * their plan versions (st itself) when made with this encoder. */
    rrecord *rec;
    bool rec_own;
    const size_t *elided;      /* never NULL with rec */
    bool elided_own;
    const rkv *rec_kv;
    size_t rec_n;
    char *live_plan;           /* live NS:deploy:plan */
    char manifest_path[STATEDIR_PATH_MAX];  /* this state dir's record of the target */
    bool fast_read;            /* the store's manifest matched that record */
    /* The store's NS:deploy:manifest when fast_read, and whether every
     * pointer read held what the record says: then the live map is the
     * record's, whose digest that manifest is (no need to hash it again). */
    char live_manifest[DIGEST_HEX_LEN + 1];
    bool live_is_record;
    /* The state digest "after", once computed (t->ten is fixed after the
     * read: the digest is asked for at read, commit and after commit), and
     * its buckets, which the record keeps. */
    char after[DIGEST_HEX_LEN + 1];
    struct rsbucket *after_b;
    size_t nafter_b;
    struct rsitem *after_items;
    buf after_text;            /* the explicit buckets' maps, one after the other */
    size_t pointers_read;      /* active pointers read from the store */
    size_t encoded;            /* tenant configs encoded (the others' versions known) */
    struct rprep *prep;        /* the record's blobs written ahead (redis_manifest_prepare) */
    arena *scratch;            /* the rules of a tenant being encoded, then forgotten */
    redis_config_enc enc;      /* the encoder's memory, kept from tenant to tenant */
    /* A store small enough to list (a first deploy's, most often): every
     * key it held when last listed, sorted, so that keys it does not hold
     * need not be read one by one (rt_keyspace). */
    char **keys;
    size_t nkeys;
    bool keys_known;
    /* A first deploy into a namespace the listed store holds no key of:
     * the checkpoint names the namespace instead of each key (its rollback
     * deletes every key of the namespace's tags), so configs are encoded
     * while the ones before them are on the wire (rt_apply), not all
     * before the checkpoint.  fresh_encoded: they all have been. */
    bool fresh;
    bool fresh_encoded;
    /* The store's library, before this deploy loaded its own, was this
     * plan's, byte for byte (Redis 7 functions), and this state directory's
     * record was made under it: verification may then run only the cases
     * of the tenants whose config changes (the library read again with
     * them: redis_verify.c). */
    bool lib_same;
    /* The store's library, read by the checkpoint under the deploy lock,
     * is this plan's byte for byte (one node, Redis 7 functions): the
     * apply does not load it again (FUNCTION LOAD compiles it, about a
     * millisecond of the server's time on every run). */
    bool lib_current;
    /* The library as the read (under the deploy lock) found it, for the
     * checkpoint: nothing this deploy sends changes it in between. */
    buf lib_text;               /* the library this plan loads, once composed */
    buf script_text;            /* its script form, for SCRIPT LOAD */
    bool lib_composed;
    json_t *lib_read;
    bool lib_read_is_plans;     /* lib_read is this plan's library, byte for byte */
} rtarget;

/* Whether code (FUNCTION LIST's library_code, as rt_library_loaded
 * answers it) is the library this plan loads, byte for byte. */
bool rt_library_is_plans(rtarget *t, const json_t *code);

/* Whether the listed store (t->keys_known) holds no key of the namespace:
 * none under its tags "{ns:" and no deploy state, plan or manifest. */
bool rt_namespace_empty(const rtarget *t);
/* Encodes every plan tenant not encoded yet (a fresh deploy that falls
 * back to naming each key). */
bool rt_encode_all(rtarget *t, rerr *e);

/* Lists the store's keys into t->keys when it is one node holding at most
 * RT_KEYSPACE_LIST keys (DBSIZE, then SCAN to the end: every key present
 * throughout is returned); else, or when either command is refused,
 * t->keys_known is false and keys are read one by one. */
#define RT_KEYSPACE_LIST 4096
void rt_keyspace(rtarget *t);
/* Whether key may exist: false only when the listing says it did not. */
bool rt_key_may_exist(const rtarget *t, const char *key);

/* "NS:what" into out. */
void rt_key(const rtarget *t, char *out, size_t n, const char *what);
/* One command on key; false with e set on an error reply. */
bool rt_cmd_ok(rtarget *t, rerr *e, const char *key, int argc, const char **argv);
/* n commands (keys[i], argcs[i], argvs[i]) in one pipeline: true when none
 * got an error reply (e names the first that did). */
bool rt_cmds_ok(rtarget *t, rerr *e, size_t n, const char *const *keys, const int *argcs,
                const char *const *const *argvs);
/* x's hash tag "{ns:name}", made on first use: most tenants of a re-apply
 * never need one. */
const char *rt_tag(const rtarget *t, rtenant *x);
/* The plan tenant named name (t->ten is sorted by name), or NULL. */
rtenant *rt_find(rtarget *t, const char *name);
/* The shadow keys of verification, appended to a once each. */
void rt_shadow_keys(rtarget *t, json_t *a);
/* The code of the library loaded now (FUNCTION LIST ... WITHCODE on the
 * first primary; every primary gets the same), JSON null when there is
 * none, NULL with e set when the store did not answer. */
json_t *rt_library_loaded(rtarget *t, rerr *e);
/* The command rt_library_loaded sends, and what it makes of its reply
 * (for a caller that sends it in a pipeline of its own). */
#define RT_LIBRARY_LIST "FUNCTION LIST LIBRARYNAME rlc WITHCODE"
json_t *rt_library_code(const redisReply *r, rerr *e);
/* x's config commands and version, encoded once (reading its rules first
 * when the plan left them unread); false with e set when they break a
 * check (RLC3106). */
bool rt_encode(rtarget *t, rtenant *x, rerr *e);

/* The library's script form (before Redis 7, redis_library_evalsha) of
 * src, into t->script_text, and its sha into t->sha; returns the text. */
const char *rt_script_body(rtarget *t, const char *src);
/* t->sha from the plan's library (false without a plan). */
bool rt_library_sha(rtarget *t, rerr *e);
bool rt_connect(target *t, rerr *e);

/* redis_checkpoint.c: the checkpoint entry, restore, rollback's check. */
json_t *redis_checkpoint(target *t, rerr *e);
int redis_ck_noop(const json_t *entry, const char *plan_digest);
bool redis_restore(target *t, const json_t *entry, bool stale, rerr *e);
bool redis_rollback_check(target *t, const json_t *entry, const char *ck_plan, const char *id,
                          rerr *e);

/* redis_preflight.c: nodes' health, the deployer's permissions, clocks. */
bool redis_preflight(target *t, json_t *report, tclocks *clk, rerr *e);

/* redis_verify.c: the plan's verification cases on shadow keys, compared
 * with the simulator; the shadow keys deleted after. */
bool redis_verify(target *t, json_t *summary, rerr *e);

/* redis_report.c: `rlc diff` and `rlc status` of a Redis target. */
bool redis_diff(target *t, json_t *summary, json_t *tenants, rerr *e);
bool redis_status(target *t, json_t *targets, size_t *drift, rerr *e);
/* redis_decide.c */
bool redis_decide(target *t, const target_decide *q, json_t **out, rerr *e);

/* redis_manifest.c: the state directory's record of what the store's
 * manifest describes (SPEC.md 7.7). */
void redis_manifest_path(rtarget *t);
/* Takes this state directory's record of t as the live state when the
 * store's manifest (live) is its digest: 1, and t->st holds the entries of
 * every bucket but those elided at load; 0 when it cannot (the tenants of
 * elided buckets then added to the rules), -1 with e set when they cannot
 * be added. */
int redis_manifest_read(rtarget *t, const char *live, bool full, rerr *e);

void redis_manifest_write(rtarget *t, const char *digest);
/* The part of redis_manifest_write that may go before the commit is
 * confirmed: the blobs of the buckets that changed appended to the pack
 * (or a new pack written), and flushed, which no index names yet (a run
 * that stops after it leaves them unnamed: dead bytes, or a pack pruned
 * later).  redis_manifest_write then writes the index naming them. */
void redis_manifest_prepare(rtarget *t, const char *digest);
/* The state digest (SPEC.md 7.6) of t's map after the deploy or before it
 * (live), computed over buckets: the record's digest of each elided
 * bucket, the others hashed.  False when it cannot be computed. */
bool redis_state_digest(rtarget *t, bool after, char out[DIGEST_HEX_LEN + 1]);
/* Frees what the record parts of t hold. */
void redis_manifest_free(rtarget *t);
/* target_kind.known: the buckets this state directory's records vouch for. */
void redis_manifest_known(const char *state_dir, const char *ns, tknown *out);

#endif
