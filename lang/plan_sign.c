/* plan_sign.c - see plan_sign.h.  Ed25519 through libcrypto's EVP_PKEY
 * (EVP_DigestSign/EVP_DigestVerify with no message digest: Ed25519 hashes
 * the message itself).  The message is short and fixed in form (a domain
 * prefix and the plan's digest), so signing a 1 GiB plan costs no more than
 * signing a small one. */
#include "plan_sign.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "diag.h"
#include "xalloc.h"

#define SIG_PREFIX "rlc-plan-signature-v1:"
#define KEY_ID_HEX 16
#define SIG_BYTES 64

static int failf(char *err, size_t n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int failf(char *err, size_t n, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return code;
}

char *plan_sig_path(const char *plan_path)
{
    size_t n = strlen(plan_path);
    char *s = xmalloc(n + 5);
    memcpy(s, plan_path, n);
    memcpy(s + n, ".sig", 5);
    return s;
}

/* The whole of a regular file of at most PLAN_SIGN_FILE_MAX bytes, NUL
 * added (malloc'd); NULL with errno set (EFBIG, EINVAL for a non-regular
 * file). */
static char *read_small(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *b = NULL;
    int saved = 0;
    if (fstat(fd, &st) != 0) {
        saved = errno;
    } else if (!S_ISREG(st.st_mode)) {
        saved = EINVAL;
    } else if (st.st_size > PLAN_SIGN_FILE_MAX) {
        saved = EFBIG;
    } else {
        b = xmalloc((size_t)st.st_size + 1);
        size_t n = 0;
        ssize_t r;
        while (n < (size_t)st.st_size && (r = read(fd, b + n, (size_t)st.st_size - n)) > 0)
            n += (size_t)r;
        b[n] = '\0';
        *len = n;
    }
    close(fd);
    errno = saved;
    return b;
}

static const char *why(int e)
{
    return e == EINVAL ? "not a regular file" : e == EFBIG ? "too large" : strerror(e);
}

/* The Ed25519 key in a PEM file, private or public; NULL with err set. */
static EVP_PKEY *load_key(const char *path, bool private, char *err, size_t n)
{
    size_t len = 0;
    char *text = read_small(path, &len);
    if (!text) {
        failf(err, n, DIAG_SIGN_KEY, "cannot read %s key '%s': %s",
              private ? "signing" : "verification", path, why(errno));
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *k = bio ? (private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                                 : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL))
                      : NULL;
    BIO_free(bio);
    free(text);
    if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
        failf(err, n, DIAG_SIGN_KEY, "'%s' is not an Ed25519 %s key in PEM form (make one "
              "with rlc keygen)", path, private ? "private" : "public");
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

static bool key_id(EVP_PKEY *k, char out[KEY_ID_HEX + 1])
{
    unsigned char raw[32];
    size_t rl = sizeof raw;
    char hex[DIGEST_HEX_LEN + 1];
    if (EVP_PKEY_get_raw_public_key(k, raw, &rl) != 1 || rl != 32 ||
        !digest_sha256_hex(raw, rl, hex))
        return false;
    memcpy(out, hex, KEY_ID_HEX);
    out[KEY_ID_HEX] = '\0';
    return true;
}

static bool is_hex(const char *s, size_t n)
{
    return s && strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static int write_file(const char *path, const char *text, mode_t mode, bool replace, char *err,
                      size_t n)
{
    size_t pl = strlen(path);
    char *tmp = xmalloc(pl + 32);
    snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        int c = failf(err, n, DIAG_PLAN_WRITE, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return c;
    }
    size_t len = strlen(text), off = 0;
    ssize_t w = 0;
    while (off < len && (w = write(fd, text + off, len - off)) > 0)
        off += (size_t)w;
    bool ok = off == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    /* link() refuses an existing name, rename() replaces it. */
    if (ok)
        ok = replace ? rename(tmp, path) == 0 : link(tmp, path) == 0;
    int saved = errno;
    if (!ok || !replace)
        unlink(tmp);
    free(tmp);
    if (!ok)
        return failf(err, n, DIAG_PLAN_WRITE, "cannot write '%s': %s", path, strerror(saved));
    return 0;
}

int plan_sign_write(const char *plan_path, const char *digest, const char *key_path,
                    char *err, size_t errlen)
{
    if (!is_hex(digest, DIGEST_HEX_LEN))
        return failf(err, errlen, DIAG_PLAN_WRITE, "the plan has no digest to sign");
    EVP_PKEY *k = load_key(key_path, true, err, errlen);
    if (!k)
        return DIAG_SIGN_KEY;
    char msg[sizeof SIG_PREFIX + DIGEST_HEX_LEN];
    snprintf(msg, sizeof msg, "%s%s", SIG_PREFIX, digest);
    unsigned char sig[SIG_BYTES];
    size_t sl = sizeof sig;
    char kid[KEY_ID_HEX + 1];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
              EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)msg, strlen(msg)) == 1 &&
              sl == SIG_BYTES && key_id(k, kid);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    if (!ok)
        return failf(err, errlen, DIAG_SIGN_KEY, "signing with '%s' failed", key_path);
    char hex[2 * SIG_BYTES + 1];
    digest_hex(sig, SIG_BYTES, hex);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "algorithm", "ed25519", "key_id", kid,
                          "plan_digest", digest, "signature", hex);
    char *text = o ? digest_canonical_json(o) : NULL;
    json_decref(o);
    char *path = plan_sig_path(plan_path);
    size_t tl = text ? strlen(text) : 0;
    char *line = text ? xmalloc(tl + 2) : NULL;
    int rc;
    if (!path || !line) {
        rc = failf(err, errlen, DIAG_PLAN_WRITE, "out of memory");
    } else {
        memcpy(line, text, tl);
        memcpy(line + tl, "\n", 2);
        rc = write_file(path, line, 0644, true, err, errlen);
    }
    free(line);
    free(text);
    free(path);
    return rc;
}

