/* plan_load.c - see plan_load.h.  The checks run in the order a user can
 * act on: unreadable, not JSON, wrong format, wrong compiler, malformed,
 * modified.  The digest is checked last but always: a well-formed plan
 * with one changed byte is still refused. */
/* memmem is glibc's (and the BSDs'), declared under _GNU_SOURCE. */
#define _GNU_SOURCE
#include "plan_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "plan_check.h"
#include "xalloc.h"

#ifndef RLC_VERSION
#define RLC_VERSION "0.0.0"
#endif

/* ---- reading and parsing ---- */

static char *read_capped(const char *path, size_t *len, rerr *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        rerr_set(e, DIAG_PLAN_READ, "cannot read plan '%s': %s", path, strerror(errno));
        return NULL;
    }
    /* Sized from the file when it says (one read, no copies while
     * growing: a plan can be hundreds of MB); grown as needed otherwise. */
    struct stat st;
    size_t cap = 1 << 16, n = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (size_t)st.st_size < PLAN_MAX_BYTES)
        cap = (size_t)st.st_size + 1;
    char *b = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= PLAN_MAX_BYTES) {
                rerr_set(e, DIAG_PLAN_READ, "plan '%s' is larger than %zu MiB", path,
                         PLAN_MAX_BYTES >> 20);
                goto fail;
            }
            cap *= 2;
            b = xrealloc(b, cap + 1);
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) {
                rerr_set(e, DIAG_PLAN_READ, "cannot read plan '%s': %s", path,
                         errno == EISDIR ? "it is a directory" : strerror(errno));
                goto fail;
            }
            fclose(f);
            *len = n;
            return b;
        }
    }
fail:
    free(b);
    fclose(f);
    return NULL;
}

/* Plans hold integers only: a real anywhere is not a plan rlc wrote. */
static const char *find_real(const json_t *v)
{
    if (json_is_real(v))
        return "a number with a fraction or exponent";
    const char *k;
    json_t *c;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, c) {
            const char *r = find_real(c);
            if (r)
                return r;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, c) {
            const char *r = find_real(c);
            if (r)
                return r;
        }
    }
    return NULL;
}

/* plan_parse_file from memory (borrows text). */
json_t *plan_parse_text(const char *text, size_t len, rerr *e)
{
    /* rlc writes plans as canonical JSON, which its own reader takes
     * several times faster than jansson; any other text goes to jansson,
     * which reads it the same way or says why not. */
    json_t *v = canon_json_read(text, len);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    bool canon = v != NULL;   /* then it holds no real number */
    json_error_t je;
    if (!v)
        v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        rerr_set(e, DIAG_PLAN_PARSE, "plan is not valid JSON: %s (line %d, column %d)",
                 je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        rerr_set(e, DIAG_PLAN_PARSE, "plan is not a JSON object");
        return NULL;
    }
    if (!canon && find_real(v)) {
        json_decref(v);
        rerr_set(e, DIAG_PLAN_PARSE, "plan holds a floating-point number; plans hold integers "
                                     "only");
        return NULL;
    }
    json_t *f = json_object_get(v, "format");
    if (!json_is_integer(f) || json_integer_value(f) != PLAN_FORMAT) {
        if (json_is_integer(f) && json_integer_value(f) >= 1 &&
            json_integer_value(f) < PLAN_FORMAT)
            rerr_set(e, DIAG_PLAN_FORMAT,
                     "plan format %lld is older than the format %d this rlc (%s) reads: "
                     "compile the policy again with this rlc",
                     (long long)json_integer_value(f), PLAN_FORMAT, RLC_VERSION);
        else if (json_is_integer(f))
            rerr_set(e, DIAG_PLAN_FORMAT,
                     "plan format %lld is not supported: this rlc (%s) reads format %d",
                     (long long)json_integer_value(f), RLC_VERSION, PLAN_FORMAT);
        else
            rerr_set(e, DIAG_PLAN_FORMAT,
                     "plan has no integer 'format' field: not a plan, or one from before "
                     "format %d",
                     PLAN_FORMAT);
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *plan_parse_file(const char *path, rerr *e)
{
    size_t len = 0;
    char *text = read_capped(path, &len, e);
    if (!text)
        return NULL;
    json_t *v = plan_parse_text(text, len, e);
    free(text);
    if (!v)
        rerr_prefix(e, "%s", path);
    return v;
}

/* ---- compatibility ---- */

/* True when a plan written by `compiler` ("rlc X.Y.Z") can be run by
 * `self` (a version "X.Y.Z"): both exactly semver 2.0.0
 * (MAJOR.MINOR.PATCH, optional -PRERELEASE and +BUILD, numbers without
 * leading zeros, nothing else), equal major versions, and equal minor
 * versions while the major is 0. */
static bool plan_compiler_compatible(const char *compiler, const char *self)
{
    long cmaj, cmin, cpatch, smaj, smin, spatch;
    if (!plan_compiler_parse(compiler, &cmaj, &cmin, &cpatch) ||
        !plan_version_parse(self, &smaj, &smin, &spatch))
        return false;
    return cmaj == smaj && (cmaj != 0 || cmin == smin);
}

/* ---- shape ---- */

typedef enum jt { T_STR, T_INT, T_BOOL, T_OBJ, T_ARR, T_ROUTE } jt;

static bool type_ok(const json_t *v, jt t)
{
    switch (t) {
    case T_STR: return json_is_string(v);
    case T_INT: return json_is_integer(v);
    case T_BOOL: return json_is_boolean(v);
    case T_OBJ: return json_is_object(v);
    case T_ARR: return json_is_array(v);
    case T_ROUTE: return json_is_null(v) || json_is_object(v);
    }
    return false;
}

static const char *type_name(jt t)
{
    static const char *const n[] = {"a string", "an integer", "true or false", "an object",
                                    "an array", "null or an object"};
    return n[t];
}

typedef struct field {
    const char *name;
    jt type;
} field;

/* Checks that o has every field with its type; `where` names o. */
static bool need(const json_t *o, const field *fs, size_t n, const char *where, rerr *e)
{
    if (!json_is_object(o))
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s must be an object", where);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(o, fs[i].name);
        if (!v)
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.%s is missing", where,
                            fs[i].name);
        if (!type_ok(v, fs[i].type))
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.%s must be %s", where,
                            fs[i].name, type_name(fs[i].type));
    }
    return true;
}

#define NEED(o, fs, where, e) need((o), (fs), sizeof(fs) / sizeof((fs)[0]), (where), (e))

/* Fields left out at their default (SPEC.md 5.5): of their type when present. */
static bool may(const json_t *o, const field *fs, size_t n, const char *where, rerr *e)
{
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(o, fs[i].name);
        if (v && !type_ok(v, fs[i].type))
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.%s must be %s", where,
                            fs[i].name, type_name(fs[i].type));
    }
    return true;
}

#define MAY(o, fs, where, e) may((o), (fs), sizeof(fs) / sizeof((fs)[0]), (where), (e))

