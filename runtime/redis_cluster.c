/* redis_cluster.c - standalone or Redis Cluster store.  See redis_cluster.h.
 *
 * Every command, single or pipelined, goes through run_resp(): the command
 * is formatted to RESP once, then sent to the node owning its slot, and the
 * redirection replies are handled there, in one place. */
#include "redis_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan_key.h"
#include "buf.h"
#include "xalloc.h"

#define NO_NODE 0xFFFF
#define PIPE_BATCH 1024

/* --- nodes and the slot map ------------------------------------------------ */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static size_t find_or_add_node(rstore *s, const char *host, int port, rerr *e)
{
    if (!host[0])
        host = s->url.host;   /* Redis 7 may announce an empty endpoint */
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].port == port && !strcmp(s->nodes[i].host, host))
            return i;
    if (s->nnodes >= RSTORE_MAX_NODES) {
        rerr_set(e, DIAG_CLUSTER_STATE, "more than %d cluster nodes (limit)", RSTORE_MAX_NODES);
        return NO_NODE;
    }
    rnode *nd = &s->nodes[s->nnodes];
    memset(nd, 0, sizeof *nd);
    snprintf(nd->host, sizeof nd->host, "%s", host);
    nd->port = port;
    return s->nnodes++;
}

rconn *rstore_node_conn(rstore *s, size_t i, rerr *e)
{
    if (i >= s->nnodes) {
        rerr_set(e, DIAG_CLUSTER_STATE, "no node serves this slot");
        return NULL;
    }
    if (!s->nodes[i].c)
        s->nodes[i].c = rconn_open(s->nodes[i].host, s->nodes[i].port, &s->opts, e);
    return s->nodes[i].c;
}

static bool load_slots(rstore *s, const redisReply *r, rerr *e)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return rerr_set(e, DIAG_CLUSTER_STATE, "CLUSTER SLOTS returned no slot ranges");
    for (size_t i = 0; i < s->nnodes; i++)
        s->nodes[i].primary = false;
    for (size_t i = 0; i < RSTORE_SLOTS; i++)
        s->slot_node[i] = NO_NODE;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *rg = r->element[i];
        if (rg->type != REDIS_REPLY_ARRAY || rg->elements < 3 ||
            rg->element[0]->type != REDIS_REPLY_INTEGER ||
            rg->element[1]->type != REDIS_REPLY_INTEGER)
            return rerr_set(e, DIAG_CLUSTER_STATE, "malformed CLUSTER SLOTS reply");
        long long lo = rg->element[0]->integer, hi = rg->element[1]->integer;
        if (lo < 0 || hi >= RSTORE_SLOTS || lo > hi)
            return rerr_set(e, DIAG_CLUSTER_STATE, "CLUSTER SLOTS range %lld-%lld invalid", lo,
                            hi);
        for (size_t k = 2; k < rg->elements; k++) {
            const redisReply *nr = rg->element[k];
            if (nr->type != REDIS_REPLY_ARRAY || nr->elements < 2 ||
                nr->element[0]->type != REDIS_REPLY_STRING ||
                nr->element[1]->type != REDIS_REPLY_INTEGER)
                return rerr_set(e, DIAG_CLUSTER_STATE, "malformed node in CLUSTER SLOTS");
            size_t ni = find_or_add_node(s, nr->element[0]->str, (int)nr->element[1]->integer, e);
            if (ni == NO_NODE)
                return false;
            if (nr->elements >= 3 && nr->element[2]->type == REDIS_REPLY_STRING)
                snprintf(s->nodes[ni].id, sizeof s->nodes[ni].id, "%s", nr->element[2]->str);
            if (k == 2) {
                s->nodes[ni].primary = true;
                for (long long sl = lo; sl <= hi; sl++)
                    s->slot_node[sl] = (uint16_t)ni;
            }
        }
    }
    s->map_refreshes++;
    return true;
}

