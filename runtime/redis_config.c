/* redis_config.c - encodes a tenant's rules into the config hash that
 * enforce.lua reads (see redis_config.h and SPEC.md 6.2).  The encoding is
 * plain text chosen for Lua: one string.gmatch per subject field parses all
 * of that subject's rules, with no JSON decoder on the hot path. */
#include "redis_config.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "embed.h"
#include "plan_key.h"

/* One command in one allocation: the argv array, the lengths and the
 * NUL-terminated strings (a deploy makes two per tenant, 100 000s). */
static void cmd_push(redis_cmds *c, int argc, const char **argv, const size_t *lens)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        redis_cmd *nv = xrealloc(c->v, c->cap * sizeof *nv);
        c->v = nv;
    }
    redis_cmd *k = &c->v[c->n++];
    size_t total = ((size_t)argc + 1) * (sizeof *k->argv + sizeof *k->argvlen);
    for (int i = 0; i < argc; i++)
        total += lens[i] + 1;
    char *block = xmalloc(total);
    k->argc = argc;
    k->argv = (char **)block;
    k->argvlen = (size_t *)(block + ((size_t)argc + 1) * sizeof *k->argv);
    char *d = (char *)(k->argvlen + argc + 1);
    for (int i = 0; i < argc; i++) {
        k->argv[i] = d;
        memcpy(d, argv[i], lens[i]);
        d[lens[i]] = '\0';
        d += lens[i] + 1;
        k->argvlen[i] = lens[i];
    }
    k->argv[argc] = NULL;
    k->argvlen[argc] = 0;
}

/* Appends one command made of the given strings (NULL-terminated list). */
static void redis_cmds_add(redis_cmds *c, ...)
{
    const char *argv[16];
    size_t lens[16];
    int argc = 0;
    va_list ap;
    va_start(ap, c);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL && argc < 16;) {
        argv[argc] = s;
        lens[argc++] = strlen(s);
    }
    va_end(ap);
    cmd_push(c, argc, argv, lens);
}

void redis_cmds_free(redis_cmds *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].argv);   /* one block per command (cmd_push) */
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* v in decimal at w (v >= 0: a rule's numbers are at least 1); returns
 * the end. */
static char *put_num(char *w, int64_t v)
{
    /* Two digits per division: 100 000 tenants' configs hold about five
     * million numbers. */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char t[24];
    int n = sizeof t;
    uint64_t u = v < 0 ? 0 : (uint64_t)v;
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        t[--n] = pairs[d + 1];
        t[--n] = pairs[d];
    }
    if (u >= 10) {
        t[--n] = pairs[u * 2 + 1];
        t[--n] = pairs[u * 2];
    } else {
        t[--n] = (char)('0' + u);
    }
    size_t len = sizeof t - (size_t)n;
    memcpy(w, t + n, len);
    return w + len;
}

/* One rule, one line: "id K shadow n1 n2 n3 n4 method route" where n1..n4
 * are count window burst cost (rate) or max lease 0 1 (concurrency).
 * Written without printf, and but for its route into a line on the stack
 * appended at once: a deploy writes this for every rule. */
static void put_rule(buf *b, const rl_rule *r)
{
    char line[PLAN_RULE_ID_LEN + 4 + 4 * 21 + 8], *w = line;
    memcpy(w, r->id, PLAN_RULE_ID_LEN);
    w += PLAN_RULE_ID_LEN;
    *w++ = ' ';
    *w++ = plan_kind_code(r->kind);
    *w++ = ' ';
    *w++ = r->shadow ? '1' : '0';
    *w++ = ' ';
    if (r->kind == PLAN_CONCURRENCY) {
        w = put_num(w, r->max);
        *w++ = ' ';
        w = put_num(w, r->lease_ms);
        memcpy(w, " 0 1", 4);
        w += 4;
    } else {
        w = put_num(w, r->count);
        *w++ = ' ';
        w = put_num(w, r->window_ms);
        *w++ = ' ';
        w = put_num(w, r->burst);
        *w++ = ' ';
        w = put_num(w, r->cost);
    }
    if (r->method) {
        *w++ = ' ';
        buf_append(b, line, (size_t)(w - line));
        buf_puts(b, r->method);
        buf_putc(b, ' ');
        buf_puts(b, r->route);
        buf_putc(b, '\n');
    } else {
        memcpy(w, " - -\n", 5);
        w += 5;
        buf_append(b, line, (size_t)(w - line));
    }
}

