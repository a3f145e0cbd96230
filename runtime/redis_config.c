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

static void put_num(buf *b, int64_t v)
{
    char t[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        t[sizeof t - 1 - n++] = (char)('0' + u % 10);
    while ((u /= 10) && n < 21);
    if (v < 0)
        t[sizeof t - 1 - n++] = '-';
    buf_append(b, t + sizeof t - n, (size_t)n);
}

/* One rule, one line: "id K shadow n1 n2 n3 n4 method route" where n1..n4
 * are count window burst cost (rate) or max lease 0 1 (concurrency).
 * Written without printf: a deploy writes this for every rule. */
static void put_rule(buf *b, const rl_rule *r)
{
    buf_append(b, r->id, strlen(r->id));
    char k[4] = {' ', plan_kind_code(r->kind), ' ',
                 r->shadow ? '1' : '0'};
    buf_append(b, k, 4);
    buf_putc(b, ' ');
    if (r->kind == PLAN_CONCURRENCY) {
        put_num(b, r->max);
        buf_putc(b, ' ');
        put_num(b, r->lease_ms);
        buf_append(b, " 0 1", 4);
    } else {
        put_num(b, r->count);
        buf_putc(b, ' ');
        put_num(b, r->window_ms);
        buf_putc(b, ' ');
        put_num(b, r->burst);
        buf_putc(b, ' ');
        put_num(b, r->cost);
    }
    if (r->method) {
        buf_putc(b, ' ');
        buf_puts(b, r->method);
        buf_putc(b, ' ');
        buf_puts(b, r->route);
        buf_putc(b, '\n');
    } else {
        buf_append(b, " - -\n", 5);
    }
}

void redis_config_tenant(const rl_ruleset *rs, const rl_tenant *t, const char *script_sha,
                         int64_t now_ms, redis_cmds *cmds,
                         char version[REDIS_CONFIG_VERSION_LEN + 1])
{
    /* Fields: "m" = "<format> <c|s> <skew_ms>", then "s" + "/<subject>" per
     * subject with rules, in byte order; rules keep their (sorted) order.
     * Rules come sorted by (depth, subject, id), so a subject's rules are
     * contiguous: subjects[f] is the index of the first rule of each. */
    size_t nf = 0;
    size_t *first = xmalloc((t->nrules + 1) * sizeof *first);
    for (size_t i = 0; i < t->nrules; i++)
        if (i == 0 || strcmp(t->rules[i].subject, t->rules[i - 1].subject) != 0)
            first[nf++] = i;
    /* Byte order of the subjects (few per tenant: insertion sort). */
    for (size_t i = 1; i < nf; i++)
        for (size_t j = i; j > 0 && strcmp(t->rules[first[j - 1]].subject,
                                          t->rules[first[j]].subject) > 0; j--) {
            size_t tmp = first[j];
            first[j] = first[j - 1];
            first[j - 1] = tmp;
        }

    /* Every field and value in one buffer, each followed by its NUL: the
     * version is the SHA-256 of exactly "field\0value\0..." in order. */
    size_t nv = 2 * (nf + 1);
    size_t *off = xmalloc((nv + 1) * sizeof *off);
    buf all;
    buf_init(&all, BUF_DEFAULT_MAX);
    off[0] = all.len;
    buf_append(&all, "m", 2);
    off[1] = all.len;
    buf_printf(&all, "%d %c %lld", REDIS_CONFIG_FORMAT, rs->client_time ? 'c' : 's',
               (long long)rs->skew_ms);
    buf_putc(&all, '\0');
    for (size_t f = 0; f < nf; f++) {
        const char *subj = t->rules[first[f]].subject;
        off[2 + 2 * f] = all.len;
        buf_putc(&all, 's');
        if (*subj) {
            buf_putc(&all, '/');
            buf_puts(&all, subj);
        }
        buf_putc(&all, '\0');
        off[3 + 2 * f] = all.len;
        for (size_t i = first[f]; i < t->nrules && !strcmp(t->rules[i].subject, subj); i++)
            put_rule(&all, &t->rules[i]);
        buf_putc(&all, '\0');
    }
    off[nv] = all.len;
    char hex[DIGEST_HEX_LEN + 1];
    if (!buf_ok(&all) || !digest_sha256_hex(all.data, all.len, hex))
        abort();
    memcpy(version, hex, REDIS_CONFIG_VERSION_LEN);
    version[REDIS_CONFIG_VERSION_LEN] = '\0';

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
    buf_free(&all);
    free(tag);
    free(lens);
    free(argv);
    free(off);
    free(first);
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
