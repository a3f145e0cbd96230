/* ast.h - the syntax tree of .rlp files.  Every node lives in the
 * compilation's arena and carries the byte span of its source.  The tree is
 * exactly what was written: imports are not inlined and tiers are not
 * resolved here (compiler/ does that); fmt prints this tree back. */
#ifndef RLC_AST_H
#define RLC_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "source.h"

typedef enum ast_kind {
    AST_POLICY,       /* policy "name" { settings }            name, children=settings */
    AST_IMPORT,       /* import "path"                          name=path */
    AST_TIER,         /* tier NAME [extends NAME] { members }   name, ref=extends */
    AST_TENANT,       /* tenant "name"|* [tier NAME] { members } name, ref=tier */
    AST_GROUP,        /* group "name"|* { members } */
    AST_KEY,          /* key "name"|* { members } */
    AST_ROUTE,        /* route METHOD "path" { limits }         name=path, ref=method */
    AST_LIMIT,        /* limit N/D [burst N] [cost N] [algorithm A] [shadow] */
    AST_CONCURRENCY,  /* concurrency N [lease D] [shadow] */
    AST_ALLOW,        /* allow CODE "reason"                    name=code, ref=reason */
    AST_TARGET,       /* target KIND "name" { settings }        name, ref=kind */
    AST_SETTING,      /* NAME = value                           name, u.value */
    AST_TEST,         /* test "name" { statements } */
    AST_T_REQUEST,    /* request tenant "t" group "g" key "k" [route M "p"] [cost N] */
    AST_T_SEND,       /* send N [within D] expect allowed|rejected M */
    AST_T_WAIT,       /* wait D */
} ast_kind;

/* A name or string as written: decoded text plus where it stood. */
typedef struct ast_name {
    const char *s;    /* NULL when absent; "*" for a template */
    span sp;
    bool any;         /* written `*`: a template of every unlisted name */
} ast_name;

typedef struct ast_int {
    int64_t v;
    span sp;
    bool set;
} ast_int;

/* Duration: value in milliseconds plus the unit written, for fmt.  The
 * fields are ordered so the struct packs into 32 bytes (40 otherwise): it is
 * in every limit node, and a large policy has millions of them. */
typedef struct ast_dur {
    int64_t ms;
    int64_t n;        /* the number written */
    span sp;
    char unit[3];     /* "ms" "s" "m" "h" "d" */
    bool set;
} ast_dur;

typedef enum val_kind {
    VAL_STRING, VAL_INT, VAL_DURATION, VAL_IDENT, VAL_ENV, VAL_FILE, VAL_LIST,
    VAL_CALL          /* a call to an unknown function; rejected by checks */
} val_kind;

typedef struct ast_value {
    val_kind kind;
    span sp;
    const char *s;            /* string, ident, env/file argument, call name */
    int64_t i;                /* int */
    ast_dur dur;              /* duration */
    struct ast_value *items;  /* list elements; the argument of a call */
    struct ast_value *next;
} ast_value;

/* One segment of a test request path: tenant/group/key and its name. */
typedef struct ast_seg {
    ast_kind kind;            /* AST_TENANT, AST_GROUP or AST_KEY */
    ast_name name;
    struct ast_seg *next;
} ast_seg;

/* A byte range in the file of the node that holds it (n->sp.file): half
 * the size of a span, for the fields of the nodes a policy has millions of. */
typedef struct ast_off {
    uint32_t start, end;
} ast_off;

/* The located fields of a limit. */
enum { LIM_COUNT, LIM_WINDOW, LIM_BURST, LIM_COST, LIM_ALGO, LIM_SHADOW, LIM_NFIELDS };

/* A limit's numbers and where its fields stand, in full, and the name of an
 * algorithm the language does not know: what the compact form below cannot
 * hold is kept out of line in this. */
typedef struct ast_limit_far {
    int64_t count, burst, cost, window_ms, window_n;
    ast_off at[LIM_NFIELDS];
    const char *algo;               /* when algo is AST_ALGO_OTHER */
} ast_limit_far;

/* ast_limit.algo: none written, 1 + an index in ast_algo_names, or another
 * name (far->algo). */
#define AST_ALGO_NONE 0
#define AST_ALGO_OTHER 255

/* The fields of a `limit`, stored compactly: a 100 000-tenant policy has
 * close to a million of them, and with a full ast_int/ast_dur/ast_name per
 * field (each carrying its own file index) a limit node took 240 bytes,
 * half of what checking such a policy used; it takes 56 now (the node's
 * common fields and these 32 bytes).  The numbers are kept in 32 bits (cost
 * and the window's count in 16; its milliseconds follow from that count
 * and the unit), where each field stands as a 16-bit offset from the
 * node's start and an 8-bit length, the algorithm and the unit as a
 * number, the flags as bits.  A limit whose numbers, layout or algorithm
 * do not fit (a count of 2^40, a window of 100000ms, long comments between
 * its words, an algorithm of another name) keeps them out of line instead
 * (`far`: the pointer then overlays the count and burst, and cost,
 * window_n, off and len are unused).  Read the fields through the
 * ast_limit_*() accessors below, which give back the usual located values;
 * only the parser writes them, through ast_limit_set_*(). */
