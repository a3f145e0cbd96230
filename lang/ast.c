/* ast.c - node construction for the syntax tree.  See ast.h. */
#include "ast.h"

#include <stddef.h>

/* Bytes a node of this kind needs: the common fields plus only what its
 * kind uses.  Most nodes of a large policy are blocks (tenant, group, key,
 * route) that use none of `u`, or limits, which use none of the block
 * fields (their compact fields overlay them); giving each node the whole
 * struct made the AST of a 100 000-tenant policy twice as big.  So a node
 * may only be read through the members its kind owns (see ast.h), which
 * every access already checks. */
static size_t node_size(ast_kind kind)
{
    const size_t base = offsetof(ast_node, u);
    const ast_node *n = NULL;
    switch (kind) {
    case AST_LIMIT: return offsetof(ast_node, lim) + sizeof n->lim;
    case AST_CONCURRENCY: return offsetof(ast_node, conc) + sizeof n->conc;
    case AST_SETTING: return base + sizeof n->u.value;
    case AST_T_REQUEST: return base + sizeof n->u.request;
    case AST_T_SEND: return base + sizeof n->u.send;
    case AST_T_WAIT: return base + sizeof n->u.wait;
    default: return base;
    }
}

ast_node *ast_new(arena *a, ast_kind kind, span sp)
{
    ast_node *n = arena_alloc(a, node_size(kind));
    n->kind = kind;
    n->sp = sp;
    return n;
}

void ast_list_push(ast_list *l, ast_node *n)
{
    if (!n)
        return;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

const char *ast_kind_name(ast_kind k)
{
    switch (k) {
    case AST_POLICY: return "policy";
    case AST_IMPORT: return "import";
    case AST_TIER: return "tier";
    case AST_TENANT: return "tenant";
    case AST_GROUP: return "group";
    case AST_KEY: return "key";
    case AST_ROUTE: return "route";
    case AST_LIMIT: return "limit";
    case AST_CONCURRENCY: return "concurrency";
    case AST_ALLOW: return "allow";
    case AST_TARGET: return "target";
    case AST_SETTING: return "setting";
    case AST_TEST: return "test";
    case AST_T_REQUEST: return "request";
    case AST_T_SEND: return "send";
    case AST_T_WAIT: return "wait";
    }
    return "?";
}
