/* ast.c - node construction for the syntax tree.  See ast.h. */
#include "ast.h"

ast_node *ast_new(arena *a, ast_kind kind, span sp)
{
    ast_node *n = arena_alloc(a, sizeof *n);
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
