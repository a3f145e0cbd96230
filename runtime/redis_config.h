/* redis_config.h - what must be in Redis for stdlib/enforce.lua to decide a
 * tenant's requests, as data: the exact commands (argv vectors) that
 * install one tenant's config hash and flip its active pointer, and the
 * library text for FUNCTION LOAD or SCRIPT LOAD.  The deploy executor sends
 * these; the differential test sends them too.  Nothing here opens a
 * connection (SPEC.md 6.2 describes the keys and the encoding). */
#ifndef RLC_REDIS_CONFIG_H
#define RLC_REDIS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "plan_key.h"
#include "rules.h"

/* Config format written in the "m" field; the library refuses others. */
#define REDIS_CONFIG_FORMAT 1
/* Length of a config version (it names the config key, plan_key.h). */
#define REDIS_CONFIG_VERSION_LEN PLAN_CONFIG_VERSION_LEN

typedef struct redis_cmd {
    int argc;
    char **argv;          /* NUL-terminated for convenience */
    size_t *argvlen;
} redis_cmd;

typedef struct redis_cmds {
    redis_cmd *v;
    size_t n, cap;
} redis_cmds;

/* The encoded config of tenant t: its fields and values in order ("m"
 * first, then subjects sorted), and its version (the digest of exactly
 * those bytes).  Appends to cmds HSET <cfg key> f v ..., then the library's
 * activate call (config first, so the pointer never names a missing
 * config): FCALL rlc_activate 1 <active key> <version> [now], or with
 * script_sha set, EVALSHA <sha> 1 <active key> activate <version> [now];
 * with script_sha the HSET also writes each listed field's twin (the
 * field "p" for the tenant's, the subject path itself for a subject's:
 * the rules of its path packed, that the EVALSHA script reads, SPEC.md
 * 6.2), which the version does not cover.
 * now_ms: the deployer's clock, needed with client time; -1 to omit.
 * version gets REDIS_CONFIG_VERSION_LEN + 1 bytes. */
/* Whether field f of a config hash is a twin (any field but the meta
 * field "m" and the rule fields "s", "s/..."). */
bool redis_config_is_twin(const char *f);

void redis_config_tenant(const rl_ruleset *rs, const rl_tenant *t, const char *script_sha,
                         int64_t now_ms, redis_cmds *cmds,
                         char version[REDIS_CONFIG_VERSION_LEN + 1]);

/* Memory the encoder keeps from one tenant to the next (zeroed to begin;
 * redis_config_enc_free releases it). */
typedef struct redis_config_enc {
    buf all, tmp;
    void *sv;
    size_t svcap;
    size_t *off;
    size_t offcap;
} redis_config_enc;
void redis_config_enc_free(redis_config_enc *w);   /* accepts a zeroed one */

/* A first deploy's two commands of tenant t, in RESP, appended to out:
 * HSET <cfg key> f v ... (the same fields as redis_config_tenant's, with
 * the twins when twins: a store run through the EVALSHA script) and SET
 * <active key> <version>; lens[0] and lens[1] their lengths.  For a
 * pipeline of 100 000 tenants: no allocation per tenant once w has grown,
 * and no copy of the fields but the one into out. */
void redis_config_fresh_resp(const rl_ruleset *rs, const rl_tenant *t, redis_config_enc *w,
                             bool twins, buf *out, size_t lens[2],
                             char version[REDIS_CONFIG_VERSION_LEN + 1]);

/* The library source (for FUNCTION LOAD REPLACE).  NULL when this build
 * embeds no library. */
const char *redis_library_function(size_t *len);

/* The script for SCRIPT LOAD / EVALSHA on servers before 7.0 (SPEC.md 6.3)
 * made of lib (a library as redis_library_compose makes it, len bytes):
 * the whole library without its "#!lua" line as a function, then the
 * regions of lib marked for EVALSHA (between a line "--@evalsha" and one
 * "--@end", or inside a comment opened by "--[==[@evalsha" and closed by
 * "--]==]"), which resolve a listed path from its fields' twins and decide
 * it in the script's chunk, and hand anything else to that function.
 * Into out (reset first); false when out is full. */
bool redis_library_evalsha(const char *lib, size_t len, buf *out);

/* The library a plan loads: base (the plan's library source, len bytes)
 * with `tenant *`'s encoded config (6.2) in place of its "local TEMPLATE =
 * nil" line, or base as it is when rs has no tenant *.  Into out (reset
 * first); false when base has no such line or out is full. */
bool redis_library_compose(const rl_ruleset *rs, const char *base, size_t len, buf *out);

/* The config version of rs's `tenant *` (what the composed library holds);
 * false when rs has none. */
bool redis_template_version(const rl_ruleset *rs, char version[REDIS_CONFIG_VERSION_LEN + 1]);
/* Reads back what redis_library_compose put in library code: the tag
 * prefix "{<ns>:" of its namespace and its version; false when the code
 * holds no `tenant *`. */
bool redis_library_template(const char *code, char *tagpre, size_t tplen,
                            char version[REDIS_CONFIG_VERSION_LEN + 1]);

void redis_cmds_free(redis_cmds *c);    /* accepts a zeroed list */

#endif
