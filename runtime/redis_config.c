/* redis_config.c - encodes a tenant's rules into the config hash that
 * enforce.lua reads (see redis_config.h and SPEC.md 6.2).  The encoding is
 * plain text chosen for Lua: one string.gmatch per subject field parses all
 * of that subject's rules, with no JSON decoder on the hot path. */
#include "redis_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "embed.h"

char *redis_config_tag(const char *ns, const char *tenant)
{
    static const char hx[] = "0123456789ABCDEF";
    buf b;
    buf_init(&b, BUF_DEFAULT_MAX);
    buf_putc(&b, '{');
    buf_puts(&b, ns);
    buf_putc(&b, ':');
    for (const unsigned char *c = (const unsigned char *)tenant; *c; c++) {
        if (*c == '%' || *c == '{' || *c == '}' || *c == ':' || *c < 0x21 || *c > 0x7e) {
            buf_putc(&b, '%');
            buf_putc(&b, hx[*c >> 4]);
            buf_putc(&b, hx[*c & 15]);
        } else {
            buf_putc(&b, (char)*c);
        }
    }
    buf_putc(&b, '}');
    if (!buf_ok(&b))
        abort();
    return b.data;
}

static void cmd_push(redis_cmds *c, int argc, const char **argv, const size_t *lens)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        redis_cmd *nv = realloc(c->v, c->cap * sizeof *nv);
        if (!nv)
            abort();
        c->v = nv;
    }
    redis_cmd *k = &c->v[c->n++];
    k->argc = argc;
    k->argv = calloc((size_t)argc + 1, sizeof *k->argv);
    k->argvlen = calloc((size_t)argc + 1, sizeof *k->argvlen);
    if (!k->argv || !k->argvlen)
        abort();
    for (int i = 0; i < argc; i++) {
        k->argv[i] = malloc(lens[i] + 1);
        if (!k->argv[i])
            abort();
        memcpy(k->argv[i], argv[i], lens[i]);
        k->argv[i][lens[i]] = '\0';
        k->argvlen[i] = lens[i];
    }
}

void redis_cmds_add(redis_cmds *c, ...)
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
    for (size_t i = 0; i < c->n; i++) {
        for (int j = 0; j < c->v[i].argc; j++)
            free(c->v[i].argv[j]);
        free(c->v[i].argv);
        free(c->v[i].argvlen);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* One rule, one line: "id K shadow n1 n2 n3 n4 method route" where n1..n4
 * are count window burst cost (rate) or max lease 0 1 (concurrency). */
static void put_rule(buf *b, const rl_rule *r)
{
    if (r->kind == RL_CONCURRENCY)
        buf_printf(b, "%s C %d %lld %lld 0 1", r->id, r->shadow, (long long)r->max,
                   (long long)r->lease_ms);
    else
        buf_printf(b, "%s %c %d %lld %lld %lld %lld", r->id, rules_kind_code(r->kind), r->shadow,
                   (long long)r->count, (long long)r->window_ms, (long long)r->burst,
                   (long long)r->cost);
    if (r->method)
        buf_printf(b, " %s %s\n", r->method, r->route);
    else
        buf_puts(b, " - -\n");
}

static int subject_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void redis_config_tenant(const rl_ruleset *rs, const rl_tenant *t, const char *script_sha,
                         int64_t now_ms, redis_cmds *cmds,
                         char version[REDIS_CONFIG_VERSION_LEN + 1])
{
    /* Fields: "m" = "<format> <c|s> <skew_ms>", then "s" + "/<subject>" per
     * subject with rules, in byte order; rules keep their (sorted) order. */
    size_t nf = 0;
    const char **subjects = calloc(t->nrules + 1, sizeof *subjects);
    if (!subjects)
        abort();
    for (size_t i = 0; i < t->nrules; i++)
        if (i == 0 || strcmp(t->rules[i].subject, t->rules[i - 1].subject) != 0)
            subjects[nf++] = t->rules[i].subject;
    qsort(subjects, nf, sizeof *subjects, subject_order);

    size_t argc = 2 + 2 * (nf + 1);
    const char **argv = calloc(argc, sizeof *argv);
    size_t *lens = calloc(argc, sizeof *lens);
    buf *vals = calloc(2 * (nf + 1), sizeof *vals);
    if (!argv || !lens || !vals)
        abort();
    for (size_t i = 0; i < 2 * (nf + 1); i++)
        buf_init(&vals[i], BUF_DEFAULT_MAX);
    buf_puts(&vals[0], "m");
    buf_printf(&vals[1], "%d %c %lld", REDIS_CONFIG_FORMAT, rs->client_time ? 'c' : 's',
               (long long)rs->skew_ms);
    for (size_t f = 0; f < nf; f++) {
        buf *fb = &vals[2 + 2 * f], *vb = &vals[3 + 2 * f];
        buf_puts(fb, "s");
        if (*subjects[f]) {
            buf_putc(fb, '/');
            buf_puts(fb, subjects[f]);
        }
        for (size_t i = 0; i < t->nrules; i++)
            if (!strcmp(t->rules[i].subject, subjects[f]))
                put_rule(vb, &t->rules[i]);
    }

    /* version = SHA-256 over "field\0value\0" for every pair, in order. */
    buf all;
    buf_init(&all, BUF_DEFAULT_MAX);
    for (size_t i = 0; i < 2 * (nf + 1); i++)
        buf_append(&all, buf_str(&vals[i]), vals[i].len + 1);
    char hex[DIGEST_HEX_LEN + 1];
    if (!buf_ok(&all) || !digest_sha256_hex(all.data, all.len, hex))
        abort();
    buf_free(&all);
    memcpy(version, hex, REDIS_CONFIG_VERSION_LEN);
    version[REDIS_CONFIG_VERSION_LEN] = '\0';

    char *tag = redis_config_tag(rs->ns, t->name);
    buf key;
    buf_init(&key, BUF_DEFAULT_MAX);
    buf_printf(&key, "%s:cfg:%s", tag, version);
    argv[0] = "HSET";
    lens[0] = 4;
    argv[1] = buf_str(&key);
    lens[1] = key.len;
    for (size_t i = 0; i < 2 * (nf + 1); i++) {
        argv[2 + i] = buf_str(&vals[i]);
        lens[2 + i] = vals[i].len;
    }
    cmd_push(cmds, (int)argc, argv, lens);
    buf_reset(&key);
    buf_printf(&key, "%s:active", tag);
    char now[24] = "";
    if (now_ms >= 0)
        snprintf(now, sizeof now, "%lld", (long long)now_ms);
    if (script_sha)
        redis_cmds_add(cmds, "EVALSHA", script_sha, "1", buf_str(&key), "activate", version, now,
                       (const char *)NULL);
    else
        redis_cmds_add(cmds, "FCALL", "rlc_activate", "1", buf_str(&key), version, now,
                       (const char *)NULL);

    buf_free(&key);
    free(tag);
    for (size_t i = 0; i < 2 * (nf + 1); i++)
        buf_free(&vals[i]);
    free(vals);
    free(lens);
    free(argv);
    free(subjects);
}

const char *redis_library_function(size_t *len)
{
    const embedded_file *f = embedded_find("enforce.lua");
    if (!f)
        return NULL;
    *len = f->len;
    return f->data;
}

const char *redis_library_script(size_t *len)
{
    const embedded_file *f = embedded_find("enforce.lua");
    if (!f)
        return NULL;
    const char *nl = memchr(f->data, '\n', f->len);
    if (!nl)
        return NULL;
    *len = f->len - (size_t)(nl + 1 - f->data);
    return nl + 1;
}
