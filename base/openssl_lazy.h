/* openssl_lazy.h - OpenSSL's libcrypto and libssl, loaded the first time a
 * plan signature or a TLS connection needs them, not at process start.
 *
 * Linked, libcrypto alone cost every run about 3 ms before main on the
 * measured machine (the loader resolves its 17 000 relocations and
 * faults in the pages they write), and libssl 0.6 ms more, while a plain
 * redis:// deploy of an unsigned plan uses neither: its digests come from
 * Nettle (digest.c).  Like curl_lazy, this is not a general loader: the
 * table holds the functions rlc calls, no more, each typed from OpenSSL's
 * own declaration so that a call through it is checked as a direct call
 * would be.  OpenSSL's macros over these (SSL_set_app_data,
 * BIO_get_mem_data, SSL_CTX_set_min_proto_version, ...) cannot be used
 * through the table: callers spell out the call the macro stands for.
 * Not for threads: the first call loads without a lock (rlc runs on one). */
#ifndef RLC_OPENSSL_LAZY_H
#define RLC_OPENSSL_LAZY_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* The sonames loaded: the ABI rlc is built against. */
#define OPENSSL_LAZY_STR2(x) #x
#define OPENSSL_LAZY_STR(x) OPENSSL_LAZY_STR2(x)
#define OPENSSL_LAZY_CRYPTO "libcrypto.so." OPENSSL_LAZY_STR(OPENSSL_SHLIB_VERSION)
#define OPENSSL_LAZY_SSL "libssl.so." OPENSSL_LAZY_STR(OPENSSL_SHLIB_VERSION)

/* libcrypto's functions rlc calls. */
#define OPENSSL_LAZY_CRYPTO_FUNCS(X)                                                  \
    X(ERR_get_error) X(ERR_peek_error) X(ERR_clear_error) X(ERR_reason_error_string) \
    X(X509_verify_cert_error_string) X(X509_VERIFY_PARAM_set_hostflags)              \
    X(X509_VERIFY_PARAM_set1_ip_asc) X(X509_VERIFY_PARAM_set1_host)                  \
    X(BIO_new) X(BIO_new_mem_buf) X(BIO_s_mem) X(BIO_ctrl) X(BIO_free)               \
    X(PEM_read_bio_PrivateKey) X(PEM_read_bio_PUBKEY) X(PEM_write_bio_PrivateKey)    \
    X(PEM_write_bio_PUBKEY) X(EVP_PKEY_get_id) X(EVP_PKEY_get_raw_public_key)        \
    X(EVP_PKEY_free) X(EVP_PKEY_CTX_new_id) X(EVP_PKEY_CTX_free)                     \
    X(EVP_PKEY_keygen_init) X(EVP_PKEY_keygen) X(EVP_MD_CTX_new) X(EVP_MD_CTX_free)  \
    X(EVP_DigestSignInit) X(EVP_DigestSign) X(EVP_DigestVerifyInit) X(EVP_DigestVerify)

/* libssl's functions rlc calls. */
#define OPENSSL_LAZY_SSL_FUNCS(X)                                                     \
    X(TLS_client_method) X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_ctrl)               \
    X(SSL_CTX_set_client_cert_cb) X(SSL_CTX_set_verify)                               \
    X(SSL_CTX_load_verify_locations) X(SSL_CTX_set_default_verify_paths)              \
    X(SSL_CTX_set_default_passwd_cb) X(SSL_CTX_set_default_passwd_cb_userdata)        \
    X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file)              \
    X(SSL_CTX_check_private_key) X(SSL_new) X(SSL_free) X(SSL_set_fd) X(SSL_ctrl)     \
    X(SSL_set_ex_data) X(SSL_get_ex_data) X(SSL_get0_param) X(SSL_get_verify_result)  \
    X(SSL_connect) X(SSL_get_error) X(SSL_read) X(SSL_write) X(SSL_shutdown)

#define OPENSSL_LAZY_MEMBER(name) __typeof__(name) *name;
typedef struct openssl_api {
    OPENSSL_LAZY_CRYPTO_FUNCS(OPENSSL_LAZY_MEMBER)
    OPENSSL_LAZY_SSL_FUNCS(OPENSSL_LAZY_MEMBER)
} openssl_api;
#undef OPENSSL_LAZY_MEMBER

/* The table with libcrypto's members set, loading libcrypto on the first
 * call (once per process: a failure is remembered too).  NULL when it
 * cannot be loaded, with why in err (when err is not NULL).  The table is
 * static: never freed, and the library stays loaded. */
const openssl_api *openssl_crypto(char *err, size_t errlen);
/* The same with libssl's members set as well (libssl needs libcrypto). */
const openssl_api *openssl_ssl(char *err, size_t errlen);

#endif