static const field top_fields[] = {
    {"format", T_INT},   {"compiler", T_STR}, {"policy", T_OBJ},  {"sources", T_ARR},
    {"library", T_OBJ},  {"layout", T_OBJ},   {"tenants", T_ARR}, {"targets", T_ARR},
    {"steps", T_ARR},    {"verify", T_ARR},   {"plan_digest", T_STR},
    {"tenant_index", T_ARR},
};
static const field index_fields[] = {
    {"at", T_INT}, {"len", T_INT}, {"n", T_INT}, {"sha256", T_STR}};
static const field policy_fields[] = {
    {"name", T_STR}, {"namespace", T_STR}, {"max_clock_skew_ms", T_INT},
    {"time_source", T_STR}, {"on_store_error", T_STR},
};
static const field source_fields[] = {{"path", T_STR}, {"sha256", T_STR}};
static const field library_fields[] = {
    {"name", T_STR}, {"version", T_INT}, {"sha256", T_STR}, {"source", T_STR}};
static const field layout_fields[] = {
    {"tag", T_STR}, {"config", T_STR}, {"active", T_STR}, {"counter", T_STR}};
static const field tenant_fields[] = {
    {"name", T_STR}, {"tag", T_STR}, {"version", T_STR}, {"rules", T_ARR}};
static const field rule_fields[] = {{"id", T_STR}};
static const field rule_opt_fields[] = {
    {"kind", T_STR}, {"subject", T_STR}, {"route", T_ROUTE}, {"shadow", T_BOOL}};
static const field rate_fields[] = {{"count", T_INT}, {"window_ms", T_INT}};
static const field rate_opt_fields[] = {
    {"algorithm", T_STR}, {"burst", T_INT}, {"cost", T_INT}};
static const field conc_fields[] = {{"max", T_INT}, {"lease_ms", T_INT}};
static const field target_fields[] = {{"name", T_STR}, {"kind", T_STR}, {"settings", T_OBJ}};
static const field step_fields[] = {{"target", T_STR}, {"kind", T_STR}, {"op", T_STR}};
static const field verify_fields[] = {
    {"tenant", T_STR}, {"path", T_ARR}, {"method", T_STR}, {"route", T_STR},
    {"cost", T_INT}, {"sends", T_INT}, {"at_ms", T_INT}};

static bool each(const json_t *a, const field *fs, size_t n, const char *what, rerr *e)
{
    size_t i;
    json_t *v;
    char where[64];
    json_array_foreach(a, i, v) {
        snprintf(where, sizeof where, "%s[%zu]", what, i);
        if (!need(v, fs, n, where, e))
            return false;
    }
    return true;
}

#define EACH(a, fs, what, e) each((a), (fs), sizeof(fs) / sizeof((fs)[0]), (what), (e))

static bool tenant_rules_ok(const json_t *t, size_t i, rerr *e);
static bool library_ok(const json_t *p, rerr *e);
static bool values_ok(const json_t *p, rerr *e);

static bool tenant_fields_ok(const json_t *t, size_t i, rerr *e)
{
    char where[64];
    snprintf(where, sizeof where, "tenants[%zu]", i);
    return need(t, tenant_fields, sizeof tenant_fields / sizeof tenant_fields[0], where, e);
}

static bool shape_ok(const json_t *p, rerr *e)
{
    if (!NEED(p, top_fields, "plan", e) ||
        !NEED(json_object_get(p, "policy"), policy_fields, "policy", e) ||
        !NEED(json_object_get(p, "library"), library_fields, "library", e) ||
        !NEED(json_object_get(p, "layout"), layout_fields, "layout", e) ||
        !EACH(json_object_get(p, "sources"), source_fields, "sources", e) ||
        !EACH(json_object_get(p, "tenant_index"), index_fields, "tenant_index", e) ||
        !EACH(json_object_get(p, "tenants"), tenant_fields, "tenants", e) ||
        !EACH(json_object_get(p, "targets"), target_fields, "targets", e) ||
        !EACH(json_object_get(p, "steps"), step_fields, "steps", e) ||
        !EACH(json_object_get(p, "verify"), verify_fields, "verify", e))
        return false;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(p, "tenants"), i, t)
        if (!tenant_rules_ok(t, i, e))
            return false;
    return library_ok(p, e) && values_ok(p, e);
}

static bool tenant_rules_ok(const json_t *t, size_t i, rerr *e)
{
    size_t j;
    json_t *r;
    char where[96];
    {
        json_array_foreach(json_object_get(t, "rules"), j, r) {
            snprintf(where, sizeof where, "tenants[%zu].rules[%zu]", i, j);
            if (!NEED(r, rule_fields, where, e) || !MAY(r, rule_opt_fields, where, e))
                return false;
            /* A format 2 rule's path, pasted into a format 3 plan, would
             * otherwise read as a limit of the tenant itself. */
            if (json_object_get(r, "path"))
                return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.path is not a field of "
                                "format %d: a rule names its subject with \"subject\"",
                                where, PLAN_FORMAT);
            const char *kind = json_string_value(json_object_get(r, "kind")) ?: "rate";
            if (!strcmp(kind, "rate")) {
                if (!NEED(r, rate_fields, where, e) || !MAY(r, rate_opt_fields, where, e))
                    return false;
            } else if (!strcmp(kind, "concurrency")) {
                if (!NEED(r, conc_fields, where, e))
                    return false;
            } else {
                return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.kind is '%s', not rate or "
                                "concurrency", where, kind);
            }
        }
    }
    return true;
}

static bool library_ok(const json_t *p, rerr *e)
{
    /* The library's digest is part of the plan's, but a deploy loads the
     * source, so check the two agree. */
    const json_t *lib = json_object_get(p, "library");
    const json_t *src = json_object_get(lib, "source");
    char sha[DIGEST_HEX_LEN + 1];
    if (!digest_sha256_hex(json_string_value(src), json_string_length(src), sha) ||
        strcmp(sha, json_string_value(json_object_get(lib, "sha256"))) != 0)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field library.sha256 is not the SHA-256 of "
                        "library.source");
    return true;
}

/* ---- values ----
 *
 * A plan with a valid digest may still have been written by hand and sealed
 * again (the digest is a checksum, not a signature), so every value the
 * runtime acts on before the rules are read is held to what rlc compile
 * writes (SPEC.md 5.3): the namespace's grammar (a '{' or '}' in it would
 * give every tenant one hash tag), names' lengths, the enumerations, and
 * the verification's size (it runs while the lock is held).  The rules'
 * values are rules.c's. */

static bool one_of(const char *v, const char *a, const char *b)
{
    return v && (!strcmp(v, a) || !strcmp(v, b));
}

/* A name: 1 to PLAN_NAME_MAX bytes. */
static bool name_ok(const json_t *v, const char *where, rerr *e)
{
    size_t n = json_string_length(v);
    if (n == 0 || n > PLAN_NAME_MAX)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s must be 1 to %d bytes long, not %zu",
                        where, PLAN_NAME_MAX, n);
    return true;
}