/* Reloads the slot map from any reachable node (cluster only). */
static bool rstore_refresh(rstore *s, rerr *e)
{
    if (!s->cluster)
        return true;
    rerr last = {0};
    /* Connected nodes first: a refresh usually follows a MOVED from one. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < s->nnodes; i++) {
            if ((pass == 0) != (s->nodes[i].c != NULL))
                continue;
            rconn *c = rstore_node_conn(s, i, &last);
            if (!c)
                continue;
            redisReply *r = rconn_cmdf(c, &last, "CLUSTER SLOTS");
            if (!r)
                continue;
            bool ok = r->type != REDIS_REPLY_ERROR && load_slots(s, r, &last);
            if (r->type == REDIS_REPLY_ERROR)
                rerr_set(&last, DIAG_CLUSTER_STATE, "CLUSTER SLOTS: %s", r->str);
            freeReplyObject(r);
            if (ok)
                return true;
        }
    if (e)
        *e = last;
    if (!last.code)
        rerr_set(e, DIAG_CLUSTER_STATE, "no cluster node reachable for CLUSTER SLOTS");
    return false;
}

bool rstore_add_all_nodes(rstore *s, rerr *e)
{
    if (!s->cluster || !s->nnodes)
        return true;
    rconn *c = rstore_node_conn(s, 0, e);
    if (!c)
        return false;
    redisReply *r = rconn_cmdf(c, e, "CLUSTER NODES");
    if (!r)
        return false;
    if (r->type != REDIS_REPLY_STRING) {
        rerr_set(e, DIAG_CLUSTER_STATE, "CLUSTER NODES: %s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        freeReplyObject(r);
        return false;
    }
    /* One line per node: "<id> <ip:port@cport[,host]> <flags> ...".  Nodes
     * flagged fail, noaddr or handshake are not part of the cluster's
     * serving state; CLUSTER INFO reports a failed primary anyway. */
    bool ok = true;
    for (char *line = r->str; ok && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char id[48], addr[300], flags[128];
        if (sscanf(line, "%47s %299s %127s", id, addr, flags) == 3 && !strstr(flags, "fail") &&
            !strstr(flags, "noaddr") && !strstr(flags, "handshake")) {
            char *at = strchr(addr, '@');
            if (at)
                *at = '\0';
            char *colon = strrchr(addr, ':');
            if (colon) {
                *colon = '\0';
                int port = atoi(colon + 1);
                if (port > 0) {
                    size_t ni = find_or_add_node(s, addr, port, e);
                    if (ni == NO_NODE)
                        ok = false;
                    else if (!s->nodes[ni].id[0])
                        snprintf(s->nodes[ni].id, sizeof s->nodes[ni].id, "%s", id);
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    freeReplyObject(r);
    return ok;
}

rstore *rstore_open(const rurl *url, const rconn_opts *opts, rerr *e)
{
    rstore *s = xcalloc(1, sizeof *s);
    s->url = *url;
    if (opts)
        s->opts = *opts;
    if (!s->opts.user || !s->opts.user[0])
        s->opts.user = s->url.user;
    if (!s->opts.pass || !s->opts.pass[0])
        s->opts.pass = s->url.pass;
    if (!s->opts.db)
        s->opts.db = s->url.db;
    /* Every node, the ones redirections lead to included, is reached the
     * way the seed is: over TLS with the same settings. */
    if (!s->opts.tls)
        s->opts.tls = &s->url.tls;
    size_t seed = find_or_add_node(s, url->host, url->port, e);
    rconn *c = rstore_node_conn(s, seed, e);
    if (!c)
        goto fail;
    /* The whole INFO (its cluster section says whether this is a cluster)
     * rather than INFO cluster: a deploy's preflight reads the rest of it
     * next, one round trip less (rstore_take_info). */
    redisReply *r = rconn_cmdf(c, e, "INFO");
    if (!r)
        goto fail;
    if (r->type == REDIS_REPLY_ERROR) {
        rerr_set(e, DIAG_STORE_REPLY, "%s:%d: INFO: %s", url->host, url->port, r->str);
        freeReplyObject(r);
        goto fail;
    }
    s->cluster = r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_enabled:1");
    if (!s->cluster) {
        s->nodes[seed].primary = true;
        if (r->type == REDIS_REPLY_STRING)
            s->nodes[seed].info = xstrdup(r->str);
        freeReplyObject(r);
        memset(s->slot_node, 0, sizeof s->slot_node);
        return s;
    }
    freeReplyObject(r);
    if (s->opts.db) {
        rerr_set(e, DIAG_STORE_URL, "Redis Cluster has only database 0");
        goto fail;
    }
    if (rstore_refresh(s, e))
        return s;
fail:
    rstore_close(s);
    return NULL;
}

void rstore_close(rstore *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++) {
        rconn_close(s->nodes[i].c);
        free(s->nodes[i].info);
    }
    memset(s->url.pass, 0, sizeof s->url.pass);
    memset(s->url.tls.key_pass, 0, sizeof s->url.tls.key_pass);
    free(s);
}

char *rstore_take_info(rstore *s, size_t i)
{
    char *info = s->nodes[i].info;
    s->nodes[i].info = NULL;
    return info;
}

size_t rstore_key_node(rstore *s, const char *key, size_t n)
{
    if (!s->cluster)
        return 0;
    return s->slot_node[plan_key_slot(key, n)];
}

static size_t first_primary(const rstore *s)
{
    for (size_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].primary)
            return i;
    return NO_NODE;
}

/* --- one command, with redirections ---------------------------------------- */

static bool parse_redirect(const char *err, int *slot, char *host, size_t hn, int *port)
{
    /* "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381" */
    const char *sp = strchr(err, ' ');
    if (!sp)
        return false;
    *slot = atoi(sp + 1);
    const char *addr = strchr(sp + 1, ' ');
    if (!addr)
        return false;
    addr++;
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= hn)
        return false;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    *port = atoi(colon + 1);
    return *port > 0;
}

static bool is_prefix(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

static bool is_redirect(const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ERROR)
        return false;
    return is_prefix(r->str, "MOVED ") || is_prefix(r->str, "ASK ") ||
           is_prefix(r->str, "TRYAGAIN") || is_prefix(r->str, "CLUSTERDOWN");
}

static redisReply *send_one(rconn *c, const char *resp, size_t len, bool asking, rerr *e)
{
    static const char asking_cmd[] = "*1\r\n$6\r\nASKING\r\n";
    if (asking && !rconn_append(c, asking_cmd, sizeof asking_cmd - 1, e))
        return NULL;
    if (!rconn_append(c, resp, len, e))
        return NULL;
    if (asking) {
        redisReply *a = rconn_read(c, e);
        if (!a)
            return NULL;
        freeReplyObject(a);
    }
    return rconn_read(c, e);
}

/* Runs a formatted command for slot (-1: keyless, first primary), following
 * redirections.  first is the reply already received from the first try
 * (pipelines), or NULL to send it now. */
static redisReply *run_resp(rstore *s, int slot, const char *resp, size_t len,
                            redisReply *first, rerr *e)
{
    size_t node = slot < 0 ? first_primary(s) : s->slot_node[slot];
    bool asking = false;
    redisReply *r = first;
    for (int attempt = 0; attempt <= RSTORE_MAX_REDIRECTS; attempt++) {
        if (!r) {
            if (node == NO_NODE && (!rstore_refresh(s, e) ||
                                    (node = slot < 0 ? first_primary(s) : s->slot_node[slot]) ==
                                        NO_NODE)) {
                rerr_set(e, DIAG_CLUSTER_STATE, "slot %d is not served by any node", slot);
                return NULL;
            }
            rconn *c = rstore_node_conn(s, node, e);
            if (!c)
                return NULL;
            r = send_one(c, resp, len, asking, e);
            if (!r)
                return NULL;
        }
        if (!is_redirect(r))
            return r;
        asking = false;
        char host[256];
        int rslot, port;
        if (is_prefix(r->str, "MOVED ") || is_prefix(r->str, "ASK ")) {
            bool ask = r->str[0] == 'A';
            if (!parse_redirect(r->str, &rslot, host, sizeof host, &port)) {
                rerr_set(e, DIAG_STORE_REPLY, "cannot parse redirection '%s'", r->str);
                freeReplyObject(r);
                return NULL;
            }
            s->redirects++;
            node = find_or_add_node(s, host, port, e);
            if (node == NO_NODE) {
                freeReplyObject(r);
                return NULL;
            }
            if (ask) {
                asking = true;   /* one-shot: the map stays as it is */
            } else {
                rerr tmp;
                rstore_refresh(s, &tmp);   /* best effort: more slots likely moved */
                /* The redirection is newer than a map read from a node
                 * that may not have heard of the move yet. */
                if (rslot >= 0 && rslot < RSTORE_SLOTS)
                    s->slot_node[rslot] = (uint16_t)node;
                s->nodes[node].primary = true;
                if (slot >= 0 && s->slot_node[slot] != NO_NODE)
                    node = s->slot_node[slot];
                /* Redirected again and again: the nodes disagree while a
                 * move propagates over the cluster bus; give it time. */
                if (attempt >= 2) {
                    int wait = 10 * (attempt - 1);
                    sleep_ms(wait > 200 ? 200 : wait);
                }
            }
        } else {
            /* TRYAGAIN (multi-key op during migration) or CLUSTERDOWN:
             * back off, then retry with a fresh map. */
            int wait = 20 * (attempt + 1);
            sleep_ms(wait > 500 ? 500 : wait);
            if (is_prefix(r->str, "CLUSTERDOWN")) {
                rerr tmp;
                rstore_refresh(s, &tmp);
                node = slot < 0 ? first_primary(s) : s->slot_node[slot];
            }
        }
        if (attempt == RSTORE_MAX_REDIRECTS) {
            rerr_set(e, DIAG_CLUSTER_REDIRECT, "still redirected after %d tries: %s",
                     RSTORE_MAX_REDIRECTS, r->str);
            freeReplyObject(r);
            return NULL;
        }
        freeReplyObject(r);
        r = NULL;
    }
    return NULL;
}

redisReply *rstore_cmd(rstore *s, const char *key, size_t keylen, int argc, const char **argv,
                       const size_t *lens, rerr *e)
{
    char *resp = NULL;
    size_t len = rconn_format(&resp, argc, argv, lens);
    int slot = key && s->cluster ? (int)plan_key_slot(key, keylen) : (key ? 0 : -1);
    redisReply *r = run_resp(s, slot, resp, len, NULL, e);
    free(resp);
    return r;
}

bool rstore_on_primaries(rstore *s, int argc, const char **argv, const size_t *lens, rerr *e)
{
    size_t n = s->nnodes;
    for (size_t i = 0; i < n; i++) {
        if (!s->nodes[i].primary)
            continue;
        rconn *c = rstore_node_conn(s, i, e);
        if (!c)
            return false;
        redisReply *r = rconn_cmd(c, e, argc, argv, lens);
        if (!r)
            return false;
        if (r->type == REDIS_REPLY_ERROR) {
            rerr_set(e, DIAG_STORE_REPLY, "%s:%d: %s: %s", s->nodes[i].host, s->nodes[i].port,
                     argv[0], r->str);
            freeReplyObject(r);
            return false;
        }
        freeReplyObject(r);
    }
    return true;
}

/* --- pipelines ------------------------------------------------------------- */

typedef struct pcmd {
    char *resp;                /* owned, or in the pipeline's text (in_text) */
    size_t len;
    bool in_text;
    size_t off;                /* in_text: where it starts in p->text */
    int slot;
    size_t node;
    bool sent;                 /* written by rpipe_send: its reply is awaited */
    redisReply *reply;
} pcmd;

struct rpipe {
    rstore *s;
    pcmd *cmds;
    size_t n, cap;
    buf text;                  /* commands given in RESP (rpipe_add_resp) */
};

rpipe *rpipe_new(rstore *s)
{
    rpipe *p = xcalloc(1, sizeof *p);
    p->s = s;
    buf_init(&p->text, BUF_DEFAULT_MAX);
    return p;
}

/* Points the commands given in RESP at their bytes, once no more are
 * added (the text may have moved while it grew). */
static void text_fix(rpipe *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->cmds[i].in_text)
            p->cmds[i].resp = p->text.data + p->cmds[i].off;
}

