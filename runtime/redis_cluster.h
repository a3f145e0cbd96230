/* redis_cluster.h - a Redis store: one standalone node or a Redis Cluster,
 * behind one interface so the executor never cares which.
 *
 * Cluster support (no cluster client is packaged for hiredis 0.14): the slot
 * map from CLUSTER SLOTS, each key's slot by plan_key_slot (the {hash tag}
 * rule), MOVED (refresh the map, retry), ASK (ASKING + retry on the target,
 * map unchanged), TRYAGAIN and CLUSTERDOWN (back off, retry, bounded), one
 * connection and one pipeline per node.  Replicas are connected lazily, only
 * for per-node checks (TIME, INFO).  Not here: reading from replicas,
 * pub/sub, transactions spanning slots. */
#ifndef RLC_REDIS_CLUSTER_H
#define RLC_REDIS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan_key.h"
#include "buf.h"
#include "redis_conn.h"

#define RSTORE_SLOTS PLAN_KEY_SLOTS
#define RSTORE_MAX_NODES 256
#define RSTORE_MAX_REDIRECTS 16

typedef struct rnode {
    char host[256];
    int port;
    bool primary;
    char id[48];           /* cluster node id, "" standalone */
    rconn *c;              /* NULL until first used */
    char *info;            /* a standalone seed's INFO from rstore_open, until
                              rstore_take_info hands it on; else NULL */
} rnode;

typedef struct rstore {
    bool cluster;
    rurl url;              /* the seed */
    rconn_opts opts;
    rnode nodes[RSTORE_MAX_NODES];
    size_t nnodes;
    uint16_t slot_node[RSTORE_SLOTS];  /* node index per slot, 0xFFFF unknown */
    unsigned long redirects;           /* MOVED + ASK seen (for tests/diagnostics) */
    unsigned long map_refreshes;
} rstore;

/* Connects to the seed node; detects cluster mode (INFO cluster) and loads
 * the slot map.  Returns NULL with e filled on failure.  opts' user/pass are
 * copied (taken from url when opts has none); every node is reached with
 * url's TLS settings unless opts names others. */
rstore *rstore_open(const rurl *url, const rconn_opts *opts, rerr *e);
void rstore_close(rstore *s);    /* accepts NULL */
/* Adds every healthy node that CLUSTER NODES lists (replicas that CLUSTER
 * SLOTS does not show yet included), so that preflight reaches them all. */
bool rstore_add_all_nodes(rstore *s, rerr *e);

/* The connection to node i, connecting on first use. */
rconn *rstore_node_conn(rstore *s, size_t i, rerr *e);
/* Node i's INFO text as rstore_open read it (a standalone store's seed),
 * now the caller's to free; NULL when there is none or it was taken. */
char *rstore_take_info(rstore *s, size_t i);
/* Index of the primary serving key's slot (standalone: 0). */
size_t rstore_key_node(rstore *s, const char *key, size_t n);

/* Runs a command on the node owning key (keyless commands: key NULL, runs on
 * the first primary), following MOVED/ASK/TRYAGAIN/CLUSTERDOWN.  Returns the
 * reply (freeReplyObject) — error replies other than redirections are
 * returned as replies — or NULL on a transport failure or too many
 * redirections (e filled). */
redisReply *rstore_cmd(rstore *s, const char *key, size_t keylen, int argc, const char **argv,
                       const size_t *lens, rerr *e);
/* Runs a command on every primary (FUNCTION LOAD, SCRIPT LOAD).  Fails on the
 * first transport failure or error reply (e names the node). */
bool rstore_on_primaries(rstore *s, int argc, const char **argv, const size_t *lens, rerr *e);

/* A batch of commands, each routed by its key, sent as one pipeline per
 * node with overlapped batches (queue batch k+1 before reading batch k).
 * Redirected commands are retried one by one afterwards, in order. */
typedef struct rpipe rpipe;
rpipe *rpipe_new(rstore *s);
void rpipe_free(rpipe *p);       /* accepts NULL; frees replies too */
/* Queues a command (arguments copied).  key selects the node. */
bool rpipe_add(rpipe *p, const char *key, size_t keylen, int argc, const char **argv,
               const size_t *lens);
/* Commands already in RESP: the caller appends their bytes to
 * rpipe_text(p) (owned by p) and queues each with rpipe_add_resp, off
 * where its bytes start there and len their length.  A first deploy's
 * configs are encoded straight into the pipeline that sends them. */
buf *rpipe_text(rpipe *p);
bool rpipe_add_resp(rpipe *p, const char *key, size_t keylen, size_t off, size_t len);
size_t rpipe_count(const rpipe *p);
/* Sends everything.  Returns false on a transport failure (e filled).  On
 * success every command has a reply (rpipe_reply), possibly an error reply. */
bool rpipe_exec(rpipe *p, rerr *e);
/* rpipe_exec in two halves, for work that overlaps the servers': send
 * writes every command out and reads nothing; collect then reads every
 * reply (and retries redirections), as rpipe_exec does.  Pipelines sent
 * are collected in the order they were sent, and no other command goes to
 * their nodes in between. */
bool rpipe_send(rpipe *p, rerr *e);
bool rpipe_collect(rpipe *p, rerr *e);
const redisReply *rpipe_reply(const rpipe *p, size_t i);
/* Index of the first error reply, or (size_t)-1. */
size_t rpipe_first_error(const rpipe *p);

#endif
