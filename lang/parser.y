/* parser.y - the .rlp grammar.  Pure, with byte-span locations; the actions
 * only build syntax (ast.h) and never look at meaning: names, values and
 * ranges are checked by compiler/.  Error productions at top level, in
 * blocks and in settings let a parse report every error it can.
 * The EBNF in SPEC.md restates these rules. */
%define api.pure full
%define parse.error custom
%define parse.lac full
%define api.location.type {span}
%locations
%expect 0
%param {void *scanner}
%parse-param {parse_ctx *ctx}

%code requires {
#include "ast.h"
#include "parse.h"
typedef struct val_list { ast_value *head, *tail; } val_list;
typedef struct seg_list { ast_seg *head, *tail; } seg_list;
}

%code provides {
int yylex(YYSTYPE *lvalp, YYLTYPE *llocp, void *scanner);
}

%code {
#include <string.h>

#include "buf.h"
#include "lex_util.h"

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                  \
    do {                                                             \
        if (N) {                                                     \
            (Cur).file = YYRHSLOC(Rhs, 1).file;                      \
            (Cur).start = YYRHSLOC(Rhs, 1).start;                    \
            (Cur).end = YYRHSLOC(Rhs, N).end;                        \
        } else {                                                     \
            (Cur).file = YYRHSLOC(Rhs, 0).file;                      \
            (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;          \
        }                                                            \
    } while (0)

#define A ctx->a

static ast_name mkname(const char *s, span sp)
{
    ast_name n = {s, sp, false};
    return n;
}

static ast_int mkint(int64_t v, span sp)
{
    ast_int i = {v, sp, true};
    return i;
}

static ast_node *block(parse_ctx *ctx, ast_kind k, span sp, ast_name name,
                       ast_name ref, ast_node *children)
{
    ast_node *n = ast_new(ctx->a, k, sp);
    n->name = name;
    if (ast_has_ref(k))
        n->ref = ref;
    n->children = children;
    return n;
}

static const ast_name noname;

/* The name of a template, written `*`: a string can never be it, since a
 * string "*" is a subject literally named so. */
static ast_name anyname(span sp)
{
    ast_name n = {"*", sp, true};
    return n;
}

static ast_value *new_value(parse_ctx *ctx, val_kind k, span sp)
{
    ast_value *v = arena_alloc(ctx->a, sizeof *v);
    v->kind = k;
    v->sp = sp;
    return v;
}

static ast_seg *new_seg(parse_ctx *ctx, ast_kind k, const char *name, span sp)
{
    ast_seg *s = arena_alloc(ctx->a, sizeof *s);
    s->kind = k;
    s->name.s = name;
    s->name.sp = sp;
    return s;
}

static void dup_option(parse_ctx *ctx, const char *opt, span here, span first)
{
    diag *d = diag_add(ctx->diags, DIAG_DUP_OPTION, here,
                       "'%s' given twice for the same limit", opt);
    diag_note_add(ctx->diags, d, first, "first given here");
}

/* "100/s": a bare unit after the slash.  Returns its milliseconds, or 0 and
 * an error when the name is not a unit. */
static int64_t lex_bare_unit(parse_ctx *ctx, span sp, const char *name, char unit[3])
{
    int64_t ms = duration_unit_ms(name, strlen(name));
    if (!ms) {
        ctx->nerrors++;
        diag_add(ctx->diags, DIAG_BAD_UNIT, sp,
                 "unknown duration unit '%s' (use ms, s, m, h or d)", name);
        return 0;
    }
    memcpy(unit, name, strlen(name) + 1);
    return ms;
}

static void yyerror(YYLTYPE *loc, void *scanner, parse_ctx *ctx, const char *msg);
}

%union {
    int64_t num;
    char *str;
    ast_dur dur;
    ast_node *node;
    ast_list list;
    ast_value *val;
    val_list vals;
    seg_list segs;
    int flag;
}

%token KW_POLICY "policy" KW_IMPORT "import" KW_TIER "tier" KW_EXTENDS "extends"
%token KW_TENANT "tenant" KW_GROUP "group" KW_KEY "key" KW_ROUTE "route"
%token KW_LIMIT "limit" KW_BURST "burst" KW_COST "cost" KW_ALGORITHM "algorithm"
%token KW_SHADOW "shadow" KW_CONCURRENCY "concurrency" KW_LEASE "lease"
%token KW_ALLOW "allow" KW_TARGET "target" KW_TEST "test" KW_REQUEST "request"
%token KW_SEND "send" KW_WITHIN "within" KW_EXPECT "expect"
%token KW_ALLOWED "allowed" KW_REJECTED "rejected" KW_WAIT "wait"
%token <str> IDENT "name" STRING "string"
%token <num> INT "integer"
%token <dur> DURATION "duration"

%type <node> item policy import tier tenant target test member route_member
%type <node> limit concurrency group key route allow setting test_stmt
%type <list> members route_members settings test_stmts
%type <val> value
%type <vals> values
%type <str> extends_opt tier_opt
%type <segs> req_path
%type <node> req_opts
%type <dur> within_opt
%type <flag> expect_kind

%%

/* file = { item } */
file
    : %empty
    | file item                 { ast_list_push(&ctx->items, $2); }
    ;

/* item = policy | import | tier | tenant | target | test | allow */
item
    : policy | import | tier | tenant | target | test | allow
    | error                     { $$ = NULL; }
    ;

/* policy = "policy" STRING "{" { setting } "}" */
policy
    : "policy" STRING '{' settings '}'
        { $$ = block(ctx, AST_POLICY, @$, mkname($2, @2), noname, $4.head); }
    ;

/* import = "import" STRING */
import
    : "import" STRING
        { $$ = block(ctx, AST_IMPORT, @$, mkname($2, @2), noname, NULL); }
    ;

/* tier = "tier" NAME [ "extends" NAME ] "{" { member } "}" */
tier
    : "tier" IDENT extends_opt '{' members '}'
        { $$ = block(ctx, AST_TIER, @$, mkname($2, @2),
                     mkname($3, $3 ? @3 : span_none), $5.head); }
    ;
extends_opt
    : %empty                    { $$ = NULL; }
    | "extends" IDENT           { $$ = $2; @$ = @2; }
    ;

/* tenant = "tenant" ( STRING | "*" ) [ "tier" NAME ] "{" { member } "}" */
tenant
    : "tenant" STRING tier_opt '{' members '}'
        { $$ = block(ctx, AST_TENANT, @$, mkname($2, @2),
                     mkname($3, $3 ? @3 : span_none), $5.head); }
    | "tenant" '*' tier_opt '{' members '}'
        { $$ = block(ctx, AST_TENANT, @$, anyname(@2),
                     mkname($3, $3 ? @3 : span_none), $5.head); }
    ;
tier_opt
    : %empty                    { $$ = NULL; }
    | "tier" IDENT              { $$ = $2; @$ = @2; }
    ;

/* member = limit | concurrency | group | key | route | allow */
members
    : %empty                    { $$.head = $$.tail = NULL; }
    | members member            { $$ = $1; ast_list_push(&$$, $2); }
    ;
member
    : limit | concurrency | group | key | route | allow
    | error                     { $$ = NULL; }
    ;

/* group = "group" ( STRING | "*" ) "{" { member } "}" */
group
    : "group" STRING '{' members '}'
        { $$ = block(ctx, AST_GROUP, @$, mkname($2, @2), noname, $4.head); }
    | "group" '*' '{' members '}'
        { $$ = block(ctx, AST_GROUP, @$, anyname(@2), noname, $4.head); }
    ;

/* key = "key" ( STRING | "*" ) "{" { member } "}" */
key
    : "key" STRING '{' members '}'
        { $$ = block(ctx, AST_KEY, @$, mkname($2, @2), noname, $4.head); }
    | "key" '*' '{' members '}'
        { $$ = block(ctx, AST_KEY, @$, anyname(@2), noname, $4.head); }
    ;

/* route = "route" METHOD STRING "{" { limit | concurrency | allow } "}" */
route
    : "route" IDENT STRING '{' route_members '}'
        { $$ = block(ctx, AST_ROUTE, @$, mkname($3, @3), mkname($2, @2), $5.head); }
    ;
route_members
    : %empty                    { $$.head = $$.tail = NULL; }
    | route_members route_member { $$ = $1; ast_list_push(&$$, $2); }
    ;
route_member
    : limit | concurrency | allow
    | error                     { $$ = NULL; }
    ;

/* limit = "limit" INT "/" ( DURATION | UNIT ) { limit_option }
 * limit_option = "burst" INT | "cost" INT | "algorithm" NAME | "shadow" */
limit
    : "limit" INT '/' DURATION
        {
            $$ = ast_new(A, AST_LIMIT, @$);
            ast_limit_set_rate(A, $$, $2, @2, &$4);
        }
    | "limit" INT '/' IDENT
        {
            /* "100/s" means "100/1s": the unit alone is one of it. */
            $$ = ast_new(A, AST_LIMIT, @$);
            ast_dur d;
            memset(&d, 0, sizeof d);
            d.sp = @4;
            d.set = true;
            d.n = 1;
            d.ms = lex_bare_unit(ctx, @4, $4, d.unit);
            ast_limit_set_rate(A, $$, $2, @2, &d);
        }
    | limit "burst" INT
        {
            $$ = $1;
            if ($$->lim.burst_set)
                dup_option(ctx, "burst", @2, ast_limit_burst($$).sp);
            ast_limit_set_int(A, $$, LIM_BURST, $3, @3);
            $$->sp = span_join($$->sp, @3);
        }
    | limit "cost" INT
        {
            $$ = $1;
            if ($$->lim.cost_set)
                dup_option(ctx, "cost", @2, ast_limit_cost($$).sp);
            ast_limit_set_int(A, $$, LIM_COST, $3, @3);
            $$->sp = span_join($$->sp, @3);
        }
    | limit "algorithm" IDENT
        {
            $$ = $1;
            if ($$->lim.algo != AST_ALGO_NONE)
                dup_option(ctx, "algorithm", @2, ast_limit_algo($$).sp);
            ast_limit_set_algo(A, $$, $3, @3);
            $$->sp = span_join($$->sp, @3);
        }
    | limit "shadow"
        {
            $$ = $1;
            if ($$->lim.shadow)
                dup_option(ctx, "shadow", @2, ast_limit_shadow_sp($$));
            ast_limit_set_shadow(A, $$, @2);
            $$->sp = span_join($$->sp, @2);
        }
    ;

/* concurrency = "concurrency" INT { "lease" DURATION | "shadow" } */
concurrency
    : "concurrency" INT
        {
            $$ = ast_new(A, AST_CONCURRENCY, @$);
            $$->conc.max = mkint($2, @2);
        }
    | concurrency "lease" DURATION
        {
            $$ = $1;
            if ($$->conc.lease.set)
                dup_option(ctx, "lease", @2, $$->conc.lease.sp);
            $$->conc.lease = $3;
            $$->sp = span_join($$->sp, @3);
        }
    | concurrency "shadow"
        {
            $$ = $1;
            if ($$->conc.shadow)
                dup_option(ctx, "shadow", @2, $$->conc.shadow_sp);
            $$->conc.shadow = true;
            $$->conc.shadow_sp = @2;
            $$->sp = span_join($$->sp, @2);
        }
    ;

/* allow = "allow" CODE STRING        (suppress a diagnostic, with a reason) */
allow
    : "allow" IDENT STRING
        { $$ = block(ctx, AST_ALLOW, @$, mkname($2, @2), mkname($3, @3), NULL); }
    ;

/* target = "target" KIND STRING "{" { setting } "}" */
target
    : "target" IDENT STRING '{' settings '}'
        { $$ = block(ctx, AST_TARGET, @$, mkname($3, @3), mkname($2, @2), $5.head); }
    ;

/* setting = NAME "=" value */
settings
    : %empty                    { $$.head = $$.tail = NULL; }
    | settings setting          { $$ = $1; ast_list_push(&$$, $2); }
    ;
setting
    : IDENT '=' value
        {
            $$ = ast_new(A, AST_SETTING, @$);
            $$->name = mkname($1, @1);
            $$->u.value = $3;
        }
    | error                     { $$ = NULL; }
    ;

/* value = STRING | INT | DURATION | NAME | NAME "(" STRING ")"
 *       | "[" [ value { "," value } [ "," ] ] "]" */
value
    : STRING        { $$ = new_value(ctx, VAL_STRING, @$); $$->s = $1; }
    | INT           { $$ = new_value(ctx, VAL_INT, @$); $$->i = $1; }
    | DURATION      { $$ = new_value(ctx, VAL_DURATION, @$); $$->dur = $1; }
    | IDENT         { $$ = new_value(ctx, VAL_IDENT, @$); $$->s = $1; }
    | IDENT '(' STRING ')'
        {
            val_kind k = strcmp($1, "env") == 0 ? VAL_ENV
                       : strcmp($1, "file") == 0 ? VAL_FILE : VAL_CALL;
            $$ = new_value(ctx, k, @$);
            $$->s = k == VAL_CALL ? $1 : $3;
            if (k == VAL_CALL) {
                /* Checks reject it, but fmt must give back what was written. */
                $$->items = new_value(ctx, VAL_STRING, @3);
                $$->items->s = $3;
            }
        }
    | '[' ']'       { $$ = new_value(ctx, VAL_LIST, @$); }
    | '[' values ']'
        { $$ = new_value(ctx, VAL_LIST, @$); $$->items = $2.head; }
    | '[' values ',' ']'
        { $$ = new_value(ctx, VAL_LIST, @$); $$->items = $2.head; }
    ;
values
    : value                     { $$.head = $$.tail = $1; }
    | values ',' value          { $$ = $1; $$.tail->next = $3; $$.tail = $3; }
    ;

/* test = "test" STRING "{" { test_stmt } "}"
 * test_stmt = "request" req_path { "route" METHOD STRING | "cost" INT }
 *           | "send" INT [ "within" DURATION ] "expect" ("allowed"|"rejected") INT
 *           | "wait" DURATION
 * req_path = "tenant" STRING { "group" STRING | "key" STRING } */
test
    : "test" STRING '{' test_stmts '}'
        { $$ = block(ctx, AST_TEST, @$, mkname($2, @2), noname, $4.head); }
    ;
test_stmts
    : %empty                    { $$.head = $$.tail = NULL; }
    | test_stmts test_stmt      { $$ = $1; ast_list_push(&$$, $2); }
    ;
test_stmt
    : "request" req_path req_opts
        {
            $$ = $3;
            $$->sp = @$;
            $$->u.request.path = $2.head;
        }
    | "send" INT within_opt "expect" expect_kind INT
        {
            $$ = ast_new(A, AST_T_SEND, @$);
            $$->u.send.n = mkint($2, @2);
            $$->u.send.within = $3;
            $$->u.send.expect_allowed = $5;
            $$->u.send.expect = mkint($6, @6);
        }
    | "wait" DURATION
        {
            $$ = ast_new(A, AST_T_WAIT, @$);
            $$->u.wait.d = $2;
        }
    | error                     { $$ = NULL; }
    ;
req_path
    : "tenant" STRING           { $$.head = $$.tail = new_seg(ctx, AST_TENANT, $2, @2); }
    | req_path "group" STRING
        { $$ = $1; $$.tail->next = new_seg(ctx, AST_GROUP, $3, @3); $$.tail = $$.tail->next; }
    | req_path "key" STRING
        { $$ = $1; $$.tail->next = new_seg(ctx, AST_KEY, $3, @3); $$.tail = $$.tail->next; }
    ;
/* The options fill the request node itself: a struct of them in every
 * semantic value made each value 72 bytes instead of 32, copied on every
 * shift and reduction of every file. */
req_opts
    : %empty                    { $$ = ast_new(A, AST_T_REQUEST, span_none); }
    | req_opts "route" IDENT STRING
        { $$ = $1; $$->u.request.method = mkname($3, @3); $$->u.request.route = mkname($4, @4); }
    | req_opts "cost" INT
        { $$ = $1; $$->u.request.cost = mkint($3, @3); }
    ;
within_opt
    : %empty                    { memset(&$$, 0, sizeof $$); }
    | "within" DURATION         { $$ = $2; }
    ;
expect_kind
    : "allowed"                 { $$ = 1; }
    | "rejected"                { $$ = 0; }
    ;

%%


/* Token names for messages: keywords in quotes ('tenant'), punctuation as
 * bison spells it ('{'), token classes in words ("a string"). */
static void put_symbol(buf *b, yysymbol_kind_t sym, bool article)
{
    static const char *const classes[][2] = {
        {"name", "a name"}, {"string", "a string"},
        {"integer", "an integer"}, {"duration", "a duration"},
    };
    if (sym == YYSYMBOL_YYEOF) {
        buf_puts(b, "end of file");
        return;
    }
    const char *n = yysymbol_name(sym);
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (!strcmp(n, classes[i][0])) {
            buf_puts(b, article ? classes[i][1] : classes[i][0]);
            return;
        }
    if (n[0] == '\'' || n[0] == '"')
        buf_puts(b, n);
    else
        buf_printf(b, "'%s'", n);
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, void *scanner, parse_ctx *ctx)
{
    (void)scanner;
    if (ctx->fatal)
        return 0;
    enum { MAX_EXPECTED = 24 };
    yysymbol_kind_t expected[MAX_EXPECTED];
    int n = yypcontext_expected_tokens(yyctx, expected, MAX_EXPECTED);
    yysymbol_kind_t got = yypcontext_token(yyctx);
    buf b;
    buf_init(&b, 4096);
    span sp = *yypcontext_location(yyctx);
    buf_puts(&b, "unexpected ");
    put_symbol(&b, got, false);
    if ((got == YYSYMBOL_IDENT || got == YYSYMBOL_INT || got == YYSYMBOL_DURATION) &&
        sp.end - sp.start <= 40)
        buf_printf(&b, " '%.*s'", (int)(sp.end - sp.start), ctx->text + sp.start);
    if (n > 0) {
        buf_puts(&b, ", expected ");
        for (int i = 0; i < n; i++) {
            if (i)
                buf_puts(&b, i == n - 1 ? " or " : ", ");
            put_symbol(&b, expected[i], true);
        }
    }
    ctx->nerrors++;
    diag_add(ctx->diags, DIAG_SYNTAX, sp, "%s", buf_str(&b));
    buf_free(&b);
    return 0;
}

static void yyerror(YYLTYPE *loc, void *scanner, parse_ctx *ctx, const char *msg)
{
    /* Only reached for bison's "memory exhausted": the parser stack hit its
     * cap (lists nested thousands deep), which is not an out-of-memory. */
    (void)scanner;
    (void)msg;
    ctx->nerrors++;
    diag_add(ctx->diags, DIAG_NESTING_TOO_DEEP, *loc,
             "input nested too deeply for the parser (lists thousands deep)");
}