void rpipe_free(rpipe *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (!p->cmds[i].in_text)
            free(p->cmds[i].resp);
        if (p->cmds[i].reply)
            freeReplyObject(p->cmds[i].reply);
    }
    free(p->cmds);
    buf_free(&p->text);
    free(p);
}

/* The pipeline's next command, zeroed, with the slot of key (0 outside a
 * cluster, -1 without a key). */
static pcmd *next_cmd(rpipe *p, const char *key, size_t keylen)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        p->cmds = xreallocarray(p->cmds, nc, sizeof *p->cmds);
        p->cap = nc;
    }
    pcmd *c = &p->cmds[p->n++];
    memset(c, 0, sizeof *c);
    c->slot = key && p->s->cluster ? (int)plan_key_slot(key, keylen) : (key ? 0 : -1);
    return c;
}

bool rpipe_add(rpipe *p, const char *key, size_t keylen, int argc, const char **argv,
               const size_t *lens)
{
    pcmd *c = next_cmd(p, key, keylen);
    c->len = rconn_format(&c->resp, argc, argv, lens);
    return true;
}

buf *rpipe_text(rpipe *p) { return &p->text; }

bool rpipe_add_resp(rpipe *p, const char *key, size_t keylen, size_t off, size_t len)
{
    if (!buf_ok(&p->text) || off + len > p->text.len)
        return false;
    pcmd *c = next_cmd(p, key, keylen);
    c->in_text = true;
    c->off = off;
    c->len = len;
    return true;
}

