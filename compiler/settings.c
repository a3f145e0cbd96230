/* settings.c - settings schemas and the table-driven checker.
 * See settings.h. */
#include "settings.h"

#include <string.h>

#include "suggest.h"

static const setting_spec policy_specs[] = {
    {"namespace", STY_STRING, NULL, false, "key prefix in every store (default \"rl\")"},
    {"max_clock_skew", STY_DURATION, NULL, false,
     "largest clock difference the operators guarantee between nodes (default 0ms)"},
    {"time_source", STY_ENUM, "server|client", false,
     "server: Redis TIME decides; client: the caller passes now (default server)"},
    {"on_store_error", STY_ENUM, "fail_open|fail_closed", false,
     "what a gateway does when the store is unreachable (default fail_open)"},
    {"allow_loosening", STY_BOOL, NULL, false,
     "let a child set a looser limit than its ancestor (default false)"},
    {"default_algorithm", STY_ENUM, "token_bucket|gcra|sliding_window|fixed_window|approx_sliding_window", false,
     "algorithm of limits that name none (default token_bucket)"},
    {"description", STY_STRING, NULL, false, "free text"},
};
const settings_schema policy_schema = {"policy", policy_specs,
                                       sizeof policy_specs / sizeof policy_specs[0]};

static const setting_spec redis_specs[] = {
    {"url", STY_SECRET, NULL, true, "redis[s]://host:port[/db]"},
    {"cluster", STY_BOOL, NULL, false, "the URL names a Redis Cluster node"},
    {"username", STY_SECRET, NULL, false, "ACL user"},
    {"password", STY_SECRET, NULL, false, "AUTH password"},
    {"timeout", STY_DURATION, NULL, false, "per-command timeout (default 2s)"},
    {"ca_file", STY_STRING, NULL, false, "CA bundle that verifies the server (rediss://)"},
    {"cert_file", STY_STRING, NULL, false, "client certificate (rediss://)"},
    {"key_file", STY_STRING, NULL, false, "client certificate's key (rediss://)"},
    {"key_passphrase", STY_SECRET, NULL, false, "passphrase of an encrypted key_file"},
    {"tls_server_name", STY_STRING, NULL, false,
     "name the server's certificate must carry, sent as SNI (default: the URL's host)"},
    {"tls_verify", STY_BOOL, NULL, false,
     "false turns certificate and name checks off, with a warning (default true)"},
};
static const setting_spec etcd_specs[] = {
    {"endpoints", STY_STRINGS, NULL, true, "etcd v3 JSON gateway URLs"},
    {"prefix", STY_STRING, NULL, false, "key prefix (default \"/rlc/\")"},
    {"username", STY_SECRET, NULL, false, "etcd user"},
    {"password", STY_SECRET, NULL, false, "etcd password"},
    {"timeout", STY_DURATION, NULL, false, "per-request timeout (default 2s)"},
};
static const setting_spec http_specs[] = {
    {"url", STY_SECRET, NULL, true, "admin API endpoint"},
    {"token", STY_SECRET, NULL, false, "bearer token"},
    {"ca_file", STY_STRING, NULL, false, "CA bundle for TLS verification"},
    {"timeout", STY_DURATION, NULL, false, "per-request timeout (default 5s)"},
};
static const setting_spec nginx_specs[] = {
    {"output", STY_STRING, NULL, true, "path of the generated nginx/Lua snippet"},
    {"redis", STY_STRING, NULL, true, "name of the redis target the snippet calls"},
    {"status", STY_INT, NULL, false, "HTTP status of a rejection (default 429)"},
    {"tenant_from", STY_STRING, NULL, true,
     "where the tenant comes from: an nginx variable (\"$rlc_tenant\") or a literal name"},
    {"path_from", STY_STRINGS, NULL, false,
     "the levels below the tenant, e.g. [\"key:$remote_addr\"] (default: none)"},
    {"cost_from", STY_STRING, NULL, false,
     "an nginx variable holding each request's cost (default: every request costs 1)"},
    {"ratelimit_headers", STY_BOOL, NULL, false,
     "send RateLimit-Policy and RateLimit response fields (default true)"},
    {"metrics_url", STY_STRING, NULL, false,
     "where the operator serves the snippet's metrics, for rlc top (default: none)"},
    {"check_url", STY_STRING, NULL, false,
     "the gateway's check location: rlc run sends synthetic requests there after a deploy"},
    {"check_requests", STY_INT, NULL, false,
     "how many synthetic requests the post-deploy check sends (default 500)"},
    {"check_latency_budget", STY_DURATION, NULL, false,
     "the post-deploy check's budget: its p99 round trip above this rolls back (default none)"},
};

static const setting_spec envoy_specs[] = {
    {"output", STY_STRING, NULL, true, "path of the generated Envoy ratelimit YAML file"},
    {"domain", STY_STRING, NULL, false,
     "the tenant the file holds, its domain (default: the only tenant)"},
};
static const setting_spec limitador_specs[] = {
    {"output", STY_STRING, NULL, true, "path of the generated Limitador limits YAML file"},
    {"namespace", STY_STRING, NULL, false,
     "the one tenant the file holds (default: every tenant, each a namespace)"},
};

