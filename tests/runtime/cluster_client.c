/* cluster_client.c - tests of the Redis Cluster client against a real 6-node
 * cluster started by tests/suites/cluster.sh (start_redis_cluster).  Not a
 * cmocka binary: it needs the cluster, so the suite runs it with the ports
 * and it prints "ok - NAME" / "not ok - NAME: why" lines.
 *
 *   cluster_client PORT...      (any node works as the seed) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "digest.h"
#include "plan_key.h"
#include "redis_cluster.h"

static int failures;

static void report(bool ok, const char *name, const char *why)
{
    if (ok)
        printf("ok - %s\n", name);
    else {
        printf("not ok - %s: %s\n", name, why);
        failures++;
    }
}

/* A plain connection to one node, for setting up migrations behind the
 * client's back and for looking at what each node really holds. */
static redisContext *raw(int port)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        fprintf(stderr, "cannot connect to %d\n", port);
        exit(1);
    }
    return c;
}

static char *node_id(int port)
{
    redisContext *c = raw(port);
    redisReply *r = redisCommand(c, "CLUSTER MYID");
    char *id = strdup(r->str);
    freeReplyObject(r);
    redisFree(c);
    return id;
}

static long long raw_int(int port, const char *cmd)
{
    redisContext *c = raw(port);
    redisReply *r = redisCommand(c, cmd);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

static void raw_cmd(int port, const char *fmt, const char *a, const char *b)
{
    redisContext *c = raw(port);
    redisReply *r = redisCommand(c, fmt, a, b);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "port %d: %s %s %s: %s\n", port, fmt, a, b, r ? r->str : c->errstr);
        exit(1);
    }
    freeReplyObject(r);
    redisFree(c);
}

static redisReply *scmd(rstore *s, rerr *e, const char *a0, const char *a1, const char *a2)
{
    const char *argv[3] = {a0, a1, a2};
    return rstore_cmd(s, a1, strlen(a1), a2 ? 3 : 2, argv, NULL, e);
}

/* Finds a key with the given prefix whose slot is served by node index want
 * (or any when want < 0), writes it to out. */
static unsigned key_on(rstore *s, const char *prefix, int want, char *out, size_t n)
{
    for (int i = 0;; i++) {
        snprintf(out, n, "%s%d", prefix, i);
        unsigned sl = plan_key_slot(out, strlen(out));
        if (want < 0 || s->slot_node[sl] == want)
            return sl;
    }
}

