/* tls_conn.c - a TLS client stream.  See tls_conn.h.
 *
 * The socket is non-blocking from the start, so the TCP connect, the
 * handshake, every read and every write wait in poll() against a deadline:
 * a server that accepts and never answers costs a timeout, never a hang.
 * One SSL_CTX per connection: a store has few nodes and a deploy opens
 * each once, so sharing contexts would save little and complicate
 * ownership. */
#include "tls_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "openssl_lazy.h"
#include "xalloc.h"

struct tls_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    bool broken;            /* no close_notify on a failed stream */
    bool has_cert;          /* a client certificate is configured */
    bool cert_asked;        /* the server asked for one */
    char where[300];        /* "host:port" for messages */
};

/* OpenSSL, loaded by the first tls_conn_open: every other function here
 * has a connection, so it has been loaded. */
static const openssl_api *ossl;

static void (*insecure_hook)(const char *msg);
static bool insecure_told;

void tls_conn_set_insecure_hook(void (*fn)(const char *msg))
{
    insecure_hook = fn;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for ev or the deadline passes: 1 ready, 0
 * timeout, -1 error. */
static int wait_fd(int fd, short ev, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, ev, 0};
        int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
        if (r > 0)
            return 1;
        if (r == 0)
            continue;   /* the loop re-reads the clock */
        if (errno != EINTR)
            return -1;
    }
}

/* The most useful text OpenSSL left: its queue's last reason, without the
 * "error:0A000086:SSL routines::" prefix. */
static const char *ssl_reason(char *buf, size_t n)
{
    unsigned long err, last = 0;
    while ((err = ossl->ERR_get_error()))
        last = err;
    const char *r = last ? ossl->ERR_reason_error_string(last) : NULL;
    snprintf(buf, n, "%s", r ? r : "the connection was closed during the TLS exchange");
    return buf;
}

static int tcp_connect(const char *host, int port, long long deadline, char *why, size_t wn,
                       bool *timed_out)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int g = getaddrinfo(host, ps, &hints, &ai);
    if (g) {
        snprintf(why, wn, "cannot resolve host: %s", gai_strerror(g));
        return -1;
    }
    int fd = -1;
    snprintf(why, wn, "no address");
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            snprintf(why, wn, "socket: %s", strerror(errno));
            continue;
        }
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (w == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && !soerr)
                r = 0;
            else if (w == 0) {
                *timed_out = true;
                snprintf(why, wn, "connection timed out");
            } else
                snprintf(why, wn, "%s", strerror(soerr ? soerr : errno));
        } else if (r < 0)
            snprintf(why, wn, "%s", strerror(errno));
        if (r == 0)
            break;
        close(fd);
        fd = -1;
        if (*timed_out)
            break;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static int pass_cb(char *buf, int size, int rwflag, void *ud)
{
    (void)rwflag;
    const char *p = ud;
    size_t n = strlen(p);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, p, n);
    return (int)n;
}

/* Called when the server asks for a client certificate and none is set:
 * remembered, so that the failure that follows can say why. */
static int cert_asked(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    tls_conn *c = ossl->SSL_get_ex_data(ssl, 0);
    if (c)
        c->cert_asked = true;
    return 0;
}

