/* httpc.h - a small HTTP client over libcurl for the etcd JSON gateway and
 * HTTP admin APIs: one reused handle (keep-alive), a connect timeout and a
 * whole-request timeout, TLS verified by default, a cap on response bodies,
 * and transport failures turned into runtime errors (rerr) that name the
 * method and URL.  Never prints, never logs request headers (they carry
 * tokens). */
#ifndef RLC_HTTPC_H
#define RLC_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#include "rerr.h"

/* Largest response body accepted (a range page or a tenant config). */
#define HTTPC_MAX_BODY (256u << 20)

typedef struct httpc httpc;

typedef struct httpc_resp {
    long status;           /* HTTP status; 0 when no response */
    char *body;            /* NUL-terminated, malloc'd (may be empty) */
    size_t len;
    char etag[256];        /* the ETag header, "" when none */
} httpc_resp;

/* ca_file may be NULL (system CAs).  Returns NULL with e set. */
httpc *httpc_new(int connect_ms, int timeout_ms, const char *ca_file, rerr *e);
void httpc_free(httpc *h);
/* Sends one request.  headers: NULL-terminated "Name: value" list (may be
 * NULL); body may be NULL.  A transport failure is false with e set:
 * RLC3151 (cannot connect), RLC3153 (timed out), RLC3154 (other); any HTTP
 * status is true, the caller judges it.  r is filled either way (free with
 * httpc_resp_free). */
bool httpc_do(httpc *h, const char *method, const char *url, const char *const *headers,
              const char *body, size_t bodylen, httpc_resp *r, rerr *e);
void httpc_resp_free(httpc_resp *r);
/* Whether the last failure of httpc_do happened before anything was sent
 * (connection refused / unresolvable): such a request can be retried
 * elsewhere even when it is not idempotent. */
bool httpc_failed_before_send(const httpc *h);

#endif