static bool int_in(const json_t *o, const char *k, json_int_t lo, json_int_t hi,
                   const char *where, rerr *e)
{
    json_int_t v = json_integer_value(json_object_get(o, k));
    if (v < lo || v > hi)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.%s is %lld, outside [%lld, %lld]",
                        where, k, (long long)v, (long long)lo, (long long)hi);
    return true;
}

static bool case_ok(const json_t *c, size_t i, rerr *e)
{
    char where[64], w2[96];
    snprintf(where, sizeof where, "verify[%zu]", i);
    snprintf(w2, sizeof w2, "%s.tenant", where);
    const json_t *tn = json_object_get(c, "tenant");
    if (!name_ok(tn, w2, e) || !int_in(c, "sends", 1, PLAN_VERIFY_MAX_SENDS, where, e) ||
        !int_in(c, "cost", 1, 1, where, e) || !int_in(c, "at_ms", 0, 0, where, e))
        return false;
    const char *m = json_string_value(json_object_get(c, "method"));
    if (!plan_method_ok(m) || !strcmp(m, "ANY"))
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.method is '%.32s', not an HTTP "
                        "method", where, m);
    const char *why = plan_route_problem(json_string_value(json_object_get(c, "route")));
    if (why)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.route: %s", where, why);
    const json_t *path = json_object_get(c, "path");
    if (json_array_size(path) < 1 || json_array_size(path) > PLAN_DEPTH_MAX)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.path must hold 1 to %d subjects",
                        where, PLAN_DEPTH_MAX);
    size_t k;
    json_t *el;
    json_array_foreach(path, k, el) {
        const char *kind = json_string_value(json_object_get(el, "kind"));
        snprintf(w2, sizeof w2, "%s.path[%zu].name", where, k);
        if (!(k == 0 ? one_of(kind, "tenant", "tenant") : one_of(kind, "group", "key")))
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.path[%zu].kind must be %s", where,
                            k, k == 0 ? "\"tenant\"" : "\"group\" or \"key\"");
        const json_t *nm = json_object_get(el, "name");
        if (!json_is_string(nm))
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s must be a string", w2);
        if (!name_ok(nm, w2, e))
            return false;
        if (k == 0 && !json_equal(nm, tn))
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.path[0] is not the case's "
                            "tenant", where);
    }
    /* The simulator's prediction, one entry per request. */
    const json_t *x = json_object_get(c, "expect");
    static const char *const cols[] = {"allowed", "rule", "remaining", "retry_ms"};
    for (size_t j = 0; j < 4; j++)
        if (json_array_size(json_object_get(x, cols[j])) !=
            (size_t)json_integer_value(json_object_get(c, "sends")))
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field %s.expect.%s must be an array of "
                            "one entry per request (sends)", where, cols[j]);
    return true;
}

static bool values_ok(const json_t *p, rerr *e)
{
    const json_t *pol = json_object_get(p, "policy");
    const char *ns = json_string_value(json_object_get(pol, "namespace"));
    if (!plan_namespace_ok(ns))
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field policy.namespace must be 1 to %d of "
                        "[A-Za-z0-9_.-] (it prefixes every key), not '%.64s%s' (%zu bytes)",
                        PLAN_NS_MAX, ns, strlen(ns) > 64 ? "..." : "", strlen(ns));
    if (json_string_length(json_object_get(pol, "name")) > PLAN_NAME_MAX)
        return name_ok(json_object_get(pol, "name"), "policy.name", e);
    if (!one_of(json_string_value(json_object_get(pol, "time_source")), "server", "client"))
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field policy.time_source must be \"server\" "
                        "or \"client\"");
    if (!one_of(json_string_value(json_object_get(pol, "on_store_error")), "fail_open",
                "fail_closed"))
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field policy.on_store_error must be "
                        "\"fail_open\" or \"fail_closed\"");
    if (!int_in(pol, "max_clock_skew_ms", 0, PLAN_SKEW_MAX_MS, "policy", e))
        return false;
    size_t i;
    json_t *v;
    char where[64];
    json_array_foreach(json_object_get(p, "targets"), i, v) {
        snprintf(where, sizeof where, "targets[%zu].name", i);
        if (!name_ok(json_object_get(v, "name"), where, e))
            return false;
    }
    const json_t *cases = json_object_get(p, "verify");
    if (json_array_size(cases) > PLAN_VERIFY_MAX_CASES)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field verify holds %zu cases; rlc compile "
                        "writes at most %d", json_array_size(cases), PLAN_VERIFY_MAX_CASES);
    json_array_foreach(cases, i, v)
        if (!case_ok(v, i, e))
            return false;
    return true;
}

/* The checks of plan_verify after the digest: compiler, shape. */
static bool verify_rest(const json_t *plan, const char *dg, rerr *e);

/* Checks that the buckets of tenant_index cover the n tenants of the plan
 * in order, each holding 1 to PLAN_BUCKET_MAX (RLC3106 otherwise); n ==
 * SIZE_MAX skips the total.  at and len are not checked: they locate a bucket in the
 * canonical text, which a tree does not have. */
static bool index_covers(const json_t *index, size_t n, rerr *e)
{
    size_t i, sum = 0;
    json_t *b;
    json_array_foreach(index, i, b) {
        json_int_t k = json_integer_value(json_object_get(b, "n"));
        const char *sha = json_string_value(json_object_get(b, "sha256"));
        if (k < 1 || k > PLAN_BUCKET_MAX)
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field tenant_index[%zu].n is %lld, "
                            "outside [1, %d]", i, (long long)k, PLAN_BUCKET_MAX);
        if (strlen(sha) != DIGEST_HEX_LEN)
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field tenant_index[%zu].sha256 is not "
                            "a SHA-256 in hex", i);
        sum += (size_t)k;
    }
    if (n != SIZE_MAX && sum != n)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field tenant_index counts %zu tenants, but "
                        "the plan has %zu", sum, n);
    return true;
}

/* index_covers for buckets read without a tree. */
static bool index_covers_c(const plan_bucket *ix, size_t nb, rerr *e)
{
    for (size_t i = 0; i < nb; i++) {
        if (ix[i].n < 1 || ix[i].n > PLAN_BUCKET_MAX)
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field tenant_index[%zu].n is %zu, "
                            "outside [1, %d]", i, ix[i].n, PLAN_BUCKET_MAX);
        if (strlen(ix[i].sha256) != DIGEST_HEX_LEN)
            return rerr_set(e, DIAG_PLAN_SHAPE, "plan field tenant_index[%zu].sha256 is not "
                            "a SHA-256 in hex", i);
    }
    return true;
}

/* The message of a bucket whose tenants do not hash to its digest. */
static bool bucket_modified(size_t k, size_t first, size_t n, const char *want,
                            const char *have, rerr *e)
{
    return rerr_set(e, DIAG_PLAN_DIGEST, "tenants[%zu..%zu] (tenant_index[%zu]) hash to "
                    "%.12s... but the index says %.12s...: the plan was modified after it "
                    "was compiled", first, first + n - 1, k, have, want);
}