static bool setup_ctx(tls_conn *c, const rtls *t, rerr *e)
{
    char why[256];
    c->ctx = ossl->SSL_CTX_new(ossl->TLS_client_method());
    if (!c->ctx)
        return rerr_set(e, DIAG_TLS_CONFIG, "%s: cannot create a TLS context: %s", c->where,
                        ssl_reason(why, sizeof why));
    ossl->SSL_CTX_ctrl(c->ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
    if (!t->cert_file[0])
        ossl->SSL_CTX_set_client_cert_cb(c->ctx, cert_asked);
    if (t->no_verify)
        ossl->SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    else {
        ossl->SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        if (t->ca_file[0] ? ossl->SSL_CTX_load_verify_locations(c->ctx, t->ca_file, NULL) != 1
                          : ossl->SSL_CTX_set_default_verify_paths(c->ctx) != 1)
            return rerr_set(e, DIAG_TLS_CONFIG, "%s: cannot load the CA file %s: %s", c->where,
                            t->ca_file[0] ? t->ca_file : "(the system's)",
                            ssl_reason(why, sizeof why));
    }
    if (t->cert_file[0]) {
        const char *key = t->key_file[0] ? t->key_file : t->cert_file;
        ossl->SSL_CTX_set_default_passwd_cb(c->ctx, pass_cb);
        ossl->SSL_CTX_set_default_passwd_cb_userdata(c->ctx, (void *)t->key_pass);
        if (ossl->SSL_CTX_use_certificate_chain_file(c->ctx, t->cert_file) != 1)
            return rerr_set(e, DIAG_TLS_CONFIG, "%s: cannot load the client certificate %s: %s",
                            c->where, t->cert_file, ssl_reason(why, sizeof why));
        bool ok = ossl->SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) == 1;
        /* The passphrase is needed only while the key is read. */
        ossl->SSL_CTX_set_default_passwd_cb_userdata(c->ctx, NULL);
        if (!ok)
            return rerr_set(e, DIAG_TLS_CONFIG, "%s: cannot load the client key %s: %s%s",
                            c->where, key, ssl_reason(why, sizeof why),
                            t->key_pass[0] ? "" : " (an encrypted key needs key_passphrase)");
        if (ossl->SSL_CTX_check_private_key(c->ctx) != 1)
            return rerr_set(e, DIAG_TLS_CONFIG, "%s: the client key %s does not match the "
                            "certificate %s", c->where, key, t->cert_file);
    }
    return true;
}

/* A write to a stream the server has closed raises SIGPIPE, which would
 * end the process without a word; it is held back around every write and
 * discarded when the write raised it (the write then fails with EPIPE). */
typedef struct nopipe {
    sigset_t old;
    bool was_pending;
} nopipe;

static void nopipe_begin(nopipe *np)
{
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pend);
    np->was_pending = sigismember(&pend, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &np->old);
}

static void nopipe_end(nopipe *np)
{
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pend);
    if (!np->was_pending && sigismember(&pend, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &np->old, NULL);
}

/* The server's name: checked against the certificate (an IP address
 * against its IP entries) and, when a DNS name, sent as SNI. */
static bool set_name(tls_conn *c, const rtls *t, const char *host, rerr *e)
{
    const char *name = t->server_name[0] ? t->server_name : host;
    unsigned char bin[16];
    bool ip = inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1;
    if (!ip && ossl->SSL_ctrl(c->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)name) != 1)
        return rerr_set(e, DIAG_TLS_CONFIG, "%s: bad TLS server name '%s'", c->where, name);
    if (t->no_verify)
        return true;
    X509_VERIFY_PARAM *vp = ossl->SSL_get0_param(c->ssl);
    ossl->X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (ip ? ossl->X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
           : ossl->X509_VERIFY_PARAM_set1_host(vp, name, 0) != 1)
        return rerr_set(e, DIAG_TLS_CONFIG, "%s: cannot check the server name '%s'", c->where,
                        name);
    return true;
}

