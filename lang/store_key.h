/* store_key.h - how long a tenant's store keys get, one definition shared by
 * the compiler (which refuses a tenant whose keys would be too long, at check
 * time, where the name's position is known) and the runtime (which re-checks
 * a loaded plan before writing anything).  It lives in lang/ because
 * runtime/ may not include compiler/ headers.  SPEC.md 6.1 and RLC1044. */
#ifndef RLC_STORE_KEY_H
#define RLC_STORE_KEY_H

#include <stddef.h>

/* The longest namespace (it prefixes every key, SPEC 2.8). */
#define STORE_NS_MAX 64
/* The longest key a tenant may have, in bytes.  Redis takes much longer
 * keys; the cap keeps keys, checkpoints and messages bounded and is far
 * above any real tenant name (1 300 CJK characters, 4 000 ASCII ones). */
#define STORE_KEY_MAX 4096
/* The longest suffix after a tenant's tag: an exact sliding window's
 * verification log, ":v:c:" and a 16-digit rule id and ":log" (SPEC 6.1;
 * ":v:cfg:" and a 16-digit config version is 23). */
#define STORE_KEY_SUFFIX_MAX 25

/* The length of "{<ns>:<tenant percent-encoded>}", the tenant's hash tag
 * (SPEC 6.1: '%', '{', '}', ':' and bytes outside 0x21-0x7e become %XX). */
size_t store_tag_len(const char *ns, const char *tenant);
/* The length of the tenant's longest key: its tag and the longest suffix. */
size_t store_key_longest(const char *ns, const char *tenant);

#endif