static int primary_port(rstore *s, int skip_index, int *index)
{
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].primary && (int)i != skip_index) {
            *index = (int)i;
            return s->nodes[i].port;
        }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: cluster_client PORT...\n");
        return 2;
    }
    char url[64], why[2048];
    snprintf(url, sizeof url, "redis://127.0.0.1:%s", argv[argc - 1]);
    rurl u;
    rerr e = {0};
    rurl_parse(url, false, &u, &e);
    rstore *s = rstore_open(&u, NULL, &e);
    report(s && s->cluster, "cluster detected and slot map loaded", e.msg);
    if (!s)
        return 1;
    size_t prim = 0, covered = 0;
    for (size_t i = 0; i < s->nnodes; i++)
        prim += s->nodes[i].primary;
    for (size_t i = 0; i < RSTORE_SLOTS; i++)
        covered += s->slot_node[i] != 0xFFFF;
    snprintf(why, sizeof why, "%zu primaries, %zu of 16384 slots, %zu nodes", prim, covered,
             s->nnodes);
    report(prim == 3 && covered == RSTORE_SLOTS, "three primaries cover every slot", why);

    /* Keys on every primary, read back through the client and directly. */
    bool ok = true;
    for (int k = 0; k < 60 && ok; k++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "k:%d", k);
        snprintf(val, sizeof val, "v%d", k);
        redisReply *r = scmd(s, &e, "SET", key, val);
        ok = r && rreply_is(r, "OK");
        if (r)
            freeReplyObject(r);
        size_t nd = rstore_key_node(s, key, strlen(key));
        redisContext *c = raw(s->nodes[nd].port);
        r = redisCommand(c, "GET %s", key);
        ok = ok && r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, val);
        freeReplyObject(r);
        redisFree(c);
    }
    report(ok && s->redirects == 0, "commands routed to the slot owner without redirection",
           e.msg);

    /* MOVED: migrate a slot from A to B behind the client's back. */
    int ia = -1, ib = -1;
    int pa = primary_port(s, -1, &ia), pb = primary_port(s, ia, &ib);
    char key[64];
    unsigned slot = key_on(s, "moved:", ia, key, sizeof key);
    redisReply *r = scmd(s, &e, "SET", key, "before");
    freeReplyObject(r);
    char *ida = node_id(pa), *idb = node_id(pb), sl[16];
    snprintf(sl, sizeof sl, "%u", slot);
    raw_cmd(pb, "CLUSTER SETSLOT %s IMPORTING %s", sl, ida);
    raw_cmd(pa, "CLUSTER SETSLOT %s MIGRATING %s", sl, idb);
    {
        redisContext *c = raw(pa);
        char port[16];
        snprintf(port, sizeof port, "%d", pb);
        redisReply *m = redisCommand(c, "MIGRATE 127.0.0.1 %s %s 0 5000", port, key);
        if (!m || m->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "MIGRATE: %s\n", m ? m->str : c->errstr);
            return 1;
        }
        freeReplyObject(m);
        redisFree(c);
    }
    /* The new owner first, then the old, then the rest, as Redis's
     * cluster tutorial orders it. */
    raw_cmd(pb, "CLUSTER SETSLOT %s NODE %s", sl, idb);
    raw_cmd(pa, "CLUSTER SETSLOT %s NODE %s", sl, idb);
    for (int i = 1; i < argc; i++) {
        int p = atoi(argv[i]);
        if (p == pa || p == pb)
            continue;
        redisContext *c = raw(p);
        redisReply *m = redisCommand(c, "CLUSTER SETSLOT %s NODE %s", sl, idb);
        freeReplyObject(m);
        redisFree(c);
    }
    unsigned long red0 = s->redirects;
    r = scmd(s, &e, "GET", key, NULL);
    snprintf(why, sizeof why, "reply %s, redirects %lu, slot owner %d (want %d): %s",
             r && r->type == REDIS_REPLY_STRING ? r->str : "(none)", s->redirects - red0,
             s->slot_node[slot], ib, e.msg);
    report(r && rreply_is(r, "before") && s->redirects > red0 && s->slot_node[slot] == ib,
           "MOVED after a slot migration: map updated, command retried", why);
    if (r)
        freeReplyObject(r);
    red0 = s->redirects;
    r = scmd(s, &e, "GET", key, NULL);
    report(r && rreply_is(r, "before") && s->redirects == red0,
           "after MOVED the next command goes straight to the new owner", e.msg);
    if (r)
        freeReplyObject(r);

    /* ASK: a slot half-way through a migration; a key not yet on A is asked
     * for on B, and the map keeps saying A. */
    char k2[64], k3[64], tag[32];
    unsigned slot2 = key_on(s, "asktag", ia, tag, sizeof tag);
    snprintf(k2, sizeof k2, "{%s}:old", tag);
    snprintf(k3, sizeof k3, "{%s}:new", tag);
    r = scmd(s, &e, "SET", k2, "on-a");
    freeReplyObject(r);
    snprintf(sl, sizeof sl, "%u", slot2);
    raw_cmd(pb, "CLUSTER SETSLOT %s IMPORTING %s", sl, ida);
    raw_cmd(pa, "CLUSTER SETSLOT %s MIGRATING %s", sl, idb);
    red0 = s->redirects;
    r = scmd(s, &e, "SET", k3, "on-b");
    bool set_ok = r && rreply_is(r, "OK");
    if (r)
        freeReplyObject(r);
    redisContext *cb = raw(pb);
    redisReply *a = redisCommand(cb, "ASKING");
    freeReplyObject(a);
    a = redisCommand(cb, "GET %s", k3);
    bool on_b = a && a->type == REDIS_REPLY_STRING && !strcmp(a->str, "on-b");
    freeReplyObject(a);
    snprintf(why, sizeof why, "set %d, on B %d, redirects %lu, owner %d (want %d)", set_ok, on_b,
             s->redirects - red0, s->slot_node[slot2], ia);
    report(set_ok && on_b && s->redirects > red0 && s->slot_node[slot2] == ia,
           "ASK during a migration: ASKING + retry on the target, map unchanged", why);
    r = scmd(s, &e, "GET", k2, NULL);
    report(r && rreply_is(r, "on-a"), "a key still on the migrating node is read there", e.msg);
    if (r)
        freeReplyObject(r);

    /* Pipelines: one per node, overlapped batches; keys in the migrating
     * slot get ASK replies and are retried. */
    long long before[RSTORE_MAX_NODES] = {0};
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].primary)
            before[i] = raw_int(s->nodes[i].port, "DBSIZE");
    rpipe *p = rpipe_new(s);
    enum { N = 5000 };
    for (int i = 0; i < N; i++) {
        char k[64], v[32];
        if (i % 500 == 7)
            snprintf(k, sizeof k, "{%s}:p%d", tag, i);   /* migrating slot: ASK */
        else
            snprintf(k, sizeof k, "p:%d", i);
        snprintf(v, sizeof v, "%d", i);
        const char *av[3] = {"SET", k, v};
        rpipe_add(p, k, strlen(k), 3, av, NULL);
    }
    red0 = s->redirects;
    bool pok = rpipe_exec(p, &e) && rpipe_first_error(p) == (size_t)-1;
    int spread = 0;
    long long added = 0;
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].primary) {
            long long d = raw_int(s->nodes[i].port, "DBSIZE") - before[i];
            spread += d > 0;
            added += d;
        }
    snprintf(why, sizeof why, "exec %d, %d primaries got keys, %lld keys added, %lu redirects: %s",
             pok, spread, added, s->redirects - red0, e.msg);
    report(pok && spread == 3 && added == N && s->redirects - red0 == N / 500,
           "pipeline of 5000 SETs split per node, ASK replies retried", why);
    rpipe_free(p);

    /* A command on every primary (how the enforcement library is loaded). */
    const char *sl_argv[3] = {"SCRIPT", "LOAD", "return 'rlc-cluster-test'"};
    ok = rstore_on_primaries(s, 3, sl_argv, NULL, &e);
    char sha[41];
    digest_sha1_hex(sl_argv[2], strlen(sl_argv[2]), sha);
    int have = 0;
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].primary) {
            redisContext *c = raw(s->nodes[i].port);
            redisReply *x = redisCommand(c, "SCRIPT EXISTS %s", sha);
            have += x && x->type == REDIS_REPLY_ARRAY && x->elements == 1 &&
                    x->element[0]->integer == 1;
            freeReplyObject(x);
            redisFree(c);
        }
    report(ok && have == 3, "a command runs on every primary", e.msg);

    redisFree(cb);
    free(ida);
    free(idb);
    rstore_close(s);

    /* A node that is gone: a transport error value, not a crash. */
    rurl dead;
    rurl_parse("redis://127.0.0.1:1", false, &dead, &e);
    rstore *d = rstore_open(&dead, NULL, &e);
    report(!d && e.code == DIAG_STORE_CONNECT, "unreachable seed gives RLC3151", e.msg);
    return failures ? 1 : 0;
}