/* Each bucket of a whole tree against its digest (RLC3105). */
static bool buckets_match(const json_t *plan, rerr *e)
{
    const json_t *index = json_object_get(plan, "tenant_index");
    const json_t *ts = json_object_get(plan, "tenants");
    if (!index_covers(index, json_array_size(ts), e))
        return false;
    size_t k, first = 0;
    json_t *b;
    json_array_foreach(index, k, b) {
        size_t n = (size_t)json_integer_value(json_object_get(b, "n"));
        json_t *run = json_array();
        for (size_t i = first; i < first + n; i++)
            json_array_append(run, json_array_get(ts, i));
        char hex[DIGEST_HEX_LEN + 1];
        bool ok = digest_json_hex(run, hex);
        json_decref(run);
        const char *want = json_string_value(json_object_get(b, "sha256"));
        if (!ok || strcmp(hex, want))
            return bucket_modified(k, first, n, want, hex, e);
        first += n;
    }
    return true;
}

bool plan_verify(const json_t *plan, char computed[DIGEST_HEX_LEN + 1], rerr *e)
{
    char dg[DIGEST_HEX_LEN + 1];
    if (!plan_digest_compute(plan, dg))
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan is not an object");
    if (computed)
        memcpy(computed, dg, sizeof dg);
    return verify_rest(plan, dg, e) && buckets_match(plan, e);
}

static bool verify_rest(const json_t *plan, const char *dg, rerr *e)
{
    const char *comp = json_string_value(json_object_get(plan, "compiler"));
    if (!comp)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field plan.compiler is missing");
    if (!plan_compiler_compatible(comp, RLC_VERSION))
        return rerr_set(e, DIAG_PLAN_COMPILER,
                        "plan was compiled by '%s', which this rlc (%s) does not run; "
                        "recompile it with rlc %s",
                        comp, RLC_VERSION, RLC_VERSION);
    const char *have = json_string_value(json_object_get(plan, "plan_digest"));
    if (!have)
        return rerr_set(e, DIAG_PLAN_DIGEST, "plan has no plan_digest: it was not sealed by "
                        "rlc compile");
    if (strcmp(have, dg) != 0)
        return rerr_set(e, DIAG_PLAN_DIGEST,
                        "plan_digest is %.12s... but the plan's content hashes to %.12s...: the "
                        "plan was modified after it was compiled",
                        have, dg);
    /* Shape after the digest: a modified plan is reported as modified, and
     * the shape check guards the runtime against a compiler bug. */
    return shape_ok(plan, e);
}

json_t *plan_load(const char *path, rerr *e)
{
    size_t len = 0;
    char *text = read_capped(path, &len, e);
    if (!text)
        return NULL;
    json_t *p = plan_parse_text(text, len, e);
    free(text);
    if (!p)
        rerr_prefix(e, "%s", path);
    else if (!plan_verify(p, NULL, e)) {
        rerr_prefix(e, "%s", path);
        json_decref(p);
        return NULL;
    }
    return p;
}

/* ---- streamed loading (the deploy path) ---- */

/* End of the JSON value starting at p (NULL if malformed): strings with
 * their escapes, and brackets matched, which is all a value's extent needs
 * in text already known to be valid JSON. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;
    while (p < end) {
        char ch = *p;
        if (ch == '"') {
            /* The closing quote is the first one not escaped: memchr, then
             * count the backslashes before it. */
            const char *q = p + 1;
            for (;;) {
                q = memchr(q, '"', (size_t)(end - q));
                if (!q)
                    return NULL;
                const char *b = q;
                while (b > p + 1 && b[-1] == '\\')
                    b--;
                if (((q - b) & 1) == 0)
                    break;
                q++;
            }
            p = q + 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
            p++;
        } else if (ch == '}' || ch == ']') {
            if (--depth < 0)
                return p;   /* the end of the enclosing container */
            p++;
        } else if (depth == 0 && (ch == ',' || ch == ':')) {
            return p;
        } else {
            p++;
        }
        if (depth == 0 && (p >= end || *p == ',' || *p == ':' || *p == '}' || *p == ']'))
            return p;
    }
    return depth == 0 ? p : NULL;
}

/* The members of a compact top-level object that come before "tenants"
 * (keys sorted): where the values of "plan_digest" and "tenant_index"
 * start and end (NULL when absent), and where the value of "tenants"
 * starts.  False when the text is not compact JSON of that order. */
typedef struct head_spans {
    const char *dg, *dg_end, *index, *index_end, *lib, *lib_end, *tenants;
} head_spans;

static bool find_head(const char *text, const char *end, head_spans *h)
{
    memset(h, 0, sizeof *h);
    const char *p = text;
    if (p >= end || *p != '{')
        return false;
    p++;
    while (p < end && *p == '"') {
        const char *k = p + 1, *ke = skip_value(p, end);
        if (!ke || ke >= end || *ke != ':')
            return false;
        const char *v = ke + 1;
        size_t kl = (size_t)(ke - k);
        if (kl == 8 && !memcmp(k, "tenants\"", 8)) {
            h->tenants = v;
            return true;
        }
        const char *vend = skip_value(v, end);
        if (!vend)
            return false;
        if (kl == 12 && !memcmp(k, "plan_digest\"", 12)) {
            h->dg = v;
            h->dg_end = vend;
        } else if (kl == 13 && !memcmp(k, "tenant_index\"", 13)) {
            h->index = v;
            h->index_end = vend;
        } else if (kl == 8 && !memcmp(k, "library\"", 8)) {
            h->lib = v;
            h->lib_end = vend;
        }
        p = vend;
        if (p < end && *p == ',')
            p++;
    }
    return false;
}

/* Where the value of member key (with its closing quote: `source"`) of
 * the compact object [o, oe) lies: *v at its first byte, *ve after it. */
static bool member_span(const char *o, const char *oe, const char *key, const char **v,
                        const char **ve)
{
    size_t kl = strlen(key);
    if (o >= oe || *o != '{')
        return false;
    const char *p = o + 1;
    while (p < oe && *p == '"') {
        const char *k = p + 1, *ke = skip_value(p, oe);
        if (!ke || ke >= oe || *ke != ':')
            return false;
        const char *val = ke + 1, *vend = skip_value(val, oe);
        if (!vend)
            return false;
        if ((size_t)(ke - k) == kl && !memcmp(k, key, kl)) {
            *v = val;
            *ve = vend;
            return true;
        }
        p = vend;
        if (p < oe && *p == ',')
            p++;
    }
    return false;
}

/* The string literal [s, se) (quotes included) decoded, when it holds
 * only printable ASCII, the two-character escapes and \u escapes of
 * characters from U+0001 to U+007F: what the library's source is.  NULL
 * for anything else (non-ASCII, other \u escapes, controls), which jansson
 * then parses: this reader accepts nothing jansson would refuse and
 * decodes nothing otherwise.  It exists because jansson reads a string
 * about twenty times slower, and the source is half of a plan's head. */
