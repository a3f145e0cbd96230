/* tls_conn.h - one TLS client stream over TCP with OpenSSL, for the Redis
 * connections of rediss:// stores (hiredis 0.14 has no TLS: redis_conn.c
 * speaks RESP over this stream with hiredis's reader and formatter).
 *
 * Verification is on unless the caller's settings turn it off: the chain
 * against ca_file (or the system's store when none is given) and the
 * server's name (tls_server_name, else the host connected to; an IP
 * address is matched against the certificate's IP entries).  SNI carries
 * the name when it is a DNS name.  Every failure names host:port and what
 * OpenSSL said.  Not here: session resumption, CRLs, OCSP. */
#ifndef RLC_TLS_CONN_H
#define RLC_TLS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rerr.h"

#define TLS_PATH_MAX 1024

/* How to reach a rediss:// store.  key_pass is a secret (wiped by the
 * owner with secret_wipe). */
typedef struct rtls {
    bool on;                        /* rediss:// */
    bool no_verify;                 /* tls_verify = false: nothing is checked */
    char ca_file[TLS_PATH_MAX];     /* "" = the system's trust store */
    char cert_file[TLS_PATH_MAX];   /* client certificate (chain), "" = none */
    char key_file[TLS_PATH_MAX];    /* its key, "" = in cert_file */
    char server_name[256];          /* "" = the host connected to */
    char key_pass[512];             /* passphrase of key_file, "" = none */
} rtls;

typedef struct tls_conn tls_conn;

/* Connects to host:port within connect_ms and completes the handshake
 * (verification included).  Returns NULL with e filled: RLC3151 TCP
 * connect, RLC3153 timeout, RLC3201 handshake or verification, RLC3202 a
 * CA, certificate or key file that cannot be used.  t is borrowed for the
 * call only. */
tls_conn *tls_conn_open(const char *host, int port, const rtls *t, int connect_ms, rerr *e);
/* Sends all n bytes within ms.  False with e filled (the stream is then
 * unusable: close it); what names the operation in the message (a
 * command's name, never its arguments). */
bool tls_conn_write(tls_conn *c, const void *p, size_t n, int ms, const char *what, rerr *e);
/* Reads at least one byte (at most n) within ms; returns the count, or -1
 * with e filled (including the server closing the stream). */
ssize_t tls_conn_read(tls_conn *c, void *p, size_t n, int ms, const char *what, rerr *e);
/* Closes (a close_notify is sent when the stream is healthy); accepts
 * NULL. */
void tls_conn_close(tls_conn *c);

/* Called once per process the first time a connection is made with
 * verification off, with a message naming the node; the CLI prints it.
 * Library code never prints. */
void tls_conn_set_insecure_hook(void (*fn)(const char *msg));

#endif