typedef struct ast_limit {
    union {
        struct {
            int32_t count, burst;
        } near;
        ast_limit_far *far;
    } v;
    int16_t cost, window_n;
    uint16_t off[LIM_NFIELDS];      /* from n->sp.start */
    uint8_t len[LIM_NFIELDS];
    uint8_t algo;                   /* AST_ALGO_NONE, 1 + index, AST_ALGO_OTHER */
    unsigned window_unit : 3;       /* index in the units "", ms, s, m, h, d */
    unsigned is_far : 1, window_set : 1, burst_set : 1, cost_set : 1, shadow : 1;
} ast_limit;
_Static_assert(sizeof(ast_limit) == 32, "a limit's fields take 32 bytes");

/* The rate algorithms' names as the language writes them, for the compact
 * limit: the compiler's table (plan_kind.h) is the authority, and a unit
 * test holds the two equal. */
#define AST_NALGOS 5
extern const char *const ast_algo_names[AST_NALGOS];

typedef struct ast_conc {
    ast_int max;
    ast_dur lease;
    span shadow_sp;
    bool shadow;
} ast_conc;

typedef struct ast_node ast_node;
struct ast_node {
    ast_kind kind;
    span sp;                  /* the whole construct */
    ast_node *next;
    /* Limits and concurrency nodes have no name, reference or children,
     * so their fields overlay those: n->name, n->children and n->u may be
     * read for every other kind only, n->ref for those of ast_has_ref(),
     * and n->lim / n->conc for AST_LIMIT / AST_CONCURRENCY only (ast_new
     * allocates just that much). */
    union {
        struct {
            ast_name name;
            ast_node *children;       /* members, settings or test statements */
            ast_name ref;             /* not in groups and keys */
            union {
                ast_value *value;
                struct {
                    ast_seg *path;
                    ast_name method, route;
                    ast_int cost;
                } request;
                struct {
                    ast_int n;
                    ast_dur within;
                    bool expect_allowed;   /* else "expect rejected" */
                    ast_int expect;
                } send;
                struct {
                    ast_dur d;
                } wait;
            } u;
        };
        ast_limit lim;        /* AST_LIMIT */
        ast_conc conc;        /* AST_CONCURRENCY */
    };
};

/* Groups and keys, most of the nodes of a large policy, have no `ref`. */
static inline bool ast_has_ref(ast_kind k)
{
    return k != AST_GROUP && k != AST_KEY;
}

static inline span ast_off_span(const ast_node *n, ast_off o)
{
    span s = {n->sp.file, o.start, o.end};
    return s;
}

static inline ast_off ast_off_of(span sp)
{
    ast_off o = {sp.start, sp.end};
    return o;
}


/* Writers, for the parser; a is the arena for the out-of-line form.
 * Spans lie in n's file, at or after n's start. */
void ast_limit_set_rate(arena *a, ast_node *n, int64_t count, span count_sp, const ast_dur *w);
/* f is LIM_BURST or LIM_COST. */
void ast_limit_set_int(arena *a, ast_node *n, int f, int64_t v, span sp);
void ast_limit_set_algo(arena *a, ast_node *n, const char *algo, span sp);
void ast_limit_set_shadow(arena *a, ast_node *n, span sp);

/* The fields of limit n as located values, exactly as a parser that kept
 * full spans would have left them (absent ones zeroed). */
ast_int ast_limit_count(const ast_node *n);
ast_dur ast_limit_window(const ast_node *n);
/* "100/s": from the count to the end of the window. */
span ast_limit_rate_sp(const ast_node *n);
ast_int ast_limit_burst(const ast_node *n);
ast_int ast_limit_cost(const ast_node *n);
ast_name ast_limit_algo(const ast_node *n);
span ast_limit_shadow_sp(const ast_node *n);

typedef struct ast_comment {
    span sp;                  /* from '#' to end of line, newline excluded */
    struct ast_comment *next;
} ast_comment;

/* One parsed file. */
typedef struct ast_file {
    uint32_t file;            /* index in the source map */
    ast_node *items;
    ast_comment *comments;
    size_t nerrors;           /* syntax and lexical errors in this file */
} ast_file;

/* A zeroed node of this kind in arena a.  Only the member of `u` that
 * belongs to the kind is allocated: never read another one. */
ast_node *ast_new(arena *a, ast_kind kind, span sp);
const char *ast_kind_name(ast_kind k);
/* Appends n to a singly linked list given by head/tail pointers. */
typedef struct ast_list {
    ast_node *head, *tail;
} ast_list;
void ast_list_push(ast_list *l, ast_node *n);

#endif