static char *ascii_string(const char *s, const char *se, size_t *n)
{
    if (se - s < 2 || *s != '"' || se[-1] != '"')
        return NULL;
    char *out = xmalloc((size_t)(se - s)), *w = out;
    const char *p = s + 1, *end = se - 1;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *w++ = (char)c;
            p++;
            continue;
        }
        if (c != '\\' || p + 1 >= end)
            goto refuse;
        char x = p[1];
        const char *simple = strchr("\"\\/bfnrt", x);
        if (x && simple) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            *w++ = to[simple - "\"\\/bfnrt"];
            p += 2;
            continue;
        }
        if (x != 'u' || end - p < 6)
            goto refuse;
        unsigned v = 0;
        for (int i = 2; i < 6; i++) {
            char h = p[i];
            v <<= 4;
            if (h >= '0' && h <= '9')
                v |= (unsigned)(h - '0');
            else if (h >= 'a' && h <= 'f')
                v |= (unsigned)(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                v |= (unsigned)(h - 'A' + 10);
            else
                goto refuse;
        }
        if (v == 0 || v >= 0x80)
            goto refuse;
        *w++ = (char)v;
        p += 6;
    }
    /* The last closing quote is the literal's (skip_value found it). */
    *n = (size_t)(w - out);
    return out;
refuse:
    free(out);
    return NULL;
}

/* A decimal integer as canonical JSON writes one (no sign, no leading
 * zero, at most 15 digits) at *p; advances *p past it. */
static bool canon_uint(const char **p, const char *end, json_int_t *v)
{
    const char *q = *p;
    json_int_t x = 0;
    int n = 0;
    while (q < end && *q >= '0' && *q <= '9' && n < 16) {
        x = x * 10 + (*q++ - '0');
        n++;
    }
    if (n == 0 || n > 15 || (n > 1 && **p == '0'))
        return false;
    *v = x;
    *p = q;
    return true;
}

static bool lit(const char **p, const char *end, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(end - *p) < n || memcmp(*p, s, n))
        return false;
    *p += n;
    return true;
}

/* The tenant index [s, e) when it is exactly as rlc writes it:
 * [{"at":N,"len":N,"n":N,"sha256":"<64 lower-case hex>"},...], as buckets
 * (malloc'd, *n of them); NULL for any other text, which jansson then
 * reads.  Neither jansson's parse of its 90 KB (100 000 tenants) nor a
 * tree of its 826 entries (a page fault per five of them) is needed to
 * read it. */
static plan_bucket *index_canonical(const char *s, const char *e, size_t *nout)
{
    const char *p = s;
    if (!lit(&p, e, "["))
        return NULL;
    size_t n = 0, cap = (size_t)(e - s) / 90 + 1;
    plan_bucket *a = xmalloc(cap * sizeof *a);
    if (lit(&p, e, "]")) {
        if (p == e) {
            *nout = 0;
            return a;
        }
        free(a);
        return NULL;
    }
    for (;;) {
        json_int_t at, len, k;
        if (!lit(&p, e, "{\"at\":") || !canon_uint(&p, e, &at) || !lit(&p, e, ",\"len\":") ||
            !canon_uint(&p, e, &len) || !lit(&p, e, ",\"n\":") || !canon_uint(&p, e, &k) ||
            !lit(&p, e, ",\"sha256\":\"") || e - p < DIGEST_HEX_LEN + 2)
            break;
        const char *h = p;
        for (int i = 0; i < DIGEST_HEX_LEN; i++, p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                goto refuse;
        if (!lit(&p, e, "\"}"))
            break;
        if (n == cap)
            a = xreallocarray(a, cap *= 2, sizeof *a);
        a[n] = (plan_bucket){.at = (size_t)at, .len = (size_t)len, .n = (size_t)k};
        memcpy(a[n].sha256, h, DIGEST_HEX_LEN);
        a[n++].sha256[DIGEST_HEX_LEN] = '\0';
        if (lit(&p, e, ","))
            continue;
        if (lit(&p, e, "]") && p == e) {
            *nout = n;
            return a;
        }
        break;
    }
refuse:
    free(a);
    return NULL;
}

/* The buckets of an index jansson read (text rlc did not write as it
 * writes it), when each is {"at","len","n": integers >= 0, "sha256": a
 * string}; NULL otherwise (the plan is then read whole, and checked as a
 * tree, which names what is wrong). */
static plan_bucket *index_of_tree(const json_t *index, size_t *nout)
{
    if (!json_is_array(index) || find_real(index))
        return NULL;
    size_t n = json_array_size(index), k;
    plan_bucket *a = xmalloc((n + 1) * sizeof *a);
    json_t *b;
    json_array_foreach(index, k, b) {
        const json_t *at = json_object_get(b, "at"), *len = json_object_get(b, "len"),
                     *cnt = json_object_get(b, "n"), *sha = json_object_get(b, "sha256");
        if (!json_is_integer(at) || !json_is_integer(len) || !json_is_integer(cnt) ||
            !json_is_string(sha) || json_integer_value(at) < 0 || json_integer_value(len) < 0 ||
            json_integer_value(cnt) < 0 || json_string_length(sha) != DIGEST_HEX_LEN) {
            free(a);
            return NULL;
        }
        a[k] = (plan_bucket){.at = (size_t)json_integer_value(at),
                             .len = (size_t)json_integer_value(len),
                             .n = (size_t)json_integer_value(cnt)};
        memcpy(a[k].sha256, json_string_value(sha), DIGEST_HEX_LEN + 1);
    }
    *nout = n;
    return a;
}

/* The index as the tree holds it, for a digest computed from the tree. */
static json_t *index_tree(const plan_bucket *ix, size_t n)
{
    json_t *a = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(a, json_pack("{s:I,s:I,s:I,s:s}", "at", (json_int_t)ix[k].at,
                                           "len", (json_int_t)ix[k].len, "n",
                                           (json_int_t)ix[k].n, "sha256", ix[k].sha256));
    return a;
}

/* Whether the bucket text [bt, bt + len) is framed as the index says: from
 * a '{' after the array's '[' or a ',' to a '}' before a ',' or the ']'. */
static bool bucket_framed(const char *bt, size_t len)
{
    return len >= 2 && bt[0] == '{' && bt[len - 1] == '}' && (bt[-1] == '[' || bt[-1] == ',') &&
           (bt[len] == ',' || bt[len] == ']');
}

static bool bucket_misplaced(size_t k, rerr *e)
{
    return rerr_set(e, DIAG_PLAN_DIGEST, "tenant_index[%zu]: the bucket is not where the index "
                    "says in the plan's text: the plan was modified after it was compiled", k);
}

/* Whether the buckets of index lie where they say in the tenants array
 * starting at vs ('['): one after the other (by their numbers), the first
 * and the last framed by their bytes; *ve is then the end of the array
 * (after ']').  A plan re-indented by a tool fails this and is read whole
 * instead.  Each other bucket's bytes are checked when it is read
 * (bucket_framed); the separator between two buckets neither of which is
 * read is never used. */
static bool buckets_located(const plan_bucket *ix, size_t nb, const char *vs, const char *end,
                            const char **ve)
{
    size_t next = 1, room = (size_t)(end - vs);
    for (size_t k = 0; k < nb; k++) {
        size_t at = ix[k].at, len = ix[k].len;
        if (at != next || len < 2 || at >= room || len >= room - at)
            return false;
        next = at + len + 1;
        /* The bytes of the first and the last bucket only: looking at each
         * bucket's would fault in a page of the file per bucket, most of
         * which a re-apply never reads.  A bucket is checked against its
         * digest, and parsed, when it is read. */
        if ((k == 0 || k + 1 == nb) &&
            (vs[at] != '{' || vs[at + len - 1] != '}' ||
             vs[next - 1] != (k + 1 == nb ? ']' : ',')))
            return false;
    }
    if (next == 1 && (room < 2 || vs[1] != ']'))
        return false;
    *ve = vs + (next == 1 ? 2 : next);
    return true;
}

/* The file mapped read-only when it is a regular file (no copy into fresh
 * memory: at hundreds of MB, copying and faulting in the copy cost more
 * than parsing), else read; *mapped says which, for release_text.  Plans
 * are replaced by rename, never rewritten in place, and the mapping lives
 * only while the plan loads. */
static char *map_capped(const char *path, size_t *len, bool *mapped, rerr *e)
{
    *mapped = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (size_t)st.st_size <= PLAN_MAX_BYTES) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            close(fd);
            /* No MADV_WILLNEED: a re-apply reads the head and a bucket or
             * two of the file, and asking for all of it took 0.35 ms at
             * 130 MB; a first deploy reads it in order, which the kernel's
             * own readahead follows. */
            *mapped = true;
            *len = (size_t)st.st_size;
            return m;
        }
    }
    if (fd >= 0)
        close(fd);
    return read_capped(path, len, e);
}

