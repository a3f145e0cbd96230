/* plan_sign.c - see plan_sign.h.  Ed25519 through libcrypto's EVP_PKEY
 * (EVP_DigestSign/EVP_DigestVerify with no message digest: Ed25519 hashes
 * the message itself); libcrypto is loaded when a key is first read
 * (openssl_lazy.h).  The message is short and fixed in form (a domain
 * prefix and the plan's digest), so signing a 1 GiB plan costs no more than
 * signing a small one. */
#include "plan_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "openssl_lazy.h"
#include "rerr.h"
#include "xalloc.h"

#define SIG_PREFIX "rlc-plan-signature-v1:"
#define KEY_ID_HEX 16
#define SIG_BYTES 64


/* libcrypto, loaded by load_crypto before the first key is touched. */
static const openssl_api *ossl;

static bool load_crypto(rerr *e)
{
    char why[256];
    if (!ossl && !(ossl = openssl_crypto(why, sizeof why)))
        return rerr_set(e, DIAG_SIGN_KEY, "plan signatures need OpenSSL's libcrypto, which "
                        "cannot be loaded: %s", why);
    return true;
}

static char *plan_sig_path(const char *plan_path)
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
static EVP_PKEY *load_key(const char *path, bool private, rerr *e)
{
    if (!load_crypto(e))
        return NULL;
    size_t len = 0;
    char *text = read_small(path, &len);
    if (!text) {
        rerr_set(e, DIAG_SIGN_KEY, "cannot read %s key '%s': %s",
              private ? "signing" : "verification", path, why(errno));
        return NULL;
    }
    BIO *bio = ossl->BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *k = bio ? (private ? ossl->PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                                 : ossl->PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL))
                      : NULL;
    ossl->BIO_free(bio);
    free(text);
    if (!k || ossl->EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
        rerr_set(e, DIAG_SIGN_KEY, "'%s' is not an Ed25519 %s key in PEM form (make one "
              "with rlc keygen)", path, private ? "private" : "public");
        ossl->EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

static bool key_id(EVP_PKEY *k, char out[KEY_ID_HEX + 1])
{
    unsigned char raw[32];
    size_t rl = sizeof raw;
    char hex[DIGEST_HEX_LEN + 1];
    if (ossl->EVP_PKEY_get_raw_public_key(k, raw, &rl) != 1 || rl != 32 ||
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

static bool write_file(const char *path, const char *text, mode_t mode, bool replace, rerr *e)
{
    size_t pl = strlen(path);
    char *tmp = xmalloc(pl + 32);
    snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        rerr_set(e, DIAG_PLAN_WRITE, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return false;
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
        return rerr_set(e, DIAG_PLAN_WRITE, "cannot write '%s': %s", path, strerror(saved));
    return true;
}

bool plan_sign_write(const char *plan_path, const char *digest, const char *key_path, rerr *e)
{
    if (!is_hex(digest, DIGEST_HEX_LEN))
        return rerr_set(e, DIAG_PLAN_WRITE, "the plan has no digest to sign");
    EVP_PKEY *k = load_key(key_path, true, e);
    if (!k)
        return false;
    char msg[sizeof SIG_PREFIX + DIGEST_HEX_LEN];
    snprintf(msg, sizeof msg, "%s%s", SIG_PREFIX, digest);
    unsigned char sig[SIG_BYTES];
    size_t sl = sizeof sig;
    char kid[KEY_ID_HEX + 1];
    EVP_MD_CTX *ctx = ossl->EVP_MD_CTX_new();
    const unsigned char *m = (const unsigned char *)msg;
    bool ok = ctx && ossl->EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
              ossl->EVP_DigestSign(ctx, sig, &sl, m, strlen(msg)) == 1 && sl == SIG_BYTES &&
              key_id(k, kid);
    ossl->EVP_MD_CTX_free(ctx);
    ossl->EVP_PKEY_free(k);
    if (!ok)
        return rerr_set(e, DIAG_SIGN_KEY, "signing with '%s' failed", key_path);
    char hex[2 * SIG_BYTES + 1];
    digest_hex(sig, SIG_BYTES, hex);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "algorithm", "ed25519", "key_id", kid,
                          "plan_digest", digest, "signature", hex);
    char *text = digest_canonical_json(o);
    json_decref(o);
    char *path = plan_sig_path(plan_path);
    char *line = str_printf("%s\n", text);
    bool ok2 = write_file(path, line, 0644, true, e);
    free(line);
    free(text);
    free(path);
    return ok2;
}

bool plan_sign_key_check(const char *key_path, rerr *e)
{
    EVP_PKEY *k = load_key(key_path, true, e);
    if (!k)
        return false;
    ossl->EVP_PKEY_free(k);
    return true;
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

bool plan_sig_verify(const char *plan_path, const char *pub_path,
                    char signed_digest[DIGEST_HEX_LEN + 1], rerr *e)
{
    signed_digest[0] = '\0';
    EVP_PKEY *k = load_key(pub_path, false, e);
    if (!k)
        return false;
    char kid[KEY_ID_HEX + 1] = "";
    bool ok = false;
    char *path = plan_sig_path(plan_path);
    size_t len = 0;
    char *text = read_small(path, &len);
    json_t *o = NULL;
    if (!key_id(k, kid)) {
        rerr_set(e, DIAG_SIGN_KEY, "'%s' is not a usable Ed25519 public key",
                   pub_path);
        goto out;
    }
    if (!text) {
        if (errno == ENOENT)
            rerr_set(e, DIAG_PLAN_UNSIGNED, "the plan is not signed (no %s), and "
                       "a verification key is configured (%s): sign it with rlc compile --sign",
                       path, pub_path);
        else
            rerr_set(e, DIAG_PLAN_SIGNATURE, "cannot read the signature %s: %s",
                       path, why(errno));
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
        rerr_set(e, DIAG_PLAN_SIGNATURE, "%s is not an rlc plan signature (one "
                   "JSON object: algorithm \"ed25519\", key_id, plan_digest, signature)", path);
        goto out;
    }
    if (strcmp(skid, kid)) {
        rerr_set(e, DIAG_PLAN_SIGNATURE, "%s was made with key %s, not with the "
                   "configured key %s (%s)", path, skid, kid, pub_path);
        goto out;
    }
    unsigned char raw[SIG_BYTES];
    char msg[sizeof SIG_PREFIX + DIGEST_HEX_LEN];
    snprintf(msg, sizeof msg, "%s%s", SIG_PREFIX, dg);
    EVP_MD_CTX *ctx = ossl->EVP_MD_CTX_new();
    bool good = ctx && hex_decode(sig, raw, SIG_BYTES) &&
                ossl->EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
                ossl->EVP_DigestVerify(ctx, raw, SIG_BYTES, (const unsigned char *)msg,
                                 strlen(msg)) == 1;
    ossl->EVP_MD_CTX_free(ctx);
    if (!good) {
        rerr_set(e, DIAG_PLAN_SIGNATURE, "%s does not verify with key %s (%s): "
                   "the signature was altered", path, kid, pub_path);
        goto out;
    }
    memcpy(signed_digest, dg, DIGEST_HEX_LEN + 1);
    ok = true;
out:
    json_decref(o);
    free(text);
    free(path);
    ossl->EVP_PKEY_free(k);
    return ok;
}

bool plan_keygen(const char *key_path, rerr *e)
{
    if (!load_crypto(e))
        return false;
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *pc = ossl->EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    bool ok = pc && ossl->EVP_PKEY_keygen_init(pc) == 1 && ossl->EVP_PKEY_keygen(pc, &k) == 1;
    ossl->EVP_PKEY_CTX_free(pc);
    if (!ok) {
        ossl->EVP_PKEY_free(k);
        return rerr_set(e, DIAG_SIGN_KEY, "cannot generate an Ed25519 key");
    }
    char *priv = NULL, *pub = NULL;
    long pl = 0, ul = 0;
    BIO *b1 = ossl->BIO_new(ossl->BIO_s_mem()), *b2 = ossl->BIO_new(ossl->BIO_s_mem());
    /* BIO_ctrl(BIO_CTRL_INFO) is what the BIO_get_mem_data macro calls. */
    ok = b1 && b2 && ossl->PEM_write_bio_PrivateKey(b1, k, NULL, NULL, 0, NULL, NULL) == 1 &&
         ossl->PEM_write_bio_PUBKEY(b2, k) == 1 &&
         (pl = ossl->BIO_ctrl(b1, BIO_CTRL_INFO, 0, (char *)&priv)) > 0 &&
         (ul = ossl->BIO_ctrl(b2, BIO_CTRL_INFO, 0, (char *)&pub)) > 0;
    ossl->EVP_PKEY_free(k);
    char *ptext = ok ? xstrndup(priv, (size_t)pl) : NULL;
    char *utext = ok ? xstrndup(pub, (size_t)ul) : NULL;
    char *pubpath = str_printf("%s.pub", key_path);
    if (!ok) {
        rerr_set(e, DIAG_SIGN_KEY, "cannot encode the key");
    } else if (!write_file(key_path, ptext, 0600, false, e)) {
        ok = false;
    } else if (!write_file(pubpath, utext, 0644, false, e)) {
        unlink(key_path);
        ok = false;
    }
    /* A key that cannot be written is a key problem to the caller. */
    if (!ok && e)
        e->code = DIAG_SIGN_KEY;
    if (ptext)
        explicit_bzero(ptext, strlen(ptext));
    free(ptext);
    free(utext);
    free(pubpath);
    ossl->BIO_free(b1);
    ossl->BIO_free(b2);
    return ok;
}
