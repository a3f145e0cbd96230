/* digest.h - SHA-256 and SHA-1 (Nettle) and canonical JSON, shared by the plan
 * writer, the plan loader, the audit log and the runtime state digests, so
 * every digest in rlc is computed one way.  Canonical JSON = jansson with
 * JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII (keys sorted, no
 * whitespace, non-ASCII escaped), which is byte-identical across runs. */
#ifndef RLC_DIGEST_H
#define RLC_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"

#define DIGEST_HEX_LEN 64

/* Writes the lowercase hex SHA-256 of p[0..n) and a NUL into out.
 * Returns false only if the digest fails (out is then ""). */
bool digest_sha256_hex(const void *p, size_t n, char out[DIGEST_HEX_LEN + 1]);
/* The same for the bytes of parts p[0..k) (n[i] bytes each) one after the
 * other, as if copied into one buffer first (the copy of megabytes costs
 * more than their digest).  Borrows the parts. */
bool digest_sha256_parts_hex(const void *const *p, const size_t *n, size_t k,
                             char out[DIGEST_HEX_LEN + 1]);
/* The same, the 32 bytes of the digest into out. */
bool digest_sha256_parts(const void *const *p, const size_t *n, size_t k, unsigned char out[32]);
/* Lowercase hex SHA-1 of p[0..n) and a NUL (Redis names scripts by it). */
void digest_sha1_hex(const void *p, size_t n, char out[41]);
/* Returns the canonical JSON text of v (malloc'd, caller frees), or NULL. */
char *digest_canonical_json(const json_t *v);
/* Appends the canonical JSON of v to b: byte for byte what jansson writes
 * with the flags above, written here because jansson's own writer costs
 * about 100 instructions a byte (a plan's head is hashed on every run).
 * False when v holds something jansson would refuse to write. */
bool canon_json_write(buf *b, const json_t *v);
/* Appends s (NUL-terminated, or n bytes with canon_json_strn) as a string
 * of canonical JSON, quotes included, so that text assembled by hand (the
 * compiler's tenants, the executor's state maps) hashes as the tree would. */
void canon_json_str(buf *b, const char *s);
void canon_json_strn(buf *b, const char *s, size_t n);
/* The tree of text when it is canonical JSON as canon_json_write writes it
 * (keys in increasing order, no space but after the value, integers only,
 * strings of printable ASCII and the writer's escapes): the same tree
 * json_loadb would read from it (with JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY), several times faster.  NULL for any other text (a
 * caller gives that to jansson, which reads it or says why not). */
json_t *canon_json_read(const char *text, size_t len);
/* SHA-256 hex of the canonical JSON of v. */
bool digest_json_hex(const json_t *v, char out[DIGEST_HEX_LEN + 1]);
/* Writes 2*n hex digits of p and a NUL into out. */
void digest_hex(const unsigned char *p, size_t n, char *out);

#endif
