/* redact.h - a URL as messages may show it.  Every message, progress line,
 * audit record or summary that shows a store or gateway URL shows
 * url_redact's result, never the URL as given: the URL may come from an
 * env variable or a file and hold a password in its user part or its
 * query ("unix:/run/redis.sock?password=..."), and it may be malformed in
 * any way (a leading space, "REDIS://", "rediss://"). */
#ifndef RLC_REDACT_H
#define RLC_REDACT_H

/* The URL without its user information (user:password@), query and
 * fragment; a string that does not even start with a scheme is shown only
 * by its length.  Parsed with libcurl's URL API where it parses, by hand
 * otherwise.  Returns malloc'd text, the caller's to free. */
char *url_redact(const char *url);

#endif
