/* plan_key.h - a tenant's store keys (SPEC.md 6.1) and the percent-encodings
 * of names and paths (SPEC.md 5.5, 6.1, 6.2), one definition for the
 * compiler (tenants[].tag, rule identities, the cross-slot proof, RLC1044)
 * and the runtime (every key it reads or writes, the Cluster slot a command
 * goes to, a loaded plan's key lengths).  The Lua side (stdlib/enforce.lua)
 * builds the same keys from tenants[].tag and the suffixes below.  Not here:
 * the keys of the deploy machinery (lock, journal marker, audit anchor),
 * which are the runtime's own (SPEC.md 7). */
#ifndef RLC_PLAN_KEY_H
#define RLC_PLAN_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "plan_check.h"

/* The longest key a tenant may have, in bytes.  Redis takes much longer
 * keys; the cap keeps keys, checkpoints and messages bounded and is far
 * above any real tenant name (1 300 CJK characters, 4 000 ASCII ones). */
#define PLAN_KEY_MAX 4096

/* What follows a tenant's tag "{<ns>:<tenant>}" (SPEC.md 6.1). */
#define PLAN_KEY_ACTIVE ":active"   /* the config version in force */
#define PLAN_KEY_CFG ":cfg:"        /* + config version: the config hash */
#define PLAN_KEY_COUNTER ":c:"      /* + rule id: a counter */
#define PLAN_KEY_LOG ":log"         /* after a counter: its sliding log */
#define PLAN_KEY_SEQ ":seq"         /* lease tokens */
/* Verification keys: the tag, this, then one of the suffixes above
 * (":v:active", ":v:cfg:<version>", ":v:c:<id>"...). */
#define PLAN_KEY_VERIFY ":v"
/* Length of a config version in a key: 16 hex digits of SHA-256. */
#define PLAN_CONFIG_VERSION_LEN 16
/* The longest suffix after a tenant's tag: an exact sliding window's
 * verification log, ":v:c:<id>:log" (25; ":v:cfg:<version>" is 23). */
#define PLAN_KEY_SUFFIX_MAX                                                    \
    (sizeof PLAN_KEY_VERIFY PLAN_KEY_COUNTER PLAN_KEY_LOG - 1 + PLAN_RULE_ID_LEN)

/* The percent-encoding of SPEC.md 5.5 and 6.1: appends s[0..n) to b with
 * '%', every byte of special and every byte outside 0x21-0x7e written as
 * %XX (upper-case hex).  Tags encode "{}:", rule identities "/|" (names) or
 * "|" (route paths). */
void plan_pct_encode(buf *b, const char *s, size_t n, const char *special);

/* Appends one segment "kind:name" of a subject path (SPEC.md 6.2), '/'
 * first unless it is the first segment, the name encoded for '%' and '/'
 * only (%25, %2F), so that '/' separates segments; name NULL appends a
 * template's segment, "kind*".  The simulator, the config hash and
 * verification all name subjects this way. */
void plan_subject_seg(buf *b, bool first, const char *kind, size_t kn, const char *name,
                      size_t nn);

/* The tenant's hash tag "{<ns>:<tenant>}", the name encoded with "{}:"
 * special, into out when it fits (out may be NULL with cap 0); returns the
 * length it needs, without the NUL.  The one builder of a tag. */
size_t plan_key_tag_into(char *out, size_t cap, const char *ns, const char *tenant);
/* The same, malloc'd (the caller frees); aborts when memory runs out. */
char *plan_key_tag(const char *ns, const char *tenant);
/* The length of the tenant's longest key: its tag and PLAN_KEY_SUFFIX_MAX.
 * RLC1044 and the runtime hold it to PLAN_KEY_MAX. */
size_t plan_key_longest(const char *ns, const char *tenant);

/* Redis Cluster's slots. */
#define PLAN_KEY_SLOTS 16384
/* CRC16/XMODEM (poly 0x1021, init 0), the checksum of Redis Cluster. */
uint16_t plan_crc16(const char *p, size_t n);
/* The Redis Cluster slot of a key (0..16383): CRC16 of what lies between
 * the first '{' and the first '}' after it when that is not empty, else of
 * the whole key. */
unsigned plan_key_slot(const char *key, size_t n);
/* Whether every key that starts with prefix hashes to one slot: the prefix
 * holds a whole, non-empty hash tag, so no suffix can change which '{'
 * opens the tag or which '}' closes it.  Every tag from plan_key_tag does
 * (RLC2202 proves it per tenant). */
bool plan_key_prefix_fixes_slot(const char *prefix);

#endif