/* A subject of the config: rule subject or prefix s[0..n), its first
 * rule, or -1 when it holds none. */
typedef struct cfg_subj {
    const char *s;
    size_t n;
    long first;
} cfg_subj;

static int subj_cmp(const void *pa, const void *pb)
{
    const cfg_subj *a = pa, *b = pb;
    size_t m = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->s, b->s, m);
    if (c)
        return c;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    return (a->first < 0) - (b->first < 0);   /* the one with rules first */
}

/* The subject s (len bytes) of the sorted, deduplicated v, or NULL. */
static const cfg_subj *subj_find(const cfg_subj *v, size_t n, const char *s, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        size_t m = v[mid].n < len ? v[mid].n : len;
        int c = memcmp(v[mid].s, s, m);
        if (!c && v[mid].n != len)
            c = v[mid].n < len ? -1 : 1;
        if (!c)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool subj_has(const cfg_subj *v, size_t n, const char *s, size_t len)
{
    return subj_find(v, n, s, len) != NULL;
}

/* Whether a subject without rules needs a field: the library resolves a
 * path level by level, listed name first, then the template of its kind
 * (SPEC.md 6.2), so a template ("key*") with subjects below it must be
 * found, and so must a listed one beside a template of its kind, which it
 * hides.  Other rule-less subjects have no field, as before templates. */
static bool needs_field(const cfg_subj *v, size_t n, const cfg_subj *x, buf *tmp)
{
    if (x->n && x->s[x->n - 1] == '*')
        return true;
    size_t slash = x->n;
    while (slash > 0 && x->s[slash - 1] != '/')
        slash--;
    const char *seg = x->s + slash;
    const char *colon = memchr(seg, ':', x->n - slash);
    if (!colon)
        return false;
    buf_reset(tmp);
    buf_append(tmp, x->s, (size_t)(colon - x->s));
    buf_putc(tmp, '*');
    return buf_ok(tmp) && subj_has(v, n, tmp->data, tmp->len);
}

/* A double as struct.pack('<d') writes it: every rule number is an
 * integer below 2^53, so the double is exact. */
static void put_le_double(buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    unsigned char c[8];
    for (int i = 0; i < 8; i++)
        c[i] = (unsigned char)(u >> (8 * i));
    buf_append(b, c, 8);
}

/* One rule packed for the EVALSHA script's struct.unpack('<Bc0c1Bdddd'):
 * id, kind, flags (1 shadow, 2 a route follows), n1..n4 (put_rule's);
 * with a route, '<Bc0Hc0': method and pattern.  Every length fits its
 * count (packs). */
static void put_packed_rule(buf *b, const rl_rule *r)
{
    size_t il = strlen(r->id);
    buf_putc(b, (char)il);
    buf_append(b, r->id, il);
    buf_putc(b, plan_kind_code(r->kind));
    buf_putc(b, (char)((r->shadow ? 1 : 0) | (r->method ? 2 : 0)));
    if (r->kind == PLAN_CONCURRENCY) {
        put_le_double(b, (double)r->max);
        put_le_double(b, (double)r->lease_ms);
        put_le_double(b, 0);
        put_le_double(b, 1);
    } else {
        put_le_double(b, (double)r->count);
        put_le_double(b, (double)r->window_ms);
        put_le_double(b, (double)r->burst);
        put_le_double(b, (double)r->cost);
    }
    if (!r->method)
        return;
    size_t ml = strlen(r->method), rl = strlen(r->route);
    buf_putc(b, (char)ml);
    buf_append(b, r->method, ml);
    unsigned char l2[2] = {(unsigned char)(rl & 0xff), (unsigned char)(rl >> 8)};
    buf_append(b, l2, 2);
    buf_append(b, r->route, rl);
}

/* Whether every rule of t fits put_packed_rule's counts. */
static bool packs(const rl_tenant *t)
{
    for (size_t i = 0; i < t->nrules; i++) {
        const rl_rule *r = &t->rules[i];
        if (strlen(r->id) > 255 ||
            (r->method && (strlen(r->method) > 255 || strlen(r->route) > 65535)))
            return false;
    }
    return true;
}

/* The rules of subject x packed (put_packed_rule), in their order. */
static void put_packed_rules(buf *all, const rl_tenant *t, const cfg_subj *x)
{
    if (!x || x->first < 0)
        return;
    const char *subj = t->rules[x->first].subject;
    for (size_t i = (size_t)x->first; i < t->nrules && !strcmp(t->rules[i].subject, subj); i++)
        put_packed_rule(all, &t->rules[i]);
}

/* The twin of field x (SPEC.md 6.2): the header '<c1d' (time source,
 * skew), then the rules of every subject on x's path that has some, the
 * tenant's first, each subject's in its order, x's last: what the
 * library's walk of that path finds, so that the script reads one field,
 * and the header with the first rule in one struct.unpack.  The layout is
 * that of config format 1, which its name ("p...") stands for: a config of
 * another format would name its twins otherwise.  Only for a path the walk
 * accepts whose every level is a listed name (a template's field, "kind*",
 * has none) and that reaches at least one rule; false for any other, which
 * the script resolves in full.  v: the tenant's n subjects, sorted. */
static bool put_twin(buf *all, const rl_ruleset *rs, const rl_tenant *t, const cfg_subj *x,
                     const cfg_subj *v, size_t n)
{
    if (x->n > 1024)
        return false;
    int depth = 0;
    for (size_t k = 0; k < x->n; k++) {
        size_t e = k;
        while (e < x->n && x->s[e] != '/')
            e++;
        if (!memchr(x->s + k, ':', e - k) || ++depth > 8)
            return false;
        k = e;
    }
    buf_putc(all, rs->client_time ? 'c' : 's');
    put_le_double(all, (double)rs->skew_ms);
    size_t rules_at = all->len;
    /* Every prefix of a listed path is listed: its rules, where it has
     * any, are the walk's at its level. */
    if (x->n)
        put_packed_rules(all, t, subj_find(v, n, "", 0));
    for (size_t k = 0; k < x->n; k++)
        if (x->s[k] == '/')
            put_packed_rules(all, t, subj_find(v, n, x->s, k));
    put_packed_rules(all, t, x);
    return all->len > rules_at;
}

/* The config fields of tenant t, each field and value followed by its NUL,
 * into w->all (reset first), w->off[i] the start of the i-th of *nv strings
 * and w->off[*nv] the end; version = the digest of exactly those bytes.
 * w's memory is kept from one tenant to the next.
 * With twins, each listed field's twin follows them (put_twin), as field
 * "p<subject>" and its value, outside the digest: a config is the same
 * version whichever call form its store has.  A tenant with a rule too
 * long to pack has none: the script then resolves every path in full. */
static void config_encode(const rl_ruleset *rs, const rl_tenant *t, redis_config_enc *w,
                          size_t *nv, char version[REDIS_CONFIG_VERSION_LEN + 1], bool twins)
{
    /* Fields: "m" = "<format> <c|s> <skew_ms>", then "s" + "/<subject>" per
     * subject with rules (and the rule-less ones needs_field keeps), in
     * byte order; rules keep their (sorted) order.  Rules come sorted by
     * (depth, subject, id), so a subject's rules are contiguous. */
    buf *all = &w->all;
    buf_reset(all);
    size_t cap = 1, nsub = 0;
    for (size_t i = 0; i < t->nrules; i++)
        if (i == 0 || strcmp(t->rules[i].subject, t->rules[i - 1].subject) != 0)
            cap += PLAN_DEPTH_MAX;
    if (cap > w->svcap) {
        free(w->sv);
        w->svcap = cap * 2;
        w->sv = xmalloc(w->svcap * sizeof(cfg_subj));
    }
    cfg_subj *sv = w->sv;
    bool any = false;
    for (size_t i = 0; i < t->nrules; i++) {
        const char *subj = t->rules[i].subject;
        any |= t->rules[i].any_mask != 0;
        if (i > 0 && !strcmp(subj, t->rules[i - 1].subject))
            continue;
        sv[nsub++] = (cfg_subj){subj, strlen(subj), (long)i};
    }
    /* Only a tenant with templates has rule-less fields, so the configs of
     * every other tenant stay exactly what they were. */
    if (any)
        for (size_t i = 0; i < nsub; i++)
            if (sv[i].first >= 0)
                for (size_t k = sv[i].n; k > 0; k--)
                    if (sv[i].s[k - 1] == '/' && nsub < cap)
                        sv[nsub++] = (cfg_subj){sv[i].s, k - 1, -1};
    /* By insertion: a tenant has a handful of subjects, mostly in order
     * already (its rules come sorted by depth, then subject); one listing
     * thousands of keys by qsort, as sort_rules does (the parents the
     * templates add come last, and would each be moved past all). */
    if (nsub > 32)
        qsort(sv, nsub, sizeof *sv, subj_cmp);
    for (size_t i = 1; nsub <= 32 && i < nsub; i++) {
        cfg_subj x = sv[i];
        size_t j = i;
        while (j > 0 && subj_cmp(&sv[j - 1], &x) > 0) {
            sv[j] = sv[j - 1];
            j--;
        }
        sv[j] = x;
    }
    size_t u = 0;
    for (size_t i = 0; i < nsub; i++)
        if (!u || sv[u - 1].n != sv[i].n || memcmp(sv[u - 1].s, sv[i].s, sv[i].n) != 0)
            sv[u++] = sv[i];
    nsub = u;

    twins = twins && packs(t);
    size_t need = (twins ? 4 : 2) * (nsub + 1) + 1;
    if (need > w->offcap) {
        free(w->off);
        w->offcap = need * 2;
        w->off = xmalloc(w->offcap * sizeof *w->off);
    }
    size_t *off = w->off;
    /* The subjects given a field, for their twins (a deploy for FUNCTION
     * LOAD, 100 000s of tenants, allocates nothing more). */
    size_t *em = twins ? xmalloc((nsub ? nsub : 1) * sizeof *em) : NULL, nem = 0;
    size_t k = 0;
    off[k++] = all->len;
    buf_append(all, "m", 2);
    off[k++] = all->len;
    char m[48], *mw = m;
    mw = put_num(mw, REDIS_CONFIG_FORMAT);
    *mw++ = ' ';
    *mw++ = rs->client_time ? 'c' : 's';
    *mw++ = ' ';
    mw = put_num(mw, rs->skew_ms);
    *mw++ = '\0';
    buf_append(all, m, (size_t)(mw - m));
    for (size_t f = 0; f < nsub; f++) {
        const cfg_subj *x = &sv[f];
        if (x->first < 0 && (!x->n || !needs_field(sv, nsub, x, &w->tmp)))
            continue;
        if (em)
            em[nem++] = f;
        off[k++] = all->len;
        if (x->n) {
            buf_append(all, "s/", 2);
            buf_append(all, x->s, x->n);
            buf_putc(all, '\0');
        } else {
            buf_append(all, "s", 2);
        }
        off[k++] = all->len;
        if (x->first >= 0) {
            const char *subj = t->rules[x->first].subject;
            for (size_t i = (size_t)x->first; i < t->nrules && !strcmp(t->rules[i].subject, subj);
                 i++)
                put_rule(all, &t->rules[i]);
        }
        buf_putc(all, '\0');
    }
    off[k] = all->len;
    char hex[DIGEST_HEX_LEN + 1];
    if (!buf_ok(all) || !digest_sha256_hex(all->data, all->len, hex))
        abort();
    memcpy(version, hex, REDIS_CONFIG_VERSION_LEN);
    version[REDIS_CONFIG_VERSION_LEN] = '\0';
    for (size_t i = 0; i < nem; i++) {
        const cfg_subj *x = &sv[em[i]];
        size_t at = all->len;
        if (x->n)
            buf_append(all, x->s, x->n);
        else
            buf_putc(all, 'p');
        buf_putc(all, '\0');
        size_t vat = all->len;
        if (!put_twin(all, rs, t, x, sv, nsub)) {
            all->len = at;
            all->data[at] = '\0';
            continue;
        }
        buf_putc(all, '\0');
        off[k++] = at;
        off[k++] = vat;
        off[k] = all->len;
    }
    if (!buf_ok(all))
        abort();
    *nv = k;
    free(em);
}

bool redis_config_is_twin(const char *f)
{
    return !(f[0] == 'm' && !f[1]) && !(f[0] == 's' && (!f[1] || f[1] == '/'));
}

void redis_config_enc_free(redis_config_enc *w)
{
    if (!w)
        return;
    buf_free(&w->all);
    buf_free(&w->tmp);
    free(w->sv);
    free(w->off);
    memset(w, 0, sizeof *w);
}

/* "$<n>\r\n" at w; returns the end. */
static char *resp_len(char *w, char lead, size_t n)
{
    *w++ = lead;
    w = put_num(w, (int64_t)n);
    *w++ = '\r';
    *w++ = '\n';
    return w;
}

/* One bulk string in RESP. */
static void resp_bulk(buf *out, const char *s, size_t n)
{
    /* Header, bytes and CRLF in one append when short (a config's fields
     * are): a third of the calls, each checking room and copying. */
    char h[96], *w = resp_len(h, '$', n);
    if ((size_t)(h + sizeof h - w) >= n + 2) {
        memcpy(w, s, n);
        w += n;
        *w++ = '\r';
        *w++ = '\n';
        buf_append(out, h, (size_t)(w - h));
        return;
    }
    buf_append(out, h, (size_t)(w - h));
    buf_append(out, s, n);
    buf_append(out, "\r\n", 2);
}

void redis_config_fresh_resp(const rl_ruleset *rs, const rl_tenant *t, redis_config_enc *w,
                             bool twins, buf *out, size_t lens[2],
                             char version[REDIS_CONFIG_VERSION_LEN + 1])
{
    size_t nv;
    config_encode(rs, t, w, &nv, version, twins);
    size_t *off = w->off;
    char tag[PLAN_KEY_MAX + 1];
    size_t tl = plan_key_tag_into(tag, sizeof tag, rs->ns, t->name);
    if (tl + sizeof PLAN_KEY_CFG + REDIS_CONFIG_VERSION_LEN > sizeof tag)
        abort();   /* tenant_done bounds every key a tenant's name makes */
    size_t start = out->len;
    /* Sized at once: the fields, their headers and the two keys. */
    buf_expect(out, w->all.len + 16 * (nv + 6) + 2 * tl + 64);
    char h[32], *hw = resp_len(h, '*', 2 + nv);
    buf_append(out, h, (size_t)(hw - h));
    resp_bulk(out, "HSET", 4);
    size_t kl = tl;
    memcpy(tag + kl, PLAN_KEY_CFG, sizeof PLAN_KEY_CFG - 1);
    kl += sizeof PLAN_KEY_CFG - 1;
    memcpy(tag + kl, version, REDIS_CONFIG_VERSION_LEN);
    kl += REDIS_CONFIG_VERSION_LEN;
    resp_bulk(out, tag, kl);
    for (size_t i = 0; i < nv; i++)
        resp_bulk(out, w->all.data + off[i], off[i + 1] - off[i] - 1);
    lens[0] = out->len - start;
    start = out->len;
    buf_append(out, "*3\r\n$3\r\nSET\r\n", 13);
    kl = tl;
    memcpy(tag + kl, PLAN_KEY_ACTIVE, sizeof PLAN_KEY_ACTIVE - 1);
    kl += sizeof PLAN_KEY_ACTIVE - 1;
    resp_bulk(out, tag, kl);
    resp_bulk(out, version, REDIS_CONFIG_VERSION_LEN);
    lens[1] = out->len - start;
}

void redis_config_tenant(const rl_ruleset *rs, const rl_tenant *t, const char *script_sha,
                         int64_t now_ms, redis_cmds *cmds,
                         char version[REDIS_CONFIG_VERSION_LEN + 1])
{
    redis_config_enc w = {0};
    size_t nv;
    config_encode(rs, t, &w, &nv, version, script_sha != NULL);
    const buf all = w.all;
    const size_t *off = w.off;

    size_t argc = 2 + nv;
    const char **argv = xmalloc(argc * sizeof *argv);
    size_t *lens = xmalloc(argc * sizeof *lens);
    char *tag = plan_key_tag(rs->ns, t->name);
    buf kb;
    buf_init(&kb, BUF_DEFAULT_MAX);
    buf_puts(&kb, tag);
    buf_puts(&kb, PLAN_KEY_CFG);
    buf_puts(&kb, version);
    argv[0] = "HSET";
    lens[0] = 4;
    argv[1] = buf_str(&kb);
    lens[1] = kb.len;
    for (size_t i = 0; i < nv; i++) {
        argv[2 + i] = all.data + off[i];
        lens[2 + i] = off[i + 1] - off[i] - 1;
    }
    cmd_push(cmds, (int)argc, argv, lens);
    buf_reset(&kb);
    buf_puts(&kb, tag);
    buf_puts(&kb, PLAN_KEY_ACTIVE);
    if (!buf_ok(&kb))
        abort();
    const char *key = buf_str(&kb);
    char now[24] = "";
    if (now_ms >= 0)
        snprintf(now, sizeof now, "%lld", (long long)now_ms);
    if (script_sha)
        redis_cmds_add(cmds, "EVALSHA", script_sha, "1", key, "activate", version, now,
                       (const char *)NULL);
    else
        redis_cmds_add(cmds, "FCALL", "rlc_activate", "1", key, version, now,
                       (const char *)NULL);

    buf_free(&kb);
    redis_config_enc_free(&w);
    free(tag);
    free(lens);
    free(argv);
}

const char *redis_library_function(size_t *len)
{
    const embedded_file *f = embedded_find("enforce.lua");
    if (!f)
        return NULL;
    *len = f->len;
    return f->data;
}

/* A Lua string literal of s[0..n): quotes, backslashes and every byte
 * outside printable ASCII escaped, the numeric escapes with three digits
 * so that a digit after one is never read as part of it. */
static void lua_str(buf *b, const char *s, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c > 0x7e)
            buf_printf(b, "\\%03u", c);
        else
            buf_putc(b, (char)c);
    }
    buf_putc(b, '"');
}

