/* plan_sign.h - Ed25519 signatures of plans (SPEC.md 5.8), one definition
 * for `rlc compile --sign` (writes them) and the runtime (checks them).
 *
 * A signature sits beside its plan, in PLAN.sig, one line of canonical JSON:
 *     {"algorithm":"ed25519","key_id":K,"plan_digest":D,"signature":S}
 * S is the Ed25519 signature (hex) of the text "rlc-plan-signature-v1:" D,
 * D the plan's plan_digest, K the first 16 hex digits of the SHA-256 of the
 * raw 32-byte public key.  Signing the digest signs the content: the loader
 * refuses a plan whose content does not hash to its plan_digest.  Keys are
 * PEM files (PKCS#8 private key, SubjectPublicKeyInfo public key), as
 * `openssl genpkey -algorithm ed25519` and `rlc keygen` write them.
 * Nothing here prints; a failure returns false with its code and message
 * in the rerr. */
#ifndef RLC_PLAN_SIGN_H
#define RLC_PLAN_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"
#include "rerr.h"

/* Environment variable naming the public key that `rlc run`, `diff` and
 * `status` require plans to be signed with (--verify overrides it). */
#define PLAN_VERIFY_KEY_ENV "RLC_VERIFY_KEY"

/* Longest key or signature file read. */
#define PLAN_SIGN_FILE_MAX 16384


/* Signs digest (the plan's plan_digest, 64 hex) with the private key in
 * key_path and writes the signature file of plan_path atomically (temp
 * file, fsync, rename).  Returns true, or false with RLC3109 (key
 * unreadable or not Ed25519) or RLC3007 (the file cannot be written). */
bool plan_sign_write(const char *plan_path, const char *digest, const char *key_path, rerr *e);

/* Whether key_path holds a usable Ed25519 private key; false with RLC3109
 * (so that compile can refuse before writing anything). */
bool plan_sign_key_check(const char *key_path, rerr *e);

/* Checks the signature file of plan_path with the public key in pub_path:
 * returns true and the signed plan_digest in signed_digest, which the
 * caller must compare with the digest of the plan it loads; else false
 * with RLC3107 (no signature file), RLC3108 (a signature file that is
 * malformed, made with another key, or does not verify) or RLC3109 (the
 * public key unreadable or not Ed25519). */
bool plan_sig_verify(const char *plan_path, const char *pub_path,
                     char signed_digest[DIGEST_HEX_LEN + 1], rerr *e);

/* Writes a new Ed25519 key pair: the private key to key_path (mode 0600,
 * refusing to replace an existing file) and the public key to
 * key_path.pub.  Returns true, or false with RLC3109. */
bool plan_keygen(const char *key_path, rerr *e);

#endif