/* What a failed handshake means, in OpenSSL's words plus what to do. */
static bool handshake_failed(tls_conn *c, const rtls *t, const char *host, rerr *e)
{
    char why[256];
    long vr = ossl->SSL_get_verify_result(c->ssl);
    const char *name = t->server_name[0] ? t->server_name : host;
    if (!t->no_verify && vr == X509_V_ERR_HOSTNAME_MISMATCH)
        return rerr_set(e, DIAG_TLS_HANDSHAKE, "%s: TLS: certificate verify failed: hostname "
                        "mismatch (the server's certificate is not for '%s'; tls_server_name "
                        "names the one to expect)", c->where, name);
    if (!t->no_verify && vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
        return rerr_set(e, DIAG_TLS_HANDSHAKE, "%s: TLS: certificate verify failed: IP address "
                        "mismatch (the server's certificate is not for %s; tls_server_name "
                        "names the one to expect)", c->where, name);
    if (!t->no_verify && vr != X509_V_OK) {
        ossl->ERR_clear_error();
        return rerr_set(e, DIAG_TLS_HANDSHAKE, "%s: TLS: certificate verify failed: %s%s",
                        c->where, ossl->X509_verify_cert_error_string(vr),
                        t->ca_file[0] ? "" : " (no ca_file: the system's trust store was used)");
    }
    ssl_reason(why, sizeof why);
    return rerr_set(e, DIAG_TLS_HANDSHAKE, "%s: TLS handshake failed: %s%s", c->where, why,
                    c->cert_asked && !t->cert_file[0]
                        ? "; the server asked for a client certificate and none is set: set "
                          "cert_file and key_file"
                    : strstr(why, "wrong version number")
                        ? " (the server does not speak TLS on this port: is it Redis's "
                          "tls-port?)"
                        : "");
}

tls_conn *tls_conn_open(const char *host, int port, const rtls *t, int connect_ms, rerr *e)
{
    tls_conn *c = xcalloc(1, sizeof *c);
    c->fd = -1;
    c->broken = true;
    snprintf(c->where, sizeof c->where, "%s:%d", host, port);
    c->has_cert = t->cert_file[0] != '\0';
    long long deadline = now_ms() + connect_ms;
    char why[256];
    bool timed_out = false;
    if (!ossl && !(ossl = openssl_ssl(why, sizeof why))) {
        rerr_set(e, DIAG_TLS_CONFIG, "%s: TLS needs OpenSSL's libssl, which cannot be loaded: "
                 "%s", c->where, why);
        goto fail;
    }
    if (!setup_ctx(c, t, e))
        goto fail;
    c->fd = tcp_connect(host, port, deadline, why, sizeof why, &timed_out);
    if (c->fd < 0) {
        rerr_set(e, timed_out ? DIAG_STORE_TIMEOUT : DIAG_STORE_CONNECT, "%s: connect: %s",
                 c->where, why);
        goto fail;
    }
    c->ssl = ossl->SSL_new(c->ctx);
    if (!c->ssl || ossl->SSL_set_fd(c->ssl, c->fd) != 1 || ossl->SSL_set_ex_data(c->ssl, 0, c) != 1) {
        rerr_set(e, DIAG_TLS_CONFIG, "%s: cannot create a TLS session: %s", c->where,
                 ssl_reason(why, sizeof why));
        goto fail;
    }
    if (!set_name(c, t, host, e))
        goto fail;
    ossl->ERR_clear_error();
    nopipe np;
    nopipe_begin(&np);
    for (;;) {
        int r = ossl->SSL_connect(c->ssl);
        if (r == 1)
            break;
        int err = ossl->SSL_get_error(c->ssl, r);
        int w = err == SSL_ERROR_WANT_READ    ? wait_fd(c->fd, POLLIN, deadline)
                : err == SSL_ERROR_WANT_WRITE ? wait_fd(c->fd, POLLOUT, deadline)
                                              : -2;
        if (w == 1)
            continue;
        if (w == 0)
            rerr_set(e, DIAG_STORE_TIMEOUT, "%s: TLS handshake timed out after %d ms (is this "
                     "a TLS port?)", c->where, connect_ms);
        else
            handshake_failed(c, t, host, e);
        nopipe_end(&np);
        goto fail;
    }
    nopipe_end(&np);
    c->broken = false;
    if (t->no_verify && !insecure_told && insecure_hook) {
        insecure_told = true;
        char msg[512];
        snprintf(msg, sizeof msg, "TLS verification is off for %s (tls_verify = false): "
                 "neither the certificate nor the server's name is checked, so anyone on the "
                 "path can read and change what rlc sends", c->where);
        insecure_hook(msg);
    }
    return c;
fail:
    tls_conn_close(c);
    return NULL;
}

/* One step of SSL_read or SSL_write: >0 done, 0 retry, -1 failed (e). */
static int step(tls_conn *c, int r, long long deadline, const char *what, int ms, rerr *e)
{
    if (r > 0)
        return r;
    char why[256];
    int err = ossl->SSL_get_error(c->ssl, r);
    int w = err == SSL_ERROR_WANT_READ    ? wait_fd(c->fd, POLLIN, deadline)
            : err == SSL_ERROR_WANT_WRITE ? wait_fd(c->fd, POLLOUT, deadline)
                                          : -2;
    if (w == 1)
        return 0;
    c->broken = true;
    if (w == 0)
        rerr_set(e, DIAG_STORE_TIMEOUT, "%s: %s: no answer within %d ms (timeout)", c->where,
                 what, ms);
    else if (err == SSL_ERROR_ZERO_RETURN)
        rerr_set(e, DIAG_STORE_CONNECT, "%s: %s: the server closed the TLS stream", c->where,
                 what);
    else if (c->cert_asked && !c->has_cert) {
        /* The server's verdict on the missing certificate comes after the
         * handshake, as an alert or a reset: either way, this is why. */
        if (err == SSL_ERROR_SSL)
            ssl_reason(why, sizeof why);
        else
            snprintf(why, sizeof why, "%s", errno ? strerror(errno) : "connection closed");
        rerr_set(e, DIAG_TLS_HANDSHAKE, "%s: TLS: %s (on %s); the server asked for a client "
                 "certificate and none is set: set cert_file and key_file", c->where, why, what);
    } else if (err == SSL_ERROR_SYSCALL && !ossl->ERR_peek_error())
        rerr_set(e, DIAG_STORE_CONNECT, "%s: %s: %s", c->where, what,
                 errno ? strerror(errno) : "connection closed by the server");
    else {
        ssl_reason(why, sizeof why);
        rerr_set(e, DIAG_TLS_HANDSHAKE, "%s: TLS: %s (on %s)", c->where, why, what);
    }
    return -1;
}

bool tls_conn_write(tls_conn *c, const void *p, size_t n, int ms, const char *what, rerr *e)
{
    long long deadline = now_ms() + ms;
    const char *q = p;
    nopipe np;
    nopipe_begin(&np);
    while (n) {
        ossl->ERR_clear_error();
        int chunk = n > (1u << 30) ? 1 << 30 : (int)n;
        errno = 0;
        int r = step(c, ossl->SSL_write(c->ssl, q, chunk), deadline, what, ms, e);
        if (r < 0)
            break;
        q += r;
        n -= (size_t)r;
    }
    nopipe_end(&np);
    return n == 0;
}

ssize_t tls_conn_read(tls_conn *c, void *p, size_t n, int ms, const char *what, rerr *e)
{
    long long deadline = now_ms() + ms;
    int want = n > (1u << 30) ? 1 << 30 : (int)n;
    for (;;) {
        ossl->ERR_clear_error();
        errno = 0;
        int r = step(c, ossl->SSL_read(c->ssl, p, want), deadline, what, ms, e);
        if (r)
            return r;
    }
}

void tls_conn_close(tls_conn *c)
{
    if (!c)
        return;
    if (c->ssl) {
        if (!c->broken) {
            nopipe np;
            nopipe_begin(&np);
            ossl->SSL_shutdown(c->ssl);   /* one close_notify, no wait for the peer's */
            nopipe_end(&np);
        }
        ossl->SSL_free(c->ssl);
    }
    if (c->ctx)
        ossl->SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
    /* A stream that failed before OpenSSL was loaded has nothing of it. */
    if (ossl)
        ossl->ERR_clear_error();
    free(c);
}