static void release_text(char *text, size_t len, bool mapped)
{
    if (mapped)
        munmap(text, len);
    else
        free(text);
}

/* Hands the tenants of one bucket (text, len: "{..},{..}") to tfn or fn,
 * tenants[first] being its first; false with e set when one is refused or
 * the bucket does not hold n. */
/* One tenant, [q, qe), to tfn, else through a tree to fn. */
static bool give_tenant(const json_t *plan, const char *q, const char *qe, size_t i, size_t total,
                        plan_tenant_text_fn tfn, plan_tenant_fn fn, void *ud, rerr *e)
{
    if (tfn) {
        /* The canonical form is read without a tree; anything else
         * takes the tree below. */
        int r = tfn(ud, plan, q, (size_t)(qe - q), i, total, e);
        if (r != 0)
            return r > 0;
    }
    json_error_t je;
    json_t *t = json_loadb(q, (size_t)(qe - q), JSON_REJECT_DUPLICATES, &je);
    bool ok;
    if (!t)
        ok = rerr_set(e, DIAG_PLAN_PARSE, "tenants[%zu] is not valid JSON: %s", i, je.text);
    else if (find_real(t))
        ok = rerr_set(e, DIAG_PLAN_PARSE, "plan holds a floating-point number; plans "
                      "hold integers only");
    else
        ok = tenant_fields_ok(t, i, e) && tenant_rules_ok(t, i, e) &&
             fn(ud, plan, t, i, total, e);
    json_decref(t);
    return ok;
}

static bool hand_over(const json_t *plan, const char *text, size_t len, size_t first, size_t n,
                      size_t total, plan_tenant_text_fn tfn, plan_tenant_fn fn, void *ud,
                      rerr *e)
{
    const char *q = text, *end = text + len;
    size_t k = 0;
    while (q < end) {
        const char *qe = skip_value(q, end);
        if (!qe || (qe < end && *qe != ','))
            return rerr_set(e, DIAG_PLAN_PARSE, "tenants[%zu] is not valid JSON", first + k);
        if (k == n)
            break;
        size_t i = first + k++;
        if (!give_tenant(plan, q, qe, i, total, tfn, fn, ud, e))
            return false;
        q = qe + 1;
    }
    if (k != n || q < end)
        return rerr_set(e, DIAG_PLAN_SHAPE, "plan field tenant_index: a bucket says it holds "
                        "%zu tenants from tenants[%zu], but it holds %s", n, first,
                        k < n ? "fewer" : "more");
    return true;
}

/* hand_over of a bucket whose digest is checked later, split by what ends
 * every tenant in the form rlc compile writes: "version":"<64 hex>"}
 * before a ',' or the bucket's end (found by memmem, about three times
 * faster than matching brackets and quotes over the 100 MB of a 100 000-tenant
 * plan).  0, with nothing handed over, when n such ends do not tile the
 * bucket (hand_over then splits it).  The split is not proven: a string
 * cannot hold that text unescaped, but a tenant's rules could hold such a
 * member; the reader of each tenant's text takes exactly one tenant or
 * refuses, and a tenant never read has its bucket walked
 * (plan_check_split) before anything of it is used. */
static int hand_over_fast(const json_t *plan, const char *text, size_t len, size_t first,
                          size_t n, size_t total, plan_tenant_text_fn tfn, plan_tenant_fn fn,
                          void *ud, uint32_t **cuts, rerr *e)
{
    static const char vk[] = "\"version\":\"";
    size_t vl = sizeof vk - 1;
    const char *end = text + len, *q = text;
    const char **at = xmalloc((n + 1) * sizeof *at);
    size_t k = 0;
    for (; k < n && q < end && *q == '{'; k++) {
        const char *h = memmem(q, (size_t)(end - q), vk, vl);
        if (!h || (size_t)(end - h) < vl + DIGEST_HEX_LEN + 2)
            break;
        const char *qe = h + vl + DIGEST_HEX_LEN + 2;
        if (qe[-2] != '"' || qe[-1] != '}' || (qe < end && *qe != ','))
            break;
        at[k] = q;
        q = qe + 1;
    }
    at[k] = q;
    if (k != n || q != end + 1) {
        free(at);
        return 0;
    }
    bool ok = true;
    for (size_t j = 0; ok && j < n; j++)
        ok = give_tenant(plan, at[j], at[j + 1] - 1, first + j, total, tfn, fn, ud, e);
    uint32_t *c = xmalloc((n + 1) * sizeof *c);
    for (size_t j = 0; j <= n; j++)
        c[j] = (uint32_t)(at[j] - text);
    *cuts = c;
    free(at);
    return ok ? 1 : -1;
}

bool plan_check_split(const plan_text *pt, size_t k, rerr *e)
{
    if (!pt->text || k >= pt->nindex || !pt->cuts || !pt->cuts[k])
        return true;
    const uint32_t *cut = pt->cuts[k];
    size_t n = pt->index[k].n;
    const char *b0 = pt->text + pt->tenants_at + pt->index[k].at, *q = b0;
    const char *end = b0 + pt->index[k].len;
    for (size_t j = 0; j < n; j++) {
        const char *qe = q < end ? skip_value(q, end) : NULL;
        if (!qe || (qe < end && *qe != ',') || (size_t)(q - b0) != cut[j] ||
            (size_t)(qe + 1 - b0) != cut[j + 1])
            return rerr_set(e, DIAG_PLAN_PARSE, "tenant_index[%zu]: the bucket's tenants are not "
                            "one JSON object each where their text was taken from", k);
        q = qe + 1;
    }
    return true;
}