size_t rpipe_count(const rpipe *p) { return p->n; }
const redisReply *rpipe_reply(const rpipe *p, size_t i) { return i < p->n ? p->cmds[i].reply : NULL; }

size_t rpipe_first_error(const rpipe *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (!p->cmds[i].reply || p->cmds[i].reply->type == REDIS_REPLY_ERROR)
            return i;
    return (size_t)-1;
}

/* Redirected or unrouted commands, one by one, in the original order. */
static bool retry_redirected(rpipe *p, rerr *e)
{
    for (size_t i = 0; i < p->n; i++) {
        pcmd *c = &p->cmds[i];
        if (c->reply && !is_redirect(c->reply))
            continue;
        redisReply *first = c->reply;
        c->reply = NULL;
        c->reply = run_resp(p->s, c->slot, c->resp, c->len, first, e);
        if (!c->reply)
            return false;
    }
    return true;
}

bool rpipe_send(rpipe *p, rerr *e)
{
    rstore *s = p->s;
    size_t fp = first_primary(s);
    bool *used = xcalloc(s->nnodes + 1, sizeof *used);
    bool ok = false;
    text_fix(p);
    for (size_t i = 0; i < p->n;) {
        pcmd *c = &p->cmds[i];
        c->node = c->slot < 0 ? fp : s->slot_node[c->slot];
        if (c->node == NO_NODE) {
            i++;
            continue;   /* unknown slot: rpipe_collect runs it alone */
        }
        /* The commands after it for the same node whose bytes follow its
         * own go in the same append: one copy of a part's text, not one
         * call per command. */
        size_t j = i + 1, len = c->len;
        for (; j < p->n; j++) {
            pcmd *d = &p->cmds[j];
            if (d->resp != c->resp + len)
                break;
            d->node = d->slot < 0 ? fp : s->slot_node[d->slot];
            if (d->node != c->node)
                break;
            len += d->len;
        }
        rconn *rc = rstore_node_conn(s, c->node, e);
        if (!rc || !rconn_append(rc, c->resp, len, e))
            goto out;
        for (size_t k = i; k < j; k++)
            p->cmds[k].sent = true;
        used[c->node] = true;
        i = j;
    }
    for (size_t k = 0; k < s->nnodes; k++)
        if (used[k] && !rconn_flush(s->nodes[k].c, e)) {
            rerr_prefix(e, "pipeline to %s:%d", s->nodes[k].host, s->nodes[k].port);
            goto out;
        }
    ok = true;
out:
    free(used);
    return ok;
}

