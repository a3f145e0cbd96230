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
    AST_TENANT,       /* tenant "name" [tier NAME] { members }  name, ref=tier */
    AST_GROUP,        /* group "name" { members } */
    AST_KEY,          /* key "name" { members } */
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
    const char *s;    /* NULL when absent */
    span sp;
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

typedef struct ast_node ast_node;
struct ast_node {
    ast_kind kind;
    span sp;                  /* the whole construct */
    ast_name name;
    ast_name ref;
    ast_node *children;       /* members, settings or test statements */
    ast_node *next;
    union {
        struct {
            ast_int count;
            ast_dur window;
            span rate_sp;
            ast_int burst, cost;
            ast_name algo;
            span shadow_sp;
            bool shadow;
        } limit;
        struct {
            ast_int max;
            ast_dur lease;
            span shadow_sp;
            bool shadow;
        } conc;
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