void plan_text_release(plan_text *t)
{
    if (!t)
        return;
    if (t->text)
        release_text(t->text, t->len, t->mapped);
    for (size_t k = 0; t->cuts && k < t->nindex; k++)
        free(t->cuts[k]);
    free(t->cuts);
    free(t->index);
    memset(t, 0, sizeof *t);
}

/* Whether the tenant text at q names name: {"name":"NAME", as the
 * canonical text writes it (a name that needs an escape never matches). */
static bool names(const char *q, const char *end, const char *name)
{
    static const char nk[] = "{\"name\":\"";
    size_t nl = strlen(name);
    return (size_t)(end - q) > sizeof nk + nl && !memcmp(q, nk, sizeof nk - 1) &&
           !memcmp(q + sizeof nk - 1, name, nl) && q[sizeof nk - 1 + nl] == '"';
}

bool plan_read_bucket(const plan_text *pt, const json_t *plan, size_t k, size_t first,
                      size_t total, plan_tenant_text_fn tfn, plan_tenant_fn fn, void *ud,
                      rerr *e)
{
    if (!pt->text || k >= pt->nindex || pt->index[k].at < 1 ||
        pt->index[k].at + pt->index[k].len >= pt->len - pt->tenants_at)
        return rerr_set(e, DIAG_PLAN_SHAPE, "tenant_index[%zu]: no such bucket in the plan", k);
    size_t bl = pt->index[k].len, n = pt->index[k].n;
    const char *want = pt->index[k].sha256;
    const char *bt = pt->text + pt->tenants_at + pt->index[k].at;
    char hex[DIGEST_HEX_LEN + 1];
    if (!bucket_framed(bt, (size_t)bl))
        return bucket_misplaced(k, e);
    if (!plan_bucket_digest(bt, (size_t)bl, hex) || strcmp(hex, want))
        return bucket_modified(k, first, n, want, hex, e);
    return hand_over(plan, bt, (size_t)bl, first, n, total, tfn, fn, ud, e);
}

bool plan_check_bucket(const plan_text *pt, size_t k, size_t first, rerr *e)
{
    if (!pt->text || k >= pt->nindex || pt->index[k].at < 1 ||
        pt->index[k].at + pt->index[k].len >= pt->len - pt->tenants_at)
        return rerr_set(e, DIAG_PLAN_SHAPE, "tenant_index[%zu]: no such bucket in the plan", k);
    const plan_bucket *b = &pt->index[k];
    const char *bt = pt->text + pt->tenants_at + b->at;
    char hex[DIGEST_HEX_LEN + 1];
    if (!bucket_framed(bt, b->len))
        return bucket_misplaced(k, e);
    if (!plan_bucket_digest(bt, b->len, hex) || strcmp(hex, b->sha256))
        return bucket_modified(k, first, b->n, b->sha256, hex, e);
    return true;
}

bool plan_read_tenant(const plan_text *pt, size_t k, const char *name, size_t hint,
                      size_t *from, const char **text, size_t *len, rerr *e)
{
    if (!pt->text || k >= pt->nindex || pt->index[k].at < 1 ||
        pt->index[k].at + pt->index[k].len > pt->len - pt->tenants_at)
        return rerr_set(e, DIAG_PLAN_SHAPE, "tenant_index[%zu]: no such bucket in the plan", k);
    size_t bl = pt->index[k].len;
    const char *b0 = pt->text + pt->tenants_at + pt->index[k].at, *end = b0 + bl;
    /* Found by its first bytes: {"name":"NAME","rules": opens a tenant and
     * nothing else, since the canonical text escapes every quote inside a
     * string and no other object has "name" and "rules" as its first keys. */
    char needle[PLAN_NAME_MAX + 32];
    int nl = snprintf(needle, sizeof needle, "{\"name\":\"%s\",\"rules\":", name);
    for (int pass = 0; pass < 2 && nl > 0 && (size_t)nl < sizeof needle; pass++) {
        const char *s0 = pass || *from > (size_t)bl ? b0 : b0 + *from;
        const char *hit = memmem(s0, (size_t)(end - s0), needle, (size_t)nl);
        const char *hit_end = hit && (hit == b0 || hit[-1] == ',') ? skip_value(hit, end) : NULL;
        if (hit_end && (hit_end == end || *hit_end == ',')) {
            *text = hit;
            *len = (size_t)(hit_end - hit);
            *from = (size_t)(hit_end - b0);
            return true;
        }
    }
    /* At its place first, else anywhere in the bucket. */
    for (int pass = 0; pass < 2; pass++) {
        const char *q = b0;
        for (size_t got = 0; q < end; got++) {
            const char *qe = skip_value(q, end);
            if (!qe || (qe < end && *qe != ','))
                return rerr_set(e, DIAG_PLAN_PARSE, "tenant_index[%zu]: a tenant of the bucket "
                                "is not valid JSON", k);
            if ((pass || got == hint) && names(q, qe, name)) {
                *text = q;
                *len = (size_t)(qe - q);
                return true;
            }
            if (!pass && got == hint)
                break;
            q = qe + 1;
        }
    }
    return rerr_set(e, DIAG_PLAN_DIGEST, "tenant_index[%zu]: tenant \"%s\" is not in this "
                    "bucket, where the deploy record put it: the plan was modified after it was "
                    "compiled", k, name);
}

/* The plan's digest over its text as it lies, when the file is the
 * canonical text: the bytes of the object less its "plan_digest" and
 * "tenants" members are what the canonical JSON of the plan less those
 * members is.  True only when that digest is have (the one the file
 * claims): otherwise (a head that is not canonical, or modified) the
 * digest is computed from the tree, which the text may not be.  Writing
 * the 200 KB head out again was a tenth of a one-tenant re-apply at
 * 100 000 tenants. */
static bool head_digest(const char *text, size_t len, const head_spans *h, const char *ve,
                        const char *have, char out[DIGEST_HEX_LEN + 1])
{
    static const char pk[] = ",\"plan_digest\":", tk[] = ",\"tenants\":";
    size_t pl = sizeof pk - 1, tl = sizeof tk - 1;
    const char *end = text + len;
    while (end > text && end[-1] == '\n')
        end--;
    if (!have[0] || !h->dg || !h->tenants || !ve || h->dg - text < (ptrdiff_t)pl ||
        h->tenants - h->dg_end < (ptrdiff_t)tl || memcmp(h->dg - pl, pk, pl) ||
        memcmp(h->tenants - tl, tk, tl) || ve > end || end - text < 2 || end[-1] != '}')
        return false;
    const void *part[3] = {text, h->dg_end, ve};
    size_t n[3] = {(size_t)(h->dg - pl - text), (size_t)(h->tenants - tl - h->dg_end),
                   (size_t)(end - ve)};
    return digest_sha256_parts_hex(part, n, 3, out) && !strcmp(out, have);
}