bool rpipe_collect(rpipe *p, rerr *e)
{
    rstore *s = p->s;
    /* Each connection answers in the order it was written to, and the
     * commands of one node are in p's order: reading in p's order reads
     * every node's replies in theirs. */
    for (size_t i = 0; i < p->n; i++) {
        pcmd *c = &p->cmds[i];
        if (!c->sent)
            continue;
        c->reply = rconn_read(s->nodes[c->node].c, e);
        if (!c->reply) {
            rerr_prefix(e, "pipeline to %s:%d", s->nodes[c->node].host, s->nodes[c->node].port);
            return false;
        }
    }
    return retry_redirected(p, e);
}

bool rpipe_exec(rpipe *p, rerr *e)
{
    rstore *s = p->s;
    bool ok = false;
    text_fix(p);
    size_t nn = s->nnodes + 1;
    size_t *count = xcalloc(nn, sizeof *count), *start = xcalloc(nn + 1, sizeof *start);
    size_t *order = xmalloc((p->n ? p->n : 1) * sizeof *order);
    /* Group command indices by node, keeping their order within a node. */
    size_t fp = first_primary(s);
    for (size_t i = 0; i < p->n; i++) {
        pcmd *c = &p->cmds[i];
        c->node = c->slot < 0 ? fp : s->slot_node[c->slot];
        if (c->node == NO_NODE)
            c->node = s->nnodes;   /* unknown slot: run one by one below */
        count[c->node]++;
    }
    for (size_t k = 0; k < nn; k++)
        start[k + 1] = start[k] + count[k];
    memset(count, 0, nn * sizeof *count);
    for (size_t i = 0; i < p->n; i++) {
        size_t nd = p->cmds[i].node;
        order[start[nd] + count[nd]++] = i;
    }
    /* Overlapped batches: batch r+1 of every node is queued before the
     * replies of batch r are read, so the servers never wait for us. */
    size_t rounds = 0;
    for (size_t k = 0; k < s->nnodes; k++) {
        size_t b = (count[k] + PIPE_BATCH - 1) / PIPE_BATCH;
        if (b > rounds)
            rounds = b;
    }
    for (size_t r = 0; r <= rounds; r++) {
        for (size_t k = 0; k < s->nnodes; k++) {
            size_t lo = r * PIPE_BATCH, hi = lo + PIPE_BATCH;
            if (lo >= count[k])
                continue;
            if (hi > count[k])
                hi = count[k];
            rconn *c = rstore_node_conn(s, k, e);
            if (!c)
                goto out;
            for (size_t j = lo; j < hi; j++) {
                pcmd *pc = &p->cmds[order[start[k] + j]];
                if (!rconn_append(c, pc->resp, pc->len, e))
                    goto out;
            }
        }
        if (r == 0)
            continue;
        for (size_t k = 0; k < s->nnodes; k++) {
            size_t lo = (r - 1) * PIPE_BATCH, hi = lo + PIPE_BATCH;
            if (lo >= count[k])
                continue;
            if (hi > count[k])
                hi = count[k];
            for (size_t j = lo; j < hi; j++) {
                pcmd *pc = &p->cmds[order[start[k] + j]];
                pc->reply = rconn_read(s->nodes[k].c, e);
                if (!pc->reply) {
                    rerr_prefix(e, "pipeline to %s:%d", s->nodes[k].host, s->nodes[k].port);
                    goto out;
                }
            }
        }
    }
    ok = retry_redirected(p, e);
out:
    free(count);
    free(start);
    free(order);
    return ok;
}