int plan_sign_key_check(const char *key_path, char *err, size_t errlen)
{
    EVP_PKEY *k = load_key(key_path, true, err, errlen);
    EVP_PKEY_free(k);
    return k ? 0 : DIAG_SIGN_KEY;
}

static bool hex_decode(const char *h, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (unsigned char)v;
    }
    return true;
}

int plan_sig_verify(const char *plan_path, const char *pub_path,
                    char signed_digest[DIGEST_HEX_LEN + 1], char *err, size_t errlen)
{
    signed_digest[0] = '\0';
    EVP_PKEY *k = load_key(pub_path, false, err, errlen);
    if (!k)
        return DIAG_SIGN_KEY;
    char kid[KEY_ID_HEX + 1] = "";
    int rc = DIAG_PLAN_SIGNATURE;
    char *path = plan_sig_path(plan_path);
    size_t len = 0;
    char *text = path ? read_small(path, &len) : NULL;
    json_t *o = NULL;
    if (!key_id(k, kid)) {
        rc = failf(err, errlen, DIAG_SIGN_KEY, "'%s' is not a usable Ed25519 public key",
                   pub_path);
        goto out;
    }
    if (!text) {
        if (path && errno == ENOENT)
            rc = failf(err, errlen, DIAG_PLAN_UNSIGNED, "the plan is not signed (no %s), and "
                       "a verification key is configured (%s): sign it with rlc compile --sign",
                       path, pub_path);
        else
            rc = failf(err, errlen, DIAG_PLAN_SIGNATURE, "cannot read the signature %s: %s",
                       path ? path : "", why(path ? errno : ENOMEM));
        goto out;
    }
    json_error_t je;
    o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    const char *alg = json_string_value(json_object_get(o, "algorithm"));
    const char *skid = json_string_value(json_object_get(o, "key_id"));
    const char *dg = json_string_value(json_object_get(o, "plan_digest"));
    const char *sig = json_string_value(json_object_get(o, "signature"));
    if (!json_is_object(o) || json_object_size(o) != 4 || !alg || strcmp(alg, "ed25519") ||
        !is_hex(skid, KEY_ID_HEX) || !is_hex(dg, DIGEST_HEX_LEN) ||
        !is_hex(sig, 2 * SIG_BYTES)) {
        rc = failf(err, errlen, DIAG_PLAN_SIGNATURE, "%s is not an rlc plan signature (one "
                   "JSON object: algorithm \"ed25519\", key_id, plan_digest, signature)", path);
        goto out;
    }
    if (strcmp(skid, kid)) {
        rc = failf(err, errlen, DIAG_PLAN_SIGNATURE, "%s was made with key %s, not with the "
                   "configured key %s (%s)", path, skid, kid, pub_path);
        goto out;
    }
    unsigned char raw[SIG_BYTES];
    char msg[sizeof SIG_PREFIX + DIGEST_HEX_LEN];
    snprintf(msg, sizeof msg, "%s%s", SIG_PREFIX, dg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool good = ctx && hex_decode(sig, raw, SIG_BYTES) &&
                EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
                EVP_DigestVerify(ctx, raw, SIG_BYTES, (const unsigned char *)msg,
                                 strlen(msg)) == 1;
    EVP_MD_CTX_free(ctx);
    if (!good) {
        rc = failf(err, errlen, DIAG_PLAN_SIGNATURE, "%s does not verify with key %s (%s): "
                   "the signature was altered", path, kid, pub_path);
        goto out;
    }
    memcpy(signed_digest, dg, DIGEST_HEX_LEN + 1);
    rc = 0;
out:
    json_decref(o);
    free(text);
    free(path);
    EVP_PKEY_free(k);
    return rc;
}

int plan_keygen(const char *key_path, char *err, size_t errlen)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    bool ok = pc && EVP_PKEY_keygen_init(pc) == 1 && EVP_PKEY_keygen(pc, &k) == 1;
    EVP_PKEY_CTX_free(pc);
    if (!ok) {
        EVP_PKEY_free(k);
        return failf(err, errlen, DIAG_SIGN_KEY, "cannot generate an Ed25519 key");
    }
    char *priv = NULL, *pub = NULL;
    long pl = 0, ul = 0;
    BIO *b1 = BIO_new(BIO_s_mem()), *b2 = BIO_new(BIO_s_mem());
    ok = b1 && b2 && PEM_write_bio_PrivateKey(b1, k, NULL, NULL, 0, NULL, NULL) == 1 &&
         PEM_write_bio_PUBKEY(b2, k) == 1 && (pl = BIO_get_mem_data(b1, &priv)) > 0 &&
         (ul = BIO_get_mem_data(b2, &pub)) > 0;
    EVP_PKEY_free(k);
    int rc = 0;
    char *ptext = ok ? xstrndup(priv, (size_t)pl) : NULL;
    char *utext = ok ? xstrndup(pub, (size_t)ul) : NULL;
    size_t kl = strlen(key_path);
    char *pubpath = xmalloc(kl + 5);
    if (!ptext || !utext || !pubpath) {
        rc = failf(err, errlen, DIAG_SIGN_KEY, "cannot encode the key");
    } else {
        memcpy(pubpath, key_path, kl);
        memcpy(pubpath + kl, ".pub", 5);
        rc = write_file(key_path, ptext, 0600, false, err, errlen);
        if (!rc && (rc = write_file(pubpath, utext, 0644, false, err, errlen)))
            unlink(key_path);
    }
    if (ptext)
        OPENSSL_cleanse(ptext, strlen(ptext));
    free(ptext);
    free(utext);
    free(pubpath);
    BIO_free(b1);
    BIO_free(b2);
    return rc == DIAG_PLAN_WRITE ? DIAG_SIGN_KEY : rc;
}