static const settings_schema target_schemas[] = {
    {"redis target", redis_specs, sizeof redis_specs / sizeof redis_specs[0]},
    {"etcd target", etcd_specs, sizeof etcd_specs / sizeof etcd_specs[0]},
    {"http target", http_specs, sizeof http_specs / sizeof http_specs[0]},
    {"nginx target", nginx_specs, sizeof nginx_specs / sizeof nginx_specs[0]},
    {"envoy_ratelimit target", envoy_specs, sizeof envoy_specs / sizeof envoy_specs[0]},
    {"limitador target", limitador_specs, sizeof limitador_specs / sizeof limitador_specs[0]},
};
const char *const target_kind_names[TARGET_NKINDS] = {"redis", "etcd", "http", "nginx",
                                                      "envoy_ratelimit", "limitador"};

const settings_schema *target_schema(const char *kind, target_kind *out)
{
    for (int i = 0; i < TARGET_NKINDS; i++)
        if (strcmp(kind, target_kind_names[i]) == 0) {
            *out = (target_kind)i;
            return &target_schemas[i];
        }
    return NULL;
}

const m_setting *setting_find(const m_setting *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static bool choice_ok(const char *choices, const char *s)
{
    size_t n = strlen(s);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && strncmp(p, s, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

static const char *value_kind_text(val_kind k)
{
    switch (k) {
    case VAL_STRING: return "a string";
    case VAL_INT: return "an integer";
    case VAL_DURATION: return "a duration";
    case VAL_IDENT: return "a name";
    case VAL_ENV: return "env(...)";
    case VAL_FILE: return "file(...)";
    case VAL_LIST: return "a list";
    case VAL_CALL: return "a function call";
    }
    return "?";
}

static const char *type_text(const setting_spec *s)
{
    switch (s->type) {
    case STY_STRING: return "a string";
    case STY_SECRET: return "a string, env(\"NAME\") or file(\"path\")";
    case STY_INT: return "a non-negative integer";
    case STY_DURATION: return "a duration such as 25ms";
    case STY_BOOL: return "true or false";
    case STY_ENUM: return s->choices;
    case STY_STRINGS: return "a list of strings";
    }
    return "?";
}

/* Checks one value against its spec; returns false (after a diagnostic). */
static bool value_check(const setting_spec *s, const ast_value *v, diag_list *d, m_value *out)
{
    out->kind = v->kind;
    out->src = v;
    out->s = v->s;
    out->i = 0;
    if (v->kind == VAL_CALL) {
        static const char *const fns[] = {"env", "file"};
        const char *sg = suggest(v->s, fns, 2);
        if (sg)
            diag_add(d, DIAG_BAD_SETTING_VALUE, v->sp,
                     "unknown function '%s'; did you mean '%s'?", v->s, sg);
        else
            diag_add(d, DIAG_BAD_SETTING_VALUE, v->sp,
                     "unknown function '%s' (only env(\"NAME\") and file(\"path\") exist)",
                     v->s);
        return false;
    }
    bool ok = false;
    switch (s->type) {
    case STY_STRING: ok = v->kind == VAL_STRING; break;
    case STY_SECRET:
        ok = v->kind == VAL_STRING || v->kind == VAL_ENV || v->kind == VAL_FILE;
        break;
    case STY_INT:
        ok = v->kind == VAL_INT && v->i >= 0;
        out->i = v->i;
        break;
    case STY_DURATION:
        ok = v->kind == VAL_DURATION;
        out->i = v->dur.ms;
        break;
    case STY_BOOL:
        ok = v->kind == VAL_IDENT && (!strcmp(v->s, "true") || !strcmp(v->s, "false"));
        out->i = ok && !strcmp(v->s, "true");
        break;
    case STY_ENUM:
        ok = v->kind == VAL_IDENT && choice_ok(s->choices, v->s);
        if (!ok && v->kind == VAL_IDENT) {
            /* Suggest among the choices. */
            const char *cands[8];
            char tmp[8][48];
            size_t nc = 0;
            const char *p = s->choices;
            while (*p && nc < 8) {
                const char *bar = strchr(p, '|');
                size_t l = bar ? (size_t)(bar - p) : strlen(p);
                if (l >= sizeof tmp[0])
                    l = sizeof tmp[0] - 1;
                memcpy(tmp[nc], p, l);
                tmp[nc][l] = '\0';
                cands[nc] = tmp[nc];
                nc++;
                if (!bar)
                    break;
                p = bar + 1;
            }
            const char *sg = suggest(v->s, cands, nc);
            if (sg)
                diag_add(d, DIAG_BAD_SETTING_VALUE, v->sp,
                         "'%s' is not a value of %s; did you mean '%s'? (expected %s)", v->s,
                         s->name, sg, s->choices);
            else
                diag_add(d, DIAG_BAD_SETTING_VALUE, v->sp,
                         "'%s' is not a value of %s (expected %s)", v->s, s->name,
                         s->choices);
            return false;
        }
        break;
    case STY_STRINGS:
        ok = v->kind == VAL_LIST;
        for (const ast_value *it = v->items; ok && it; it = it->next)
            if (it->kind != VAL_STRING && it->kind != VAL_ENV && it->kind != VAL_FILE) {
                diag_add(d, DIAG_BAD_SETTING_VALUE, it->sp,
                         "%s takes a list of strings, not %s", s->name,
                         value_kind_text(it->kind));
                return false;
            }
        if (ok && !v->items) {
            diag_add(d, DIAG_BAD_SETTING_VALUE, v->sp, "%s must not be empty", s->name);
            return false;
        }
        break;
    }
    if (!ok) {
        diag_add(d, DIAG_BAD_SETTING_VALUE, v->sp, "%s takes %s, not %s", s->name,
                 type_text(s), value_kind_text(v->kind));
        return false;
    }
    if (s->type == STY_DURATION && (out->i < 0 || out->i > PLAN_SKEW_MAX_MS * 24)) {
        diag_add(d, DIAG_DURATION_RANGE, v->sp, "%s must be between 0ms and 1d", s->name);
        return false;
    }
    return true;
}

/* TLS settings of a redis target: turning verification off is allowed,
 * never quiet; TLS settings beside a URL written as redis:// could never
 * apply (a URL from env() or file() is checked when it is read). */
static void redis_tls_check(const m_setting *v, size_t k, diag_list *d)
{
    const m_setting *url = NULL;
    for (size_t i = 0; i < k; i++)
        if (!strcmp(v[i].name, "url") && v[i].v.kind == VAL_STRING &&
            !strncmp(v[i].v.s, "redis://", 8))
            url = &v[i];
    for (size_t i = 0; i < k; i++) {
        const char *n = v[i].name;
        if (!strcmp(n, "tls_verify") && !v[i].v.i)
            diag_add(d, DIAG_TLS_VERIFY_OFF, v[i].src->u.value->sp,
                     "tls_verify = false: the store's certificate and name are not checked, "
                     "so anyone on the path can read and change what rlc and the gateways "
                     "send");
        if (url && (!strcmp(n, "ca_file") || !strcmp(n, "cert_file") ||
                    !strcmp(n, "key_file") || !strcmp(n, "key_passphrase") ||
                    !strcmp(n, "tls_server_name") || !strcmp(n, "tls_verify")))
            diag_add(d, DIAG_TLS_CONFIG, v[i].src->name.sp,
                     "%s is a TLS setting but the url is redis://; use rediss:// to reach the "
                     "store over TLS", n);
    }
}

void settings_check(const settings_schema *sc, const ast_node *settings, span block_sp,
                    arena *a, diag_list *d, m_setting **out, size_t *nout)
{
    size_t n = 0;
    for (const ast_node *s = settings; s; s = s->next)
        n++;
    m_setting *v = arena_alloc(a, (n ? n : 1) * sizeof *v);
    const ast_node **seen = arena_alloc(a, (sc->n ? sc->n : 1) * sizeof *seen);
    size_t k = 0;
    for (const ast_node *s = settings; s; s = s->next) {
        const setting_spec *spec = NULL;
        size_t si = 0;
        for (; si < sc->n; si++)
            if (strcmp(sc->specs[si].name, s->name.s) == 0) {
                spec = &sc->specs[si];
                break;
            }
        if (!spec) {
            const char *cands[32];
            size_t nc = sc->n < 32 ? sc->n : 32;
            for (size_t i = 0; i < nc; i++)
                cands[i] = sc->specs[i].name;
            const char *sg = suggest(s->name.s, cands, nc);
            if (sg)
                diag_add(d, DIAG_UNKNOWN_SETTING, s->name.sp,
                         "unknown setting '%s' in %s; did you mean '%s'?", s->name.s,
                         sc->block, sg);
            else
                diag_add(d, DIAG_UNKNOWN_SETTING, s->name.sp, "unknown setting '%s' in %s",
                         s->name.s, sc->block);
            continue;
        }
        if (seen[si]) {
            diag *dd = diag_add(d, DIAG_DUP_SETTING, s->name.sp, "'%s' is set twice in %s",
                                s->name.s, sc->block);
            diag_note_add(d, dd, seen[si]->name.sp, "first set here");
            continue;
        }
        seen[si] = s;
        m_value mv;
        if (!value_check(spec, s->u.value, d, &mv))
            continue;
        v[k].name = spec->name;
        v[k].src = s;
        v[k].v = mv;
        k++;
    }
    for (size_t si = 0; si < sc->n; si++)
        if (sc->specs[si].required && !seen[si])
            diag_add(d, DIAG_MISSING_SETTING, block_sp, "%s needs a '%s' setting (%s)",
                     sc->block, sc->specs[si].name, sc->specs[si].doc);
    if (sc->specs == redis_specs)
        redis_tls_check(v, k, d);
    *out = v;
    *nout = k;
}