#define TEMPLATE_LINE "local TEMPLATE = nil\n"

bool redis_library_compose(const rl_ruleset *rs, const char *base, size_t len, buf *out)
{
    buf_reset(out);
    /* base is a NUL-terminated string (the plan's, or the embedded file). */
    const char *at = rs->any_tenant ? strstr(base, TEMPLATE_LINE) : NULL;
    if (!rs->any_tenant) {
        buf_append(out, base, len);
        return buf_ok(out);
    }
    if (!at)
        return false;
    redis_config_enc w = {0};
    size_t nv;
    char version[REDIS_CONFIG_VERSION_LEN + 1];
    config_encode(rs, rs->any_tenant, &w, &nv, version, false);
    const buf all = w.all;
    const size_t *off = w.off;
    buf_append(out, base, (size_t)(at - base));
    buf_puts(out, "local TEMPLATE = {tagpre = ");
    char *tag = plan_key_tag(rs->ns, "");
    lua_str(out, tag, strlen(tag) - 1);       /* "{<ns>:" without the '}' */
    free(tag);
    buf_puts(out, ", ver = \"");
    buf_puts(out, version);
    buf_puts(out, "\", m = ");
    lua_str(out, all.data + off[1], off[2] - off[1] - 1);
    buf_puts(out, ", raw = {");
    for (size_t i = 2; i + 1 < nv; i += 2) {
        buf_puts(out, i > 2 ? ", [" : "[");
        lua_str(out, all.data + off[i], off[i + 1] - off[i] - 1);
        buf_puts(out, "] = ");
        lua_str(out, all.data + off[i + 1], off[i + 2] - off[i + 1] - 1);
    }
    buf_puts(out, "}}\n");
    const char *rest = at + strlen(TEMPLATE_LINE);
    buf_append(out, rest, len - (size_t)(rest - base));
    redis_config_enc_free(&w);
    return buf_ok(out);
}

