/* target_url.h - where a target's store URL comes from.  The plan names it as
 * {"env": "VAR"} or {"file": "PATH"} (or a password-less URL string); the
 * command line as NAME=redis://host:port, NAME=env:VAR or NAME=file:PATH.
 * A password is accepted only from an env variable or a file, which
 * secret.h reads (the same rules as every other secret). */
#ifndef RLC_TARGET_URL_H
#define RLC_TARGET_URL_H

#include <stdbool.h>

#include <jansson.h>

#include "redis_conn.h"

/* Longest URL read from a variable or a file. */
#define TARGET_URL_MAX 4096

/* "redis://...", "env:VAR" or "file:PATH". */
bool target_url_from_spec(const char *spec, rurl *u, rerr *e);
/* A plan setting: a string URL, {"env": VAR} or {"file": PATH}. */
bool target_url_from_setting(const json_t *setting, rurl *u, rerr *e);
/* The TLS settings of a redis target (ca_file, cert_file, key_file,
 * tls_server_name, tls_verify, key_passphrase through secret.h) into
 * u->tls, over what the URL's query said.  Any of them on a redis:// URL
 * is RLC3202. */
bool target_url_tls_settings(const json_t *settings, rurl *u, rerr *e);

#endif
