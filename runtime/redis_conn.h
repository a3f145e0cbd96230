/* redis_conn.h - one connection to one Redis node on top of hiredis 0.14:
 * URL parsing, AUTH (ACL user + password), SELECT, connect and command
 * timeouts, and a reconnect after any transport error (hiredis leaves a
 * context unusable after a timeout).  It knows nothing about clusters; see
 * redis_cluster.h for slots and redirections.
 *
 * A rediss:// store is reached over TLS (tls_conn.h): hiredis 0.14 has no
 * TLS, so its reader and command formatter speak RESP over that stream.
 *
 * Credentials never come from the command line: rurl_parse refuses a
 * password unless the caller says the URL came from an env variable or file
 * (secret.h reads those). */
#ifndef RLC_REDIS_CONN_H
#define RLC_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "rerr.h"
#include "tls_conn.h"

typedef struct rurl {
    char host[256];
    int port;
    int db;
    char user[128];   /* "" = default user */
    char pass[512];   /* "" = no AUTH */
    rtls tls;         /* rediss:// and its query */
} rurl;

/* Parses redis[s]://[user:pass@]host[:port][/db][?query] (port 6379, db 0
 * by default).  rediss:// turns TLS on; its query may set ca_file,
 * cert_file, key_file, tls_server_name and tls_verify=false (each at most
 * once, values %-encoded), and key_passphrase when allow_password.  A
 * query on redis:// is refused (RLC3202).  allow_password=false refuses a
 * URL carrying a password (3150). */
bool rurl_parse(const char *s, bool allow_password, rurl *u, rerr *e);

typedef struct rconn_opts {
    int connect_ms;   /* 0 = 2000 */
    int cmd_ms;       /* 0 = 5000 */
    const char *user; /* borrowed; NULL or "" = default user */
    const char *pass; /* borrowed; NULL or "" = no AUTH */
    int db;
    const rtls *tls;  /* borrowed; NULL or !on = plain TCP through hiredis */
} rconn_opts;

typedef struct rconn rconn;

/* Connects and authenticates.  Returns NULL and fills e on failure (3151
 * connect, 3152 auth, 3153 timeout, 3201/3202 TLS).  Options are copied
 * (o->tls included). */
rconn *rconn_open(const char *host, int port, const rconn_opts *o, rerr *e);
/* Closes; accepts NULL. */
void rconn_close(rconn *c);

/* Sends one command and returns its reply (caller frees with
 * freeReplyObject).  Error replies (-ERR, -MOVED...) are returned as
 * replies; NULL means a transport failure (e filled, 3151/3153), after which
 * the next call reconnects.  lens may be NULL for NUL-terminated args. */
redisReply *rconn_cmd(rconn *c, rerr *e, int argc, const char **argv, const size_t *lens);
/* printf-style command (hiredis format: %s, %b, %d...). */
redisReply *rconn_cmdf(rconn *c, rerr *e, const char *fmt, ...);

/* The command as RESP, the bytes redisFormatCommandArgv makes
 * (*argc, then $len and the bytes of each argument), into *out (malloc'd,
 * the caller frees it); returns its length.  Without a printf per
 * number: a deploy of 100 000 tenants formats 300 000 commands.  lens may
 * be NULL for NUL-terminated args. */
size_t rconn_format(char **out, int argc, const char **argv, const size_t *lens);

/* Pipelining: queue a RESP-formatted command, then read replies in order.
 * rconn_flush_read blocks for the next reply (flushing everything queued
 * first).  On NULL (transport failure) the pipeline is lost; reconnect
 * happens on the next command. */
bool rconn_append(rconn *c, const char *resp, size_t len, rerr *e);
redisReply *rconn_read(rconn *c, rerr *e);
/* Writes out everything queued without waiting for a reply (the server
 * works on it while the caller prepares more). */
bool rconn_flush(rconn *c, rerr *e);

/* True for a status/bulk reply equal to s. */
bool rreply_is(const redisReply *r, const char *s);

#endif