json_t *plan_load_streamed(const char *path, plan_bucket_fn bfn, plan_tenant_text_fn tfn,
                           plan_tenant_fn fn, void *ud, const char *want_digest, plan_text *keep,
                           rerr *e)
{
    if (keep)
        memset(keep, 0, sizeof *keep);
    size_t len = 0;
    bool mapped;
    char *text = map_capped(path, &len, &mapped, e);
    if (!text)
        return NULL;
    /* Only what comes before the tenants is read here: the digest the
     * file claims, the index, and where the tenants start. */
    head_spans h;
    bool canon = find_head(text, text + len, &h);
    char have[DIGEST_HEX_LEN + 1] = "";
    if (canon && h.dg && h.dg_end - h.dg == DIGEST_HEX_LEN + 2 && h.dg[0] == '"') {
        memcpy(have, h.dg + 1, DIGEST_HEX_LEN);
        have[DIGEST_HEX_LEN] = '\0';
    }
    if (want_digest && have[0] && strcmp(have, want_digest)) {
        release_text(text, len, mapped);
        rerr_set(e, DIAG_PLAN_SIGNATURE, "%s: the signature is for plan %.16s..., but this plan "
                 "is %.16s...: it was changed (and sealed again) after it was signed", path,
                 want_digest, have);
        return NULL;
    }
    /* The index is parsed once, as strictly as the rest (no duplicate
     * key, no real number): the rest is parsed with [] in its place and
     * it is put back, instead of a second parse of its 90 KB at 100 000
     * tenants.  It comes before the tenants (canonical key order). */
    plan_bucket *ix = NULL;
    size_t nix = 0;
    if (canon && h.index && h.tenants && *h.tenants == '[' && h.index_end < h.tenants) {
        ix = index_canonical(h.index, h.index_end, &nix);
        if (!ix) {
            json_t *index = json_loadb(h.index, (size_t)(h.index_end - h.index),
                                       JSON_REJECT_DUPLICATES, NULL);
            ix = index_of_tree(index, &nix);
            json_decref(index);
        }
    }
    const char *vs = h.tenants, *ve = NULL;
    if (!ix || !buckets_located(ix, nix, vs, text + len, &ve)) {
        free(ix);
        /* Not the canonical text: the whole tree, then the same calls. */
        release_text(text, len, mapped);
        json_t *p = plan_load(path, e);
        if (!p)
            return NULL;
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(p, "tenants"), i, t)
            if (!fn(ud, p, t, i, json_array_size(json_object_get(p, "tenants")), e)) {
                rerr_prefix(e, "%s", path);
                json_decref(p);
                return NULL;
            }
        json_object_set_new(p, "tenants", json_array());
        return p;
    }
    /* The rest of the plan, with [] for tenants and for the index, as one
     * small tree: its digest is the plan's (the index stands for the
     * tenants). */
    /* The library's source is read apart too, when it is plain (it is as
     * rlc writes it): "" stands in its place. */
    const char *src = NULL, *src_end = NULL;
    char *source = NULL;
    size_t source_len = 0;
    if (h.lib && h.lib_end <= h.index &&
        member_span(h.lib, h.lib_end, "source\"", &src, &src_end))
        source = ascii_string(src, src_end, &source_len);
    if (!source)
        src = src_end = h.index;
    size_t ia = (size_t)(src - text), ib = (size_t)(h.index - src_end),
           ic = (size_t)(vs - h.index_end);
    size_t rl = ia + (source ? 2 : 0) + ib + 2 + ic + 2 + (size_t)(text + len - ve);
    char *rest = xmalloc(rl + 1), *w = rest;
    w = (char *)memcpy(w, text, ia) + ia;
    if (source)
        w = (char *)memcpy(w, "\"\"", 2) + 2;
    w = (char *)memcpy(w, src_end, ib) + ib;
    w = (char *)memcpy(w, "[]", 2) + 2;
    w = (char *)memcpy(w, h.index_end, ic) + ic;
    w = (char *)memcpy(w, "[]", 2) + 2;
    memcpy(w, ve, (size_t)(text + len - ve));
    json_t *p = plan_parse_text(rest, rl, e);
    free(rest);
    json_t *plib = p ? json_object_get(p, "library") : NULL;
    if (source && json_is_string(json_object_get(plib, "source")))
        json_object_set_new(plib, "source", json_stringn_nocheck(source, source_len));
    free(source);
    char dg[DIGEST_HEX_LEN + 1];
    bool ok = p != NULL;
    /* The tree holds [] for the index (the buckets are read apart); a
     * digest computed from the tree (a head not as rlc writes it) needs it
     * there. */
    if (ok && !head_digest(text, len, &h, ve, have, dg)) {
        json_object_set_new(p, "tenant_index", index_tree(ix, nix));
        ok = plan_digest_compute(p, dg) || rerr_set(e, DIAG_PLAN_SHAPE, "plan is not an object");
    }
    ok = ok && verify_rest(p, dg, e) && index_covers_c(ix, nix, e);
    /* Each bucket is checked against its digest just before its tenants
     * are handed over: a modified tenant is refused before any of it is
     * used. */
    size_t total = 0, first = 0;
    uint32_t **cuts = NULL;
    for (size_t k = 0; k < nix; k++)
        total += ix[k].n;
    for (size_t k = 0; ok && k < nix; k++) {
        const char *bt = vs + ix[k].at;
        size_t bl = ix[k].len, n = ix[k].n;
        const char *want = ix[k].sha256;
        int took = bfn ? bfn(ud, p, k, want, n, first, total, e) : 0;
        if (took == 1 || took < 0) {
            ok = took > 0;
            first += n;
            continue;
        }
        char hex[DIGEST_HEX_LEN + 1];
        if (!bucket_framed(bt, bl))
            ok = bucket_misplaced(k, e);
        else if (took != 2 && (!plan_bucket_digest(bt, bl, hex) || strcmp(hex, want)))
            ok = bucket_modified(k, first, n, want, hex, e);
        else {
            if (took == 2 && !cuts)
                cuts = xcalloc(nix + 1, sizeof *cuts);
            int fast = took == 2 ? hand_over_fast(p, bt, bl, first, n, total, tfn, fn, ud,
                                                  &cuts[k], e)
                                 : 0;
            ok = fast ? fast > 0 : hand_over(p, bt, bl, first, n, total, tfn, fn, ud, e);
        }
        first += n;
    }
    if (ok && keep) {
        keep->text = text;
        keep->len = len;
        keep->mapped = mapped;
        keep->tenants_at = (size_t)(vs - text);
        keep->index = ix;
        keep->nindex = nix;
        keep->cuts = cuts;
    } else {
        release_text(text, len, mapped);
        for (size_t k = 0; cuts && k < nix; k++)
            free(cuts[k]);
        free(cuts);
        free(ix);
    }
    if (!ok) {
        rerr_prefix(e, "%s", path);
        json_decref(p);
        return NULL;
    }
    return p;
}
