/* rules.c - plan JSON -> rl_ruleset (see rules.h).  Validation here is the
 * runtime's own: a plan file may come from anywhere, so every number is
 * range-checked again before the arithmetic of algo.c relies on it. */
#include "rules.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "plan_key.h"
#include "xalloc.h"

static bool fail(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    str_mark_cut(err, n, vsnprintf(err, n, fmt, ap));
    va_end(ap);
    return false;
}

static bool get_int(const json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out,
                    const char *where, char *err, size_t n)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return fail(err, n, "%s: \"%s\" must be an integer", where, k);
    int64_t i = (int64_t)json_integer_value(v);
    if (i < lo || i > hi)
        return fail(err, n, "%s: \"%s\" = %lld is out of range [%lld, %lld]", where, k,
                    (long long)i, (long long)lo, (long long)hi);
    *out = i;
    return true;
}

static const char *get_str(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool split_route(arena *a, rl_rule *r)
{
    /* "/v1/STAR/items" -> {"v1", "*", "items"}; empty segments are dropped.
     * One copy of the route, cut in place at each '/'. */
    size_t len = strlen(r->route), n = 1;
    for (const char *c = r->route; *c; c++)
        if (*c == '/')
            n++;
    const char **segs = arena_alloc(a, (n + 1) * sizeof *segs);
    char *copy = arena_strndup(a, r->route, len);
    size_t k = 0;
    char *p = copy;
    while (*p) {
        while (*p == '/')
            *p++ = '\0';
        if (!*p)
            break;
        segs[k++] = p;
        while (*p && *p != '/')
            p++;
    }
    r->segs = segs;
    r->nsegs = k;
    return true;
}

/* ---- what a rule may hold, decided once for both readers ----
 *
 * The tree reader (read_rule) and the text reader (sc_rule, below) each
 * take a rule apart their own way, for speed; whether it is a rule the
 * runtime takes is decided here only, so the two cannot drift apart.  The
 * tree reader reports what is wrong; the text reader only needs to know
 * that something is, and hands the tenant to the tree reader for the
 * message. */

/* The lower-case hex digits. */
static const unsigned char hex_digit[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

/* A rule id: exactly PLAN_RULE_ID_LEN lower-case hex digits.  Without a
 * branch per digit: whether a random hex digit is a letter is a coin
 * toss the branch predictor loses half the time, 16 times a rule. */
static bool id_ok(const char *s, size_t n)
{
    if (n != PLAN_RULE_ID_LEN)
        return false;
    unsigned ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= hex_digit[(unsigned char)s[i]];
    return ok;
}

/* A rule's "subject", [s, s + n): the subjects below the tenant as
 * "group:g/key:k" (SPEC.md 5.5), each "kind:NAME" with kind group or key
 * and a name of 1 to PLAN_NAME_MAX bytes encoded as plan_subject_seg does
 * ('%' only as %25 or %2F), or "kind*" for a template.  Fills r's subject
 * (a copy in a), depth and the template bits below the tenant; false when
 * the text is not of that form or holds more than PLAN_DEPTH_MAX levels. */
static bool subject_parse(arena *a, const char *s, size_t n, rl_rule *r)
{
    if (!n || memchr(s, '\0', n))
        return false;
    int depth = 1;
    const char *p = s, *end = s + n;
    while (p < end) {
        if (++depth > PLAN_DEPTH_MAX)
            return false;
        if ((size_t)(end - p) >= 5 && !memcmp(p, "group", 5))
            p += 5;
        else if ((size_t)(end - p) >= 3 && !memcmp(p, "key", 3))
            p += 3;
        else
            return false;
        if (p < end && *p == '*') {
            r->any_mask |= 1u << (depth - 1);
            p++;
        } else if (p < end && *p == ':') {
            size_t len = 0;
            for (p++; p < end && *p != '/'; p++, len++)
                if (*p == '%') {
                    if (end - p < 3 || p[1] != '2' || (p[2] != '5' && p[2] != 'F'))
                        return false;
                    p += 2;
                }
            if (!len || len > PLAN_NAME_MAX)
                return false;
        } else {
            return false;
        }
        if (p < end && (*p != '/' || ++p == end))
            return false;
    }
    r->subject = arena_strndup(a, s, n);
    r->depth = depth;
    return true;
}

/* The numbers of a rule, each in [1, max], in the order they are checked. */
typedef struct num_field {
    const char *name;
    size_t off;
    int64_t max;
} num_field;
static const num_field rate_nums[] = {
    {"count", offsetof(rl_rule, count), PLAN_PRODUCT_MAX},
    {"window_ms", offsetof(rl_rule, window_ms), PLAN_WINDOW_MAX_MS},
    {"burst", offsetof(rl_rule, burst), PLAN_PRODUCT_MAX},
    {"cost", offsetof(rl_rule, cost), PLAN_PRODUCT_MAX},
};
static const num_field conc_nums[] = {
    {"max", offsetof(rl_rule, max), PLAN_PRODUCT_MAX},
    {"lease_ms", offsetof(rl_rule, lease_ms), PLAN_LEASE_MAX_MS},
};
#define NNUMS(a) (sizeof(a) / sizeof((a)[0]))

static int64_t *num_at(rl_rule *r, const num_field *f) { return (int64_t *)((char *)r + f->off); }

static bool num_ok(const num_field *f, int64_t v, const char *where, char *err, size_t n)
{
    if (v >= 1 && v <= f->max)
        return true;
    return fail(err, n, "%s: \"%s\" = %lld is out of range [%lld, %lld]", where, f->name,
                (long long)v, 1LL, (long long)f->max);
}

/* Each number of r's kind in range, then what they must satisfy together
 * (SPEC.md 6.4); fills in what follows from them. */
static bool numbers_ok(rl_rule *r, const char *where, char *err, size_t n)
{
    if (r->kind == PLAN_CONCURRENCY) {
        for (size_t i = 0; i < NNUMS(conc_nums); i++)
            if (!num_ok(&conc_nums[i], *num_at(r, &conc_nums[i]), where, err, n))
                return false;
        r->count = r->window_ms = r->burst = r->max_request = 0;
        r->cost = 1;
        return true;
    }
    for (size_t i = 0; i < NNUMS(rate_nums); i++)
        if (!num_ok(&rate_nums[i], *num_at(r, &rate_nums[i]), where, err, n))
            return false;
    int64_t big = r->count > r->burst ? r->count : r->burst;
    if (big > PLAN_PRODUCT_MAX / r->window_ms)
        return fail(err, n,
                    "%s: %lld x %lld ms exceeds 2^51, the range in which the decision "
                    "arithmetic is exact in both C and Lua",
                    where, (long long)big, (long long)r->window_ms);
    int64_t entries = plan_log_entries(r->count, r->window_ms, r->cost);
    if (r->kind == PLAN_SLIDING_WINDOW && entries > PLAN_LOG_MAX)
        return fail(err, n,
                    "%s: an exact sliding window of %lld/%lld ms cost %lld keeps up to %lld "
                    "log entries, more than %lld",
                    where, (long long)r->count, (long long)r->window_ms, (long long)r->cost,
                    (long long)entries, (long long)PLAN_LOG_MAX);
    if (r->cost > PLAN_PRODUCT_MAX / r->window_ms)
        return fail(err, n, "%s: cost %lld x %lld ms exceeds 2^51", where, (long long)r->cost,
                    (long long)r->window_ms);
    r->max = r->lease_ms = 0;
    r->max_request = (plan_kind_has_burst(r->kind) ? r->burst : r->count) / r->cost;
    return true;
}

/* Reads number f of a rule object into r: an integer, in range. */
static bool get_num(const json_t *o, const num_field *f, rl_rule *r, const char *where,
                    char *err, size_t n)
{
    const json_t *v = json_object_get(o, f->name);
    if (!json_is_integer(v))
        return fail(err, n, "%s: \"%s\" must be an integer", where, f->name);
    *num_at(r, f) = (int64_t)json_integer_value(v);
    return num_ok(f, *num_at(r, f), where, err, n);
}

static bool read_rule(arena *a, const json_t *j, const char *tenant, rl_rule *r, char *err,
                      size_t n)
{
    char where[160];
    const char *id = get_str(j, "id");
    if (tenant)
        snprintf(where, sizeof where, "tenant \"%s\" rule %s", tenant, id ? id : "?");
    else
        snprintf(where, sizeof where, "tenant_template rule %s", id ? id : "?");
    r->any_mask = 0;
    if (!id || !id_ok(id, strlen(id)))
        return fail(err, n, "%s: \"id\" must be %d lower-case hex digits", where,
                    PLAN_RULE_ID_LEN);
    memcpy(r->id, id, PLAN_RULE_ID_LEN + 1);

    /* A format 2 rule's path would otherwise read as a limit of the tenant
     * itself. */
    if (json_object_get(j, "path"))
        return fail(err, n, "%s: \"path\" is not a field of a rule since format 3: a rule "
                    "names its subject with \"subject\"", where);
    /* `tenant *`'s rules start at a template tenant. */
    if (!tenant)
        r->any_mask |= 1;
    const json_t *subj = json_object_get(j, "subject");
    if (!subj) {
        r->subject = "";
        r->depth = 1;
    } else if (!json_is_string(subj) ||
               !subject_parse(a, json_string_value(subj), json_string_length(subj), r)) {
        return fail(err, n, "%s: \"subject\" must be up to %d of group:NAME, key:NAME, group* "
                    "or key* joined by '/', each NAME 1 to %d bytes with '%%' and '/' as "
                    "%%25 and %%2F", where, PLAN_DEPTH_MAX - 1, PLAN_NAME_MAX);
    }

    const json_t *route = json_object_get(j, "route");
    if (json_is_object(route)) {
        const char *m = get_str(route, "method"), *p = get_str(route, "path");
        if (!m || !p)
            return fail(err, n, "%s: \"route\" needs a method and a path", where);
        if (!plan_method_ok(m))
            return fail(err, n, "%s: route method '%.32s' is not one of GET HEAD POST PUT "
                        "PATCH DELETE OPTIONS ANY", where, m);
        const char *why = plan_route_problem(p);
        if (why)
            return fail(err, n, "%s: %s", where, why);
        r->method = arena_strdup(a, m);
        r->route = arena_strdup(a, p);
        split_route(a, r);
    } else if (route && !json_is_null(route)) {
        return fail(err, n, "%s: \"route\" must be null or an object", where);
    }

    const json_t *sh = json_object_get(j, "shadow");
    if (sh && !json_is_boolean(sh))
        return fail(err, n, "%s: \"shadow\" must be true or false", where);
    r->shadow = json_is_true(sh);

    const char *kind = get_str(j, "kind");
    const num_field *nums = rate_nums;
    size_t nnums = NNUMS(rate_nums);
    if (kind && !strcmp(kind, "concurrency")) {
        r->kind = PLAN_CONCURRENCY;
        nums = conc_nums;
        nnums = NNUMS(conc_nums);
    } else if (json_object_get(j, "kind") && (!kind || strcmp(kind, "rate") != 0)) {
        return fail(err, n, "%s: \"kind\" must be \"rate\" or \"concurrency\" (none: rate)",
                    where);
    } else {
        /* Left out: the language's default (SPEC.md 5.5). */
        const char *algo = json_object_get(j, "algorithm") ? get_str(j, "algorithm")
                                                           : "token_bucket";
        if (!algo || !plan_algo_parse(algo, strlen(algo), &r->kind))
            return fail(err, n, "%s: unknown \"algorithm\" %s%s%s", where, algo ? "\"" : "",
                        algo ? algo : "(missing)", algo ? "\"" : "");
    }
    for (size_t i = 0; i < nnums; i++) {
        /* Left out at its default (SPEC.md 5.5): burst is count, cost 1. */
        if (nums == rate_nums && !json_object_get(j, nums[i].name) &&
            (!strcmp(nums[i].name, "burst") || !strcmp(nums[i].name, "cost"))) {
            *num_at(r, &nums[i]) = !strcmp(nums[i].name, "cost") ? 1 : r->count;
            continue;
        }
        if (!get_num(j, &nums[i], r, where, err, n))
            return false;
    }
    return numbers_ok(r, where, err, n);
}

static int rule_order(const void *pa, const void *pb)
{
    const rl_rule *a = pa, *b = pb;
    if (a->depth != b->depth)
        return a->depth < b->depth ? -1 : 1;
    int c = strcmp(a->subject, b->subject);
    return c ? c : strcmp(a->id, b->id);
}

/* A tenant's rules into evaluation order: by insertion for the dozen or
 * so a tenant has (the plan writes them in id order, often already in
 * this one, and qsort's merge sort costs a copy and a call per comparison
 * for each of 100 000 tenants), by qsort beyond. */
static void sort_rules(rl_rule *v, size_t n)
{
    if (n > 32) {
        qsort(v, n, sizeof *v, rule_order);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        if (rule_order(&v[i - 1], &v[i]) <= 0)
            continue;
        rl_rule x = v[i];
        size_t j = i;
        while (j > 0 && rule_order(&v[j - 1], &x) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static int tenant_order(const void *a, const void *b)
{
    return strcmp(((const rl_tenant *)a)->name, ((const rl_tenant *)b)->name);
}

bool rules_begin(const json_t *plan, size_t ntenants, rl_ruleset *out, char *err,
                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    const json_t *pol = json_object_get(plan, "policy");
    if (!json_is_object(pol))
        return fail(err, errlen, "plan has no \"policy\" object");
    rl_ruleset rs = {.a = arena_new()};
    const char *ns = get_str(pol, "namespace");
    const char *ts = get_str(pol, "time_source");
    const char *se = get_str(pol, "on_store_error");
    const char *name = get_str(pol, "name");
    if (!ns || !plan_namespace_ok(ns)) {
        fail(err, errlen, "policy: \"namespace\" must be 1 to %d of [A-Za-z0-9_.-]",
             PLAN_NS_MAX);
        goto fail;
    }
    if (!ts || (strcmp(ts, "server") && strcmp(ts, "client"))) {
        fail(err, errlen, "policy: \"time_source\" must be \"server\" or \"client\"");
        goto fail;
    }
    if (se && strcmp(se, "fail_open") && strcmp(se, "fail_closed")) {
        fail(err, errlen, "policy: \"on_store_error\" must be \"fail_open\" or \"fail_closed\"");
        goto fail;
    }
    if (!get_int(pol, "max_clock_skew_ms", 0, PLAN_SKEW_MAX_MS, &rs.skew_ms, "policy", err,
                 errlen))
        goto fail;
    rs.ns = arena_strdup(rs.a, ns);
    rs.policy = arena_strdup(rs.a, name ? name : "");
    rs.client_time = !strcmp(ts, "client");
    rs.fail_closed = se && !strcmp(se, "fail_closed");
    /* Outside the arena, whose blocks are made ready whole, and outside
     * the heap: a deploy that leaves most buckets out of its rules (SPEC.md
     * 7.7) fills only a few entries of a 100 000-tenant array, and its
     * other pages are never touched. */
    rs.tenants = xmap_zeroed(ntenants + 1, sizeof *rs.tenants);
    rs.ntenants = 0;
    *out = rs;
    return true;
fail:
    arena_free(rs.a);
    return false;
}

/* Sorts a tenant's rules into evaluation order, refuses a repeated id, and
 * counts the tenant in. */
static bool tenant_done(rl_ruleset *rs, rl_tenant *ten, char *err, size_t errlen)
{
    /* The compiler refuses such a name (RLC1044); a plan from elsewhere is
     * held to the same limit before any key is built from it. */
    /* A byte of the name takes at most three in the key (percent-encoded):
     * a name short enough for that bound needs no count (100 000 names of
     * a re-apply's record). */
    size_t nl = strlen(ten->name);
    if (3 + strlen(rs->ns) + 3 * nl + PLAN_KEY_SUFFIX_MAX > PLAN_KEY_MAX) {
        size_t kl = plan_key_longest(rs->ns, ten->name);
        if (kl > PLAN_KEY_MAX)
            return fail(err, errlen, "a tenant name of %zu bytes makes a %zu-byte store key; "
                        "the limit is %d bytes", nl, kl, PLAN_KEY_MAX);
    }
    if (ten->nrules > 1)
        sort_rules(ten->rules, ten->nrules);
    for (size_t i = 1; i < ten->nrules; i++)
        if (!strcmp(ten->rules[i].id, ten->rules[i - 1].id))
            return fail(err, errlen, "tenant \"%s\": rule id %s appears twice", ten->name,
                        ten->rules[i].id);
    rs->ntenants++;
    return true;
}

/* The "version" and "rules" of tenant object tj into ten; tenant is its
 * name, NULL for `tenant *`. */
static bool read_rules(rl_ruleset *rs, rl_tenant *ten, const json_t *tj, const char *tenant,
                       char *err, size_t errlen)
{
    const json_t *rj = json_object_get(tj, "rules");
    const char *ver = get_str(tj, "version");
    ten->version = ver ? arena_strdup(rs->a, ver) : NULL;
    ten->nrules = json_array_size(rj);
    ten->rules = arena_alloc(rs->a, (ten->nrules + 1) * sizeof *ten->rules);
    for (size_t i = 0; i < ten->nrules; i++)
        if (!read_rule(rs->a, json_array_get(rj, i), tenant, &ten->rules[i], err, errlen))
            return false;
    return true;
}

bool rules_add_tenant(rl_ruleset *rs, const json_t *tj, char *err, size_t errlen)
{
    size_t t = rs->ntenants;
    const char *tn = get_str(tj, "name");
    const json_t *rj = json_object_get(tj, "rules");
    if (!tn || !*tn || !json_is_array(rj))
        return fail(err, errlen, "tenants[%zu]: needs a \"name\" and a \"rules\" array", t);
    if (strlen(tn) > PLAN_NAME_MAX)
        return fail(err, errlen, "tenants[%zu]: \"name\" is %zu bytes long; names are at most %d",
                    t, strlen(tn), PLAN_NAME_MAX);
    rl_tenant *ten = &rs->tenants[t];
    ten->name = arena_strdup(rs->a, tn);
    if (!read_rules(rs, ten, tj, tn, err, errlen))
        return false;
    return tenant_done(rs, ten, err, errlen);
}

/* ---- the canonical text of a tenant, read directly ----
 *
 * A plan's tenants are nearly all of it, and going through a jansson tree
 * per tenant costs more than everything else a load does.  This reader
 * takes only the canonical form the compiler writes (SPEC.md 5.2: keys in
 * byte order, no whitespace, integers only, strings without escapes) and
 * the fields it knows; anything else (an escaped name, an extra field, an
 * out-of-range number, a missing field) is handed back as RULES_TEXT_OTHER
 * so the caller reads that tenant through jansson, whose path gives every
 * error its message.  So the two paths accept the same tenants and build
 * the same rules. */

typedef struct scan {
    const char *p, *end;
} scan;

static inline bool sc_lit(scan *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    return true;
}
#define SC_LIT(s, lit) sc_lit((s), (lit), sizeof(lit) - 1)

/* Bytes that end a string this reader takes: the closing quote, and what
 * only an escaped or non-canonical string holds (a backslash, a control
 * character).  One lookup per byte: a plan's tenants are about 100 MB of
 * short strings at 100 000 tenants. */
static const unsigned char str_stop[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* A string without escapes or control characters: [*v, *v + *n). */
static bool sc_str(scan *s, const char **v, size_t *n)
{
    if (s->p >= s->end || *s->p != '"')
        return false;
    const char *b = s->p + 1, *q = b, *end = s->end;
    while (q < end && !str_stop[(unsigned char)*q])
        q++;
    if (q >= end || *q != '"')
        return false;
    *v = b;
    *n = (size_t)(q - b);
    s->p = q + 1;
    return true;
}

/* A non-negative integer in canonical form (no leading zero, no fraction or
 * exponent), at most 18 digits. */
static bool sc_int(scan *s, int64_t *out)
{
    const char *b = s->p;
    int64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && s->p - b < 18)
        v = v * 10 + (*s->p++ - '0');
    size_t n = (size_t)(s->p - b);
    if (!n || (n > 1 && *b == '0'))
        return false;
    if (s->p < s->end && ((*s->p >= '0' && *s->p <= '9') || *s->p == '.' || *s->p == 'e' ||
                          *s->p == 'E'))
        return false;
    *out = v;
    return true;
}

static bool key_is(const char *k, size_t kn, const char *want)
{
    return strlen(want) == kn && !memcmp(k, want, kn);
}

static bool sc_route(scan *s, arena *a, rl_rule *r)
{
    if (SC_LIT(s, "null"))
        return true;
    const char *m, *p;
    size_t ml, pl;
    if (!SC_LIT(s, "{\"method\":") || !sc_str(s, &m, &ml) || !SC_LIT(s, ",\"path\":") ||
        !sc_str(s, &p, &pl) || !SC_LIT(s, "}") || !ml || !pl || p[0] != '/')
        return false;
    r->method = arena_strndup(a, m, ml);
    r->route = arena_strndup(a, p, pl);
    if (!plan_method_ok(r->method) || plan_route_problem(r->route))
        return false;
    return split_route(a, r);
}

enum {
    F_ALGO = 1 << 0, F_BURST = 1 << 1, F_COST = 1 << 2, F_COUNT = 1 << 3, F_ID = 1 << 4,
    F_KIND = 1 << 5, F_LEASE = 1 << 6, F_MAX = 1 << 7, F_SUBJECT = 1 << 8, F_ROUTE = 1 << 9,
    F_SHADOW = 1 << 10, F_WINDOW = 1 << 11,
};

/* The members a rule may have, in byte order, which is the order the
 * canonical text writes them in: a key is found by its first letter and one
 * comparison of a constant length, and its index must grow from member to
 * member (so keys are in canonical order and none repeats), instead of
 * reading each key as a string and comparing it with every name. */
enum {
    K_ALGO, K_BURST, K_COST, K_COUNT, K_ID, K_KIND, K_LEASE, K_MAX, K_ROUTE, K_SHADOW,
    K_SUBJECT, K_WINDOW,
};

/* The next member's key (with its ':'), consumed: its K_ index, or -1 for
 * any other key. */
static int sc_rule_key(scan *s)
{
    if (s->end - s->p < 4 || *s->p != '"')
        return -1;
#define KEY(lit, k) return SC_LIT(s, lit) ? (k) : -1
    switch (s->p[1]) {
    case 'a': KEY("\"algorithm\":", K_ALGO);
    case 'b': KEY("\"burst\":", K_BURST);
    case 'c':
        if (s->p[3] == 's')
            KEY("\"cost\":", K_COST);
        KEY("\"count\":", K_COUNT);
    case 'i': KEY("\"id\":", K_ID);
    case 'k': KEY("\"kind\":", K_KIND);
    case 'l': KEY("\"lease_ms\":", K_LEASE);
    case 'm': KEY("\"max\":", K_MAX);
    case 'r': KEY("\"route\":", K_ROUTE);
    case 's':
        if (s->p[2] == 'h')
            KEY("\"shadow\":", K_SHADOW);
        KEY("\"subject\":", K_SUBJECT);
    case 'w': KEY("\"window_ms\":", K_WINDOW);
    default: return -1;
    }
#undef KEY
}

static bool sc_rule(scan *s, arena *a, rl_rule *r)
{
    static const rl_rule zero;
    *r = zero;
    if (!SC_LIT(s, "{"))
        return false;
    const char *v;
    size_t vl;
    int prev = -1;
    unsigned have = 0;
    const char *algo = NULL, *kind = NULL;
    size_t algol = 0, kindl = 0;
    do {
        int k = sc_rule_key(s);
        if (k <= prev)
            return false;
        prev = k;
        switch (k) {
        case K_ALGO:
            if (!sc_str(s, &algo, &algol))
                return false;
            have |= F_ALGO;
            break;
        case K_BURST:
            if (!sc_int(s, &r->burst))
                return false;
            have |= F_BURST;
            break;
        case K_COST:
            if (!sc_int(s, &r->cost))
                return false;
            have |= F_COST;
            break;
        case K_COUNT:
            if (!sc_int(s, &r->count))
                return false;
            have |= F_COUNT;
            break;
        case K_ID:
            if (!sc_str(s, &v, &vl) || !id_ok(v, vl))
                return false;
            memcpy(r->id, v, PLAN_RULE_ID_LEN);
            r->id[PLAN_RULE_ID_LEN] = '\0';
            have |= F_ID;
            break;
        case K_KIND:
            if (!sc_str(s, &kind, &kindl))
                return false;
            have |= F_KIND;
            break;
        case K_LEASE:
            if (!sc_int(s, &r->lease_ms))
                return false;
            have |= F_LEASE;
            break;
        case K_MAX:
            if (!sc_int(s, &r->max))
                return false;
            have |= F_MAX;
            break;
        case K_ROUTE:
            if (!sc_route(s, a, r))
                return false;
            have |= F_ROUTE;
            break;
        case K_SHADOW:
            if (SC_LIT(s, "true"))
                r->shadow = true;
            else if (!SC_LIT(s, "false"))
                return false;
            have |= F_SHADOW;
            break;
        case K_SUBJECT:
            if (!sc_str(s, &v, &vl) || !subject_parse(a, v, vl, r))
                return false;
            have |= F_SUBJECT;
            break;
        case K_WINDOW:
            if (!sc_int(s, &r->window_ms))
                return false;
            have |= F_WINDOW;
            break;
        default:
            return false;
        }
    } while (SC_LIT(s, ","));
    if (!SC_LIT(s, "}"))
        return false;
    if (!(have & F_ID))
        return false;
    if (!(have & F_SUBJECT)) {
        r->subject = "";
        r->depth = 1;
    }
    if (key_is(kind, kindl, "concurrency")) {
        if ((have & (F_MAX | F_LEASE)) != (F_MAX | F_LEASE))
            return false;
        r->kind = PLAN_CONCURRENCY;
    } else {
        unsigned rate = F_COUNT | F_WINDOW;
        if (((have & F_KIND) && !key_is(kind, kindl, "rate")) || (have & rate) != rate)
            return false;
        /* Left out at their defaults (SPEC.md 5.5). */
        if (!(have & F_ALGO))
            r->kind = PLAN_TOKEN_BUCKET;
        else if (!plan_algo_parse(algo, algol, &r->kind))
            return false;
        if (!(have & F_BURST))
            r->burst = r->count;
        if (!(have & F_COST))
            r->cost = 1;
    }
    char scratch[8];   /* the tree reader says what is wrong */
    return numbers_ok(r, "", scratch, sizeof scratch);
}

/* The tenant object {"name","rules","tag","version"} into ten; false when
 * it is not in the form this reader takes.  The tenant's strings are the
 * ruleset's; what a false leaves in the arena is garbage until rules_free. */
/* check_version: whether to hash the rules for version_ok (false when the
 * caller checked it already: version_ok is then left false). */
static bool sc_tenant(scan *s, arena *a, rl_tenant *ten, bool check_version)
{
    const char *name, *tag, *ver;
    size_t nl, tl, vl;
    if (!SC_LIT(s, "{\"name\":") || !sc_str(s, &name, &nl) || !nl || nl > PLAN_NAME_MAX ||
        !SC_LIT(s, ",\"rules\":["))
        return false;
    const char *rules0 = s->p - 1;   /* the rules array, for the version */
    ten->name = arena_strndup(a, name, nl);
    /* Count the rules: each starts with '{' right after '[' or "},". */
    size_t cap = 0;
    for (const char *q = s->p; q < s->end && *q != ']'; q++) {
        q = memchr(q, '{', (size_t)(s->end - q));
        if (!q)
            break;
        if (q[-1] == '[' && q - 1 == s->p - 1)
            cap++;
        else if (q[-1] == ',' && q[-2] == '}')
            cap++;
    }
    ten->rules = arena_alloc(a, (cap + 1) * sizeof *ten->rules);
    ten->nrules = 0;
    if (!SC_LIT(s, "]")) {
        do {
            if (ten->nrules >= cap)
                return false;
            if (!sc_rule(s, a, &ten->rules[ten->nrules]))
                return false;
            ten->nrules++;
        } while (SC_LIT(s, ","));
        if (!SC_LIT(s, "]"))
            return false;
    }
    const char *rules1 = s->p;
    if (!SC_LIT(s, ",\"tag\":") || !sc_str(s, &tag, &tl) || !SC_LIT(s, ",\"version\":") ||
        !sc_str(s, &ver, &vl) || !SC_LIT(s, "}") || s->p != s->end)
        return false;
    ten->version = arena_strndup(a, ver, vl);
    /* The version is the digest of exactly these rules (SPEC.md 5.5); a
     * deploy takes equal versions for equal rules, so a plan must not say
     * otherwise. */
    char hex[DIGEST_HEX_LEN + 1];
    ten->version_ok = check_version &&
                      digest_sha256_hex(rules0, (size_t)(rules1 - rules0), hex) &&
                      vl == DIGEST_HEX_LEN && !memcmp(hex, ver, vl);
    return true;
}

rules_text_result rules_add_tenant_text(rl_ruleset *rs, const char *text, size_t len,
                                        char *err, size_t errlen)
{
    scan s = {text, text + len};
    rl_tenant *ten = &rs->tenants[rs->ntenants];
    memset(ten, 0, sizeof *ten);
    bool ok = sc_tenant(&s, rs->a, ten, true);
    if (!ok) {
        memset(ten, 0, sizeof *ten);
        return RULES_TEXT_OTHER;
    }
    if (!ten->version_ok) {
        fail(err, errlen, "tenant \"%s\": \"version\" is not the SHA-256 of its rules",
             ten->name);
        return RULES_TEXT_ERROR;
    }
    ten->parsed = true;
    return tenant_done(rs, ten, err, errlen) ? RULES_TEXT_OK : RULES_TEXT_ERROR;
}

/* The parts of a tenant's canonical text
 * {"name":NAME,"rules":[...],"tag":TAG,"version":"<64 hex>"}: the name
 * from the front, the tag and version from the back (a tag without a
 * backslash holds no quote, so the quote before it opens it), and the
 * rules are what lies between; false when the text is not of that form
 * or its version is not the SHA-256 of its rules' text. */
typedef struct lazy_parts {
    const char *name, *ver;
    size_t nl;
} lazy_parts;

static bool lazy_split(const char *text, size_t len, lazy_parts *lp, bool hash)
{
    static const char vk[] = "\",\"version\":\"", tk[] = "],\"tag\":";
    scan s = {text, text + len};
    if (!SC_LIT(&s, "{\"name\":") || !sc_str(&s, &lp->name, &lp->nl) || !lp->nl ||
        lp->nl > PLAN_NAME_MAX || !SC_LIT(&s, ",\"rules\":["))
        return false;
    const char *rules0 = s.p - 1, *end = text + len;
    if ((size_t)(end - rules0) < 2 + DIGEST_HEX_LEN + sizeof vk + sizeof tk || end[-1] != '}' ||
        end[-2] != '"')
        return false;
    lp->ver = end - 2 - DIGEST_HEX_LEN;
    const char *vkp = lp->ver - (sizeof vk - 1);
    if (memcmp(vkp, vk, sizeof vk - 1))
        return false;
    const char *tq = vkp - 1;
    while (tq > rules0 && *tq != '"') {
        if (*tq == '\\')
            return false;
        tq--;
    }
    if ((size_t)(tq - rules0) < sizeof tk || memcmp(tq - (sizeof tk - 1), tk, sizeof tk - 1))
        return false;
    const char *rules1 = tq - (sizeof tk - 1) + 1;
    if (!hash)
        return true;
    char hex[DIGEST_HEX_LEN + 1];
    return digest_sha256_hex(rules0, (size_t)(rules1 - rules0), hex) &&
           !memcmp(hex, lp->ver, DIGEST_HEX_LEN);
}

static rules_text_result add_lazy(rl_ruleset *rs, const char *text, size_t len, bool check,
                                  char *err, size_t errlen)
{
    /* A version that is not the rules' digest is refused by the readers
     * that read the rules, which name what else is wrong first. */
    lazy_parts lp;
    if (!lazy_split(text, len, &lp, check))
        return RULES_TEXT_OTHER;
    rl_tenant *ten = &rs->tenants[rs->ntenants];
    memset(ten, 0, sizeof *ten);
    ten->name = arena_strndup(rs->a, lp.name, lp.nl);
    ten->version = arena_strndup(rs->a, lp.ver, DIGEST_HEX_LEN);
    ten->version_ok = check;
    ten->unchecked = !check;
    ten->canonical = true;
    ten->rules = arena_alloc(rs->a, sizeof *ten->rules);
    ten->text = text;
    ten->text_len = len;
    /* tenant_done's checks that need no rules; the rest come with them. */
    return tenant_done(rs, ten, err, errlen) ? RULES_TEXT_OK : RULES_TEXT_ERROR;
}

rules_text_result rules_add_tenant_lazy(rl_ruleset *rs, const char *text, size_t len,
                                        char *err, size_t errlen)
{
    return add_lazy(rs, text, len, true, err, errlen);
}

rules_text_result rules_add_tenant_unchecked(rl_ruleset *rs, const char *text, size_t len,
                                             char *err, size_t errlen)
{
    return add_lazy(rs, text, len, false, err, errlen);
}

bool rules_tenant_check(rl_ruleset *rs, const rl_tenant *t, char *err, size_t errlen)
{
    (void)rs;
    rl_tenant *ten = (rl_tenant *)t;
    if (!ten->unchecked)
        return true;
    lazy_parts lp;
    if (ten->text && !lazy_split(ten->text, ten->text_len, &lp, true))
        return fail(err, errlen, "tenant \"%s\": \"version\" is not the SHA-256 of its rules",
                    ten->name);
    ten->version_ok = true;
    ten->unchecked = false;
    return true;
}

bool rules_add_tenant_known(rl_ruleset *rs, const char *name, const char *version,
                            size_t bucket, char *err, size_t errlen)
{
    rl_tenant *ten = &rs->tenants[rs->ntenants];
    memset(ten, 0, sizeof *ten);
    if (!*name || strlen(name) > PLAN_NAME_MAX || strlen(version) != DIGEST_HEX_LEN)
        return fail(err, errlen, "a deploy record names a tenant the plan cannot have");
    ten->name = name;
    ten->version = version;
    ten->version_ok = true;
    ten->canonical = true;
    ten->deferred = true;
    ten->bucket = bucket;
    if (!rs->no_rules)
        rs->no_rules = arena_alloc(rs->a, sizeof *rs->no_rules);
    ten->rules = rs->no_rules;
    return tenant_done(rs, ten, err, errlen);
}

bool rules_tenant_attach(rl_ruleset *rs, const rl_tenant *t, const char *text, size_t len,
                         char *err, size_t errlen)
{
    (void)rs;
    /* Only this tenant's bytes are read, not its bucket's: its rules must
     * hash to the version the record vouched for, which is what makes
     * them the rules the record was made from. */
    lazy_parts lp;
    if (!lazy_split(text, len, &lp, true))
        return fail(err, errlen, "tenant \"%s\": its text in the plan is not in the form rlc "
                    "compile writes, or its rules do not hash to its version", t->name);
    if (lp.nl != strlen(t->name) || memcmp(lp.name, t->name, lp.nl) ||
        memcmp(t->version, lp.ver, DIGEST_HEX_LEN))
        return fail(err, errlen, "tenant \"%s\" of the plan is not the one the deploy record "
                    "vouched for", t->name);
    rl_tenant *ten = (rl_tenant *)t;
    ten->text = text;
    ten->text_len = len;
    ten->deferred = false;
    return true;
}

static bool tenant_load(rl_ruleset *rs, const rl_tenant *t, char *err, size_t errlen);

bool rules_tenant_load(rl_ruleset *rs, const rl_tenant *t, char *err, size_t errlen)
{
    if (tenant_load(rs, t, err, errlen))
        return true;
    rs->load_failed = true;
    return false;
}

/* A deferred tenant's bucket read, so that its text is there, and an
 * unchecked one's bucket checked, so that its text may be used. */
static bool fetched(rl_ruleset *rs, const rl_tenant *ten, char *err, size_t errlen)
{
    if (ten->unchecked) {
        if (!rs->check)
            return fail(err, errlen, "tenant \"%s\": its bucket of the plan cannot be checked",
                        ten->name);
        if (!rs->check(rs->fetch_ud, rs, ten, err, errlen))
            return false;
        if (ten->unchecked)
            return fail(err, errlen, "tenant \"%s\" is not in bucket %zu of the plan",
                        ten->name, ten->bucket);
    }
    if (!ten->deferred)
        return true;
    if (!rs->fetch)
        return fail(err, errlen, "tenant \"%s\": no plan to read", ten->name);
    if (!rs->fetch(rs->fetch_ud, rs, ten, err, errlen))
        return false;
    if (ten->deferred)
        return fail(err, errlen, "tenant \"%s\" is not in bucket %zu of the plan, where the "
                    "deploy record put it", ten->name, ten->bucket);
    return true;
}

/* The rules of the canonical text of ten, into *got from arena a, sorted;
 * 0 when the text reader does not take them, -1 with err set when they
 * are refused. */
static int read_text_rules(const rl_tenant *ten, arena *a, rl_tenant *got, char *err,
                           size_t errlen)
{
    memset(got, 0, sizeof *got);
    scan s = {ten->text, ten->text + ten->text_len};
    bool ok = sc_tenant(&s, a, got, false);
    if (!ok)
        return 0;
    if (got->nrules > 1)
        sort_rules(got->rules, got->nrules);
    for (size_t i = 1; i < got->nrules; i++)
        if (!strcmp(got->rules[i].id, got->rules[i - 1].id)) {
            fail(err, errlen, "tenant \"%s\": rule id %s appears twice", ten->name,
                 got->rules[i].id);
            return -1;
        }
    return 1;
}

bool rules_tenant_read(rl_ruleset *rs, const rl_tenant *t, arena *scratch, rl_tenant *out,
                       char *err, size_t errlen)
{
    if (!fetched(rs, t, err, errlen)) {
        rs->load_failed = true;
        return false;
    }
    if (t->text) {
        int r = read_text_rules(t, scratch, out, err, errlen);
        if (r < 0) {
            rs->load_failed = true;
            return false;
        }
        if (r > 0) {
            ((rl_tenant *)t)->parsed = true;
            rs->read_once++;
            out->name = t->name;
            out->version = t->version;
            out->version_ok = t->version_ok;
            out->canonical = t->canonical;
            return true;
        }
    }
    if (!rules_tenant_load(rs, t, err, errlen))
        return false;
    *out = *t;
    return true;
}

static bool tenant_load(rl_ruleset *rs, const rl_tenant *t, char *err, size_t errlen)
{
    /* Filled in place: the ruleset owns its tenants, and this only
     * completes what rules_add_tenant_lazy left out. */
    rl_tenant *ten = (rl_tenant *)t;
    if (ten && !fetched(rs, ten, err, errlen))
        return false;
    if (!ten || !ten->text)
        return true;
    rl_tenant got;
    int r = read_text_rules(ten, rs->a, &got, err, errlen);
    if (r < 0)
        return false;
    bool ok = r > 0;
    if (!ok) {
        /* Not a form the text reader takes: the tree reader decides, and
         * names what is wrong. */
        memset(&got, 0, sizeof got);
        json_error_t je;
        json_t *tj = json_loadb(ten->text, ten->text_len, JSON_REJECT_DUPLICATES, &je);
        if (!tj)
            return fail(err, errlen, "tenant \"%s\" is not valid JSON: %s", ten->name,
                        je.text);
        ok = read_rules(rs, &got, tj, ten->name, err, errlen);
        json_decref(tj);
        if (!ok)
            return false;
        if (got.nrules > 1)
            sort_rules(got.rules, got.nrules);
        for (size_t i = 1; i < got.nrules; i++)
            if (!strcmp(got.rules[i].id, got.rules[i - 1].id))
                return fail(err, errlen, "tenant \"%s\": rule id %s appears twice",
                            ten->name, got.rules[i].id);
    }
    ten->rules = got.rules;
    ten->nrules = got.nrules;
    ten->text = NULL;
    ten->text_len = 0;
    ten->parsed = true;
    return true;
}

bool rules_finish(rl_ruleset *rs, char *err, size_t errlen)
{
    /* Plans come sorted (the compiler writes tenants in name order): one
     * pass finds that, and duplicates, without sorting. */
    size_t t = 1;
    while (t < rs->ntenants && tenant_order(&rs->tenants[t - 1], &rs->tenants[t]) < 0)
        t++;
    if (t < rs->ntenants)
        qsort(rs->tenants, rs->ntenants, sizeof *rs->tenants, tenant_order);
    for (t = 1; t < rs->ntenants; t++)
        if (!strcmp(rs->tenants[t].name, rs->tenants[t - 1].name))
            return fail(err, errlen, "tenant \"%s\" appears twice", rs->tenants[t].name);
    return true;
}

bool rules_add_template(rl_ruleset *rs, const json_t *plan, char *err, size_t errlen)
{
    const json_t *tj = json_object_get(plan, "tenant_template");
    if (!tj || json_is_null(tj))
        return true;
    const json_t *rj = json_object_get(tj, "rules");
    if (!json_is_array(rj))
        return fail(err, errlen, "tenant_template: needs a \"rules\" array");
    rl_tenant *ten = arena_alloc(rs->a, sizeof *ten);
    memset(ten, 0, sizeof *ten);
    ten->name = "*";
    if (!read_rules(rs, ten, tj, NULL, err, errlen))
        return false;
    if (ten->nrules > 1)
        sort_rules(ten->rules, ten->nrules);
    for (size_t i = 1; i < ten->nrules; i++)
        if (!strcmp(ten->rules[i].id, ten->rules[i - 1].id))
            return fail(err, errlen, "tenant_template: rule id %s appears twice",
                        ten->rules[i].id);
    rs->any_tenant = ten;
    return true;
}

bool rules_from_plan(const json_t *plan, rl_ruleset *out, char *err, size_t errlen)
{
    const json_t *tenants = json_object_get(plan, "tenants");
    if (!rules_begin(plan, json_array_size(tenants), out, err, errlen))
        return false;
    bool ok = true;
    if (!json_is_array(tenants))
        ok = fail(err, errlen, "plan has no \"tenants\" array");
    for (size_t t = 0; ok && t < json_array_size(tenants); t++)
        ok = rules_add_tenant(out, json_array_get(tenants, t), err, errlen);
    if (ok)
        ok = rules_finish(out, err, errlen);
    if (ok)
        ok = rules_add_template(out, plan, err, errlen);
    if (!ok)
        rules_free(out);
    return ok;
}

void rules_free(rl_ruleset *rs)
{
    if (!rs)
        return;
    xunmap(rs->tenants);
    arena_free(rs->a);
    memset(rs, 0, sizeof *rs);
}

const rl_tenant *rules_tenant(const rl_ruleset *rs, const char *name)
{
    size_t lo = 0, hi = rs->ntenants;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(rs->tenants[mid].name, name);
        if (!c)
            return &rs->tenants[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const rl_tenant *rules_tenant_or_template(const rl_ruleset *rs, const char *name)
{
    const rl_tenant *t = rules_tenant(rs, name);
    return t ? t : rs->any_tenant;
}

bool rules_route_matches(const rl_rule *r, const char *method, const char *path)
{
    if (!r->method)
        return true;
    if (strcmp(r->method, "ANY") != 0 && (!method || strcmp(r->method, method) != 0))
        return false;
    const char *p = path ? path : "";
    for (size_t i = 0; i < r->nsegs; i++) {
        while (*p == '/')
            p++;
        if (!*p)
            return false;               /* request path ran out */
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *s = r->segs[i];
        bool last = i + 1 == r->nsegs;
        if (!strcmp(s, "*")) {
            if (last)
                return true;            /* trailing '*': one or more segments */
        } else if (strlen(s) != len || memcmp(s, p, len) != 0) {
            return false;
        }
        p += len;
    }
    while (*p == '/')
        p++;
    return *p == '\0';
}