bool redis_template_version(const rl_ruleset *rs, char version[REDIS_CONFIG_VERSION_LEN + 1])
{
    if (!rs->any_tenant)
        return false;
    redis_config_enc w = {0};
    size_t nv;
    config_encode(rs, rs->any_tenant, &w, &nv, version, false);
    redis_config_enc_free(&w);
    return true;
}

bool redis_library_template(const char *code, char *tagpre, size_t tplen,
                            char version[REDIS_CONFIG_VERSION_LEN + 1])
{
    const char *at = code ? strstr(code, "\nlocal TEMPLATE = {tagpre = \"") : NULL;
    if (!at)
        return false;
    at += strlen("\nlocal TEMPLATE = {tagpre = \"");
    const char *q = strchr(at, '"');
    const char *v = q ? strstr(q, "ver = \"") : NULL;
    if (!q || !v)
        return false;
    snprintf(tagpre, tplen, "%.*s", (int)(q - at), at);
    snprintf(version, REDIS_CONFIG_VERSION_LEN + 1, "%s", v + strlen("ver = \""));
    return true;
}

/* The line of lib at *at (advanced past it): its start and length
 * without the newline. */
static const char *next_line(const char *lib, size_t len, size_t *at, size_t *n)
{
    const char *s = lib + *at;
    const char *nl = memchr(s, '\n', len - *at);
    *n = nl ? (size_t)(nl - s) : len - *at;
    *at += *n + (nl != NULL);
    return s;
}

static bool line_is(const char *s, size_t n, const char *what)
{
    size_t w = strlen(what);
    return n >= w && !memcmp(s, what, w);
}

bool redis_library_evalsha(const char *lib, size_t len, buf *out)
{
    buf_reset(out);
    size_t at = 0, n;
    if (len > 2 && lib[0] == '#' && lib[1] == '!')
        next_line(lib, len, &at, &n);
    /* The whole library, run only for what the regions hand it. */
    buf_puts(out, "local function full()\n");
    buf_append(out, lib + at, len - at);
    buf_puts(out, "\nend\n");
    bool in = false;
    while (at < len) {
        const char *s = next_line(lib, len, &at, &n);
        if (!in) {
            in = line_is(s, n, "--@evalsha") || line_is(s, n, "--[==[@evalsha");
            continue;
        }
        if (line_is(s, n, "--@end") || line_is(s, n, "--]==]")) {
            in = false;
            continue;
        }
        buf_append(out, s, n);
        buf_putc(out, '\n');
    }
    return buf_ok(out);
}
