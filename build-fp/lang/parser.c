/* A Bison parser, made by GNU Bison 3.8.2.  */

/* Bison implementation for Yacc-like parsers in C

   Copyright (C) 1984, 1989-1990, 2000-2015, 2018-2021 Free Software Foundation,
   Inc.

   This program is free software: you can redistribute it and/or modify
   it under the terms of the GNU General Public License as published by
   the Free Software Foundation, either version 3 of the License, or
   (at your option) any later version.

   This program is distributed in the hope that it will be useful,
   but WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
   GNU General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

/* As a special exception, you may create a larger work that contains
   part or all of the Bison parser skeleton and distribute that work
   under terms of your choice, so long as that work isn't itself a
   parser generator using the skeleton or a modified version thereof
   as a parser skeleton.  Alternatively, if you modify or redistribute
   the parser skeleton itself, you may (at your option) remove this
   special exception, which will cause the skeleton and the resulting
   Bison output files to be licensed under the GNU General Public
   License without this special exception.

   This special exception was added by the Free Software Foundation in
   version 2.2 of Bison.  */

/* C LALR(1) parser skeleton written by Richard Stallman, by
   simplifying the original so-called "semantic" parser.  */

/* DO NOT RELY ON FEATURES THAT ARE NOT DOCUMENTED in the manual,
   especially those whose name start with YY_ or yy_.  They are
   private implementation details that can be changed or removed.  */

/* All symbols defined below should begin with yy or YY, to avoid
   infringing on user name space.  This should be done even for local
   variables, as they might otherwise be expanded by user macros.
   There are some unavoidable exceptions within include files to
   define necessary library symbols; they are noted "INFRINGES ON
   USER NAME SPACE" below.  */

/* Identify Bison output, and Bison version.  */
#define YYBISON 30802

/* Bison version string.  */
#define YYBISON_VERSION "3.8.2"

/* Skeleton name.  */
#define YYSKELETON_NAME "yacc.c"

/* Pure parsers.  */
#define YYPURE 2

/* Push parsers.  */
#define YYPUSH 0

/* Pull parsers.  */
#define YYPULL 1





# ifndef YY_CAST
#  ifdef __cplusplus
#   define YY_CAST(Type, Val) static_cast<Type> (Val)
#   define YY_REINTERPRET_CAST(Type, Val) reinterpret_cast<Type> (Val)
#  else
#   define YY_CAST(Type, Val) ((Type) (Val))
#   define YY_REINTERPRET_CAST(Type, Val) ((Type) (Val))
#  endif
# endif
# ifndef YY_NULLPTR
#  if defined __cplusplus
#   if 201103L <= __cplusplus
#    define YY_NULLPTR nullptr
#   else
#    define YY_NULLPTR 0
#   endif
#  else
#   define YY_NULLPTR ((void*)0)
#  endif
# endif

#include "parser.h"
/* Symbol kind.  */
enum yysymbol_kind_t
{
  YYSYMBOL_YYEMPTY = -2,
  YYSYMBOL_YYEOF = 0,                      /* "end of file"  */
  YYSYMBOL_YYerror = 1,                    /* error  */
  YYSYMBOL_YYUNDEF = 2,                    /* "invalid token"  */
  YYSYMBOL_KW_POLICY = 3,                  /* "policy"  */
  YYSYMBOL_KW_IMPORT = 4,                  /* "import"  */
  YYSYMBOL_KW_TIER = 5,                    /* "tier"  */
  YYSYMBOL_KW_EXTENDS = 6,                 /* "extends"  */
  YYSYMBOL_KW_TENANT = 7,                  /* "tenant"  */
  YYSYMBOL_KW_GROUP = 8,                   /* "group"  */
  YYSYMBOL_KW_KEY = 9,                     /* "key"  */
  YYSYMBOL_KW_ROUTE = 10,                  /* "route"  */
  YYSYMBOL_KW_LIMIT = 11,                  /* "limit"  */
  YYSYMBOL_KW_BURST = 12,                  /* "burst"  */
  YYSYMBOL_KW_COST = 13,                   /* "cost"  */
  YYSYMBOL_KW_ALGORITHM = 14,              /* "algorithm"  */
  YYSYMBOL_KW_SHADOW = 15,                 /* "shadow"  */
  YYSYMBOL_KW_CONCURRENCY = 16,            /* "concurrency"  */
  YYSYMBOL_KW_LEASE = 17,                  /* "lease"  */
  YYSYMBOL_KW_ALLOW = 18,                  /* "allow"  */
  YYSYMBOL_KW_TARGET = 19,                 /* "target"  */
  YYSYMBOL_KW_TEST = 20,                   /* "test"  */
  YYSYMBOL_KW_REQUEST = 21,                /* "request"  */
  YYSYMBOL_KW_SEND = 22,                   /* "send"  */
  YYSYMBOL_KW_WITHIN = 23,                 /* "within"  */
  YYSYMBOL_KW_EXPECT = 24,                 /* "expect"  */
  YYSYMBOL_KW_ALLOWED = 25,                /* "allowed"  */
  YYSYMBOL_KW_REJECTED = 26,               /* "rejected"  */
  YYSYMBOL_KW_WAIT = 27,                   /* "wait"  */
  YYSYMBOL_IDENT = 28,                     /* "name"  */
  YYSYMBOL_STRING = 29,                    /* "string"  */
  YYSYMBOL_INT = 30,                       /* "integer"  */
  YYSYMBOL_DURATION = 31,                  /* "duration"  */
  YYSYMBOL_32_ = 32,                       /* '{'  */
  YYSYMBOL_33_ = 33,                       /* '}'  */
  YYSYMBOL_34_ = 34,                       /* '/'  */
  YYSYMBOL_35_ = 35,                       /* '='  */
  YYSYMBOL_36_ = 36,                       /* '('  */
  YYSYMBOL_37_ = 37,                       /* ')'  */
  YYSYMBOL_38_ = 38,                       /* '['  */
  YYSYMBOL_39_ = 39,                       /* ']'  */
  YYSYMBOL_40_ = 40,                       /* ','  */
  YYSYMBOL_YYACCEPT = 41,                  /* $accept  */
  YYSYMBOL_file = 42,                      /* file  */
  YYSYMBOL_item = 43,                      /* item  */
  YYSYMBOL_policy = 44,                    /* policy  */
  YYSYMBOL_import = 45,                    /* import  */
  YYSYMBOL_tier = 46,                      /* tier  */
  YYSYMBOL_extends_opt = 47,               /* extends_opt  */
  YYSYMBOL_tenant = 48,                    /* tenant  */
  YYSYMBOL_tier_opt = 49,                  /* tier_opt  */
  YYSYMBOL_members = 50,                   /* members  */
  YYSYMBOL_member = 51,                    /* member  */
  YYSYMBOL_group = 52,                     /* group  */
  YYSYMBOL_key = 53,                       /* key  */
  YYSYMBOL_route = 54,                     /* route  */
  YYSYMBOL_route_members = 55,             /* route_members  */
  YYSYMBOL_route_member = 56,              /* route_member  */
  YYSYMBOL_limit = 57,                     /* limit  */
  YYSYMBOL_concurrency = 58,               /* concurrency  */
  YYSYMBOL_allow = 59,                     /* allow  */
  YYSYMBOL_target = 60,                    /* target  */
  YYSYMBOL_settings = 61,                  /* settings  */
  YYSYMBOL_setting = 62,                   /* setting  */
  YYSYMBOL_value = 63,                     /* value  */
  YYSYMBOL_values = 64,                    /* values  */
  YYSYMBOL_test = 65,                      /* test  */
  YYSYMBOL_test_stmts = 66,                /* test_stmts  */
  YYSYMBOL_test_stmt = 67,                 /* test_stmt  */
  YYSYMBOL_req_path = 68,                  /* req_path  */
  YYSYMBOL_req_opts = 69,                  /* req_opts  */
  YYSYMBOL_within_opt = 70,                /* within_opt  */
  YYSYMBOL_expect_kind = 71                /* expect_kind  */
};
typedef enum yysymbol_kind_t yysymbol_kind_t;



/* Unqualified %code blocks.  */
#line 27 "lang/parser.y"

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
    ast_name n = {s, sp};
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
    n->ref = ref;
    n->children = children;
    return n;
}

static const ast_name noname;

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

#line 261 "build-fp/lang/parser.c"

#ifdef short
# undef short
#endif

/* On compilers that do not define __PTRDIFF_MAX__ etc., make sure
   <limits.h> and (if available) <stdint.h> are included
   so that the code can choose integer types of a good width.  */

#ifndef __PTRDIFF_MAX__
# include <limits.h> /* INFRINGES ON USER NAME SPACE */
# if defined __STDC_VERSION__ && 199901 <= __STDC_VERSION__
#  include <stdint.h> /* INFRINGES ON USER NAME SPACE */
#  define YY_STDINT_H
# endif
#endif

/* Narrow types that promote to a signed type and that can represent a
   signed or unsigned integer of at least N bits.  In tables they can
   save space and decrease cache pressure.  Promoting to a signed type
   helps avoid bugs in integer arithmetic.  */

#ifdef __INT_LEAST8_MAX__
typedef __INT_LEAST8_TYPE__ yytype_int8;
#elif defined YY_STDINT_H
typedef int_least8_t yytype_int8;
#else
typedef signed char yytype_int8;
#endif

#ifdef __INT_LEAST16_MAX__
typedef __INT_LEAST16_TYPE__ yytype_int16;
#elif defined YY_STDINT_H
typedef int_least16_t yytype_int16;
#else
typedef short yytype_int16;
#endif

/* Work around bug in HP-UX 11.23, which defines these macros
   incorrectly for preprocessor constants.  This workaround can likely
   be removed in 2023, as HPE has promised support for HP-UX 11.23
   (aka HP-UX 11i v2) only through the end of 2022; see Table 2 of
   <https://h20195.www2.hpe.com/V2/getpdf.aspx/4AA4-7673ENW.pdf>.  */
#ifdef __hpux
# undef UINT_LEAST8_MAX
# undef UINT_LEAST16_MAX
# define UINT_LEAST8_MAX 255
# define UINT_LEAST16_MAX 65535
#endif

#if defined __UINT_LEAST8_MAX__ && __UINT_LEAST8_MAX__ <= __INT_MAX__
typedef __UINT_LEAST8_TYPE__ yytype_uint8;
#elif (!defined __UINT_LEAST8_MAX__ && defined YY_STDINT_H \
       && UINT_LEAST8_MAX <= INT_MAX)
typedef uint_least8_t yytype_uint8;
#elif !defined __UINT_LEAST8_MAX__ && UCHAR_MAX <= INT_MAX
typedef unsigned char yytype_uint8;
#else
typedef short yytype_uint8;
#endif

#if defined __UINT_LEAST16_MAX__ && __UINT_LEAST16_MAX__ <= __INT_MAX__
typedef __UINT_LEAST16_TYPE__ yytype_uint16;
#elif (!defined __UINT_LEAST16_MAX__ && defined YY_STDINT_H \
       && UINT_LEAST16_MAX <= INT_MAX)
typedef uint_least16_t yytype_uint16;
#elif !defined __UINT_LEAST16_MAX__ && USHRT_MAX <= INT_MAX
typedef unsigned short yytype_uint16;
#else
typedef int yytype_uint16;
#endif

#ifndef YYPTRDIFF_T
# if defined __PTRDIFF_TYPE__ && defined __PTRDIFF_MAX__
#  define YYPTRDIFF_T __PTRDIFF_TYPE__
#  define YYPTRDIFF_MAXIMUM __PTRDIFF_MAX__
# elif defined PTRDIFF_MAX
#  ifndef ptrdiff_t
#   include <stddef.h> /* INFRINGES ON USER NAME SPACE */
#  endif
#  define YYPTRDIFF_T ptrdiff_t
#  define YYPTRDIFF_MAXIMUM PTRDIFF_MAX
# else
#  define YYPTRDIFF_T long
#  define YYPTRDIFF_MAXIMUM LONG_MAX
# endif
#endif

#ifndef YYSIZE_T
# ifdef __SIZE_TYPE__
#  define YYSIZE_T __SIZE_TYPE__
# elif defined size_t
#  define YYSIZE_T size_t
# elif defined __STDC_VERSION__ && 199901 <= __STDC_VERSION__
#  include <stddef.h> /* INFRINGES ON USER NAME SPACE */
#  define YYSIZE_T size_t
# else
#  define YYSIZE_T unsigned
# endif
#endif

#define YYSIZE_MAXIMUM                                  \
  YY_CAST (YYPTRDIFF_T,                                 \
           (YYPTRDIFF_MAXIMUM < YY_CAST (YYSIZE_T, -1)  \
            ? YYPTRDIFF_MAXIMUM                         \
            : YY_CAST (YYSIZE_T, -1)))

#define YYSIZEOF(X) YY_CAST (YYPTRDIFF_T, sizeof (X))


/* Stored state numbers (used for stacks). */
typedef yytype_uint8 yy_state_t;

/* State numbers in computations.  */
typedef int yy_state_fast_t;

#ifndef YY_
# if defined YYENABLE_NLS && YYENABLE_NLS
#  if ENABLE_NLS
#   include <libintl.h> /* INFRINGES ON USER NAME SPACE */
#   define YY_(Msgid) dgettext ("bison-runtime", Msgid)
#  endif
# endif
# ifndef YY_
#  define YY_(Msgid) Msgid
# endif
#endif


#ifndef YY_ATTRIBUTE_PURE
# if defined __GNUC__ && 2 < __GNUC__ + (96 <= __GNUC_MINOR__)
#  define YY_ATTRIBUTE_PURE __attribute__ ((__pure__))
# else
#  define YY_ATTRIBUTE_PURE
# endif
#endif

#ifndef YY_ATTRIBUTE_UNUSED
# if defined __GNUC__ && 2 < __GNUC__ + (7 <= __GNUC_MINOR__)
#  define YY_ATTRIBUTE_UNUSED __attribute__ ((__unused__))
# else
#  define YY_ATTRIBUTE_UNUSED
# endif
#endif

/* Suppress unused-variable warnings by "using" E.  */
#if ! defined lint || defined __GNUC__
# define YY_USE(E) ((void) (E))
#else
# define YY_USE(E) /* empty */
#endif

/* Suppress an incorrect diagnostic about yylval being uninitialized.  */
#if defined __GNUC__ && ! defined __ICC && 406 <= __GNUC__ * 100 + __GNUC_MINOR__
# if __GNUC__ * 100 + __GNUC_MINOR__ < 407
#  define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN                           \
    _Pragma ("GCC diagnostic push")                                     \
    _Pragma ("GCC diagnostic ignored \"-Wuninitialized\"")
# else
#  define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN                           \
    _Pragma ("GCC diagnostic push")                                     \
    _Pragma ("GCC diagnostic ignored \"-Wuninitialized\"")              \
    _Pragma ("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
# endif
# define YY_IGNORE_MAYBE_UNINITIALIZED_END      \
    _Pragma ("GCC diagnostic pop")
#else
# define YY_INITIAL_VALUE(Value) Value
#endif
#ifndef YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
# define YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
# define YY_IGNORE_MAYBE_UNINITIALIZED_END
#endif
#ifndef YY_INITIAL_VALUE
# define YY_INITIAL_VALUE(Value) /* Nothing. */
#endif

#if defined __cplusplus && defined __GNUC__ && ! defined __ICC && 6 <= __GNUC__
# define YY_IGNORE_USELESS_CAST_BEGIN                          \
    _Pragma ("GCC diagnostic push")                            \
    _Pragma ("GCC diagnostic ignored \"-Wuseless-cast\"")
# define YY_IGNORE_USELESS_CAST_END            \
    _Pragma ("GCC diagnostic pop")
#endif
#ifndef YY_IGNORE_USELESS_CAST_BEGIN
# define YY_IGNORE_USELESS_CAST_BEGIN
# define YY_IGNORE_USELESS_CAST_END
#endif


#define YY_ASSERT(E) ((void) (0 && (E)))

#if 1

/* The parser invokes alloca or malloc; define the necessary symbols.  */

# ifdef YYSTACK_ALLOC
   /* Pacify GCC's 'empty if-body' warning.  */
#  define YYSTACK_FREE(Ptr) do { /* empty */; } while (0)
#  ifndef YYSTACK_ALLOC_MAXIMUM
    /* The OS might guarantee only one guard page at the bottom of the stack,
       and a page size can be as small as 4096 bytes.  So we cannot safely
       invoke alloca (N) if N exceeds 4096.  Use a slightly smaller number
       to allow for a few compiler-allocated temporary stack slots.  */
#   define YYSTACK_ALLOC_MAXIMUM 4032 /* reasonable circa 2006 */
#  endif
# else
#  define YYSTACK_ALLOC YYMALLOC
#  define YYSTACK_FREE YYFREE
#  ifndef YYSTACK_ALLOC_MAXIMUM
#   define YYSTACK_ALLOC_MAXIMUM YYSIZE_MAXIMUM
#  endif
#  if (defined __cplusplus && ! defined EXIT_SUCCESS \
       && ! ((defined YYMALLOC || defined malloc) \
             && (defined YYFREE || defined free)))
#   include <stdlib.h> /* INFRINGES ON USER NAME SPACE */
#   ifndef EXIT_SUCCESS
#    define EXIT_SUCCESS 0
#   endif
#  endif
#  ifndef YYMALLOC
#   define YYMALLOC malloc
#   if ! defined malloc && ! defined EXIT_SUCCESS
void *malloc (YYSIZE_T); /* INFRINGES ON USER NAME SPACE */
#   endif
#  endif
#  ifndef YYFREE
#   define YYFREE free
#   if ! defined free && ! defined EXIT_SUCCESS
void free (void *); /* INFRINGES ON USER NAME SPACE */
#   endif
#  endif
# endif
# define YYCOPY_NEEDED 1
#endif /* 1 */

#if (! defined yyoverflow \
     && (! defined __cplusplus \
         || (defined YYLTYPE_IS_TRIVIAL && YYLTYPE_IS_TRIVIAL \
             && defined YYSTYPE_IS_TRIVIAL && YYSTYPE_IS_TRIVIAL)))

/* A type that is properly aligned for any stack member.  */
union yyalloc
{
  yy_state_t yyss_alloc;
  YYSTYPE yyvs_alloc;
  YYLTYPE yyls_alloc;
};

/* The size of the maximum gap between one aligned stack and the next.  */
# define YYSTACK_GAP_MAXIMUM (YYSIZEOF (union yyalloc) - 1)

/* The size of an array large to enough to hold all stacks, each with
   N elements.  */
# define YYSTACK_BYTES(N) \
     ((N) * (YYSIZEOF (yy_state_t) + YYSIZEOF (YYSTYPE) \
             + YYSIZEOF (YYLTYPE)) \
      + 2 * YYSTACK_GAP_MAXIMUM)

# define YYCOPY_NEEDED 1

/* Relocate STACK from its old location to the new one.  The
   local variables YYSIZE and YYSTACKSIZE give the old and new number of
   elements in the stack, and YYPTR gives the new location of the
   stack.  Advance YYPTR to a properly aligned location for the next
   stack.  */
# define YYSTACK_RELOCATE(Stack_alloc, Stack)                           \
    do                                                                  \
      {                                                                 \
        YYPTRDIFF_T yynewbytes;                                         \
        YYCOPY (&yyptr->Stack_alloc, Stack, yysize);                    \
        Stack = &yyptr->Stack_alloc;                                    \
        yynewbytes = yystacksize * YYSIZEOF (*Stack) + YYSTACK_GAP_MAXIMUM; \
        yyptr += yynewbytes / YYSIZEOF (*yyptr);                        \
      }                                                                 \
    while (0)

#endif

#if defined YYCOPY_NEEDED && YYCOPY_NEEDED
/* Copy COUNT objects from SRC to DST.  The source and destination do
   not overlap.  */
# ifndef YYCOPY
#  if defined __GNUC__ && 1 < __GNUC__
#   define YYCOPY(Dst, Src, Count) \
      __builtin_memcpy (Dst, Src, YY_CAST (YYSIZE_T, (Count)) * sizeof (*(Src)))
#  else
#   define YYCOPY(Dst, Src, Count)              \
      do                                        \
        {                                       \
          YYPTRDIFF_T yyi;                      \
          for (yyi = 0; yyi < (Count); yyi++)   \
            (Dst)[yyi] = (Src)[yyi];            \
        }                                       \
      while (0)
#  endif
# endif
#endif /* !YYCOPY_NEEDED */

/* YYFINAL -- State number of the termination state.  */
#define YYFINAL  2
/* YYLAST -- Last index in YYTABLE.  */
#define YYLAST   156

/* YYNTOKENS -- Number of terminals.  */
#define YYNTOKENS  41
/* YYNNTS -- Number of nonterminals.  */
#define YYNNTS  31
/* YYNRULES -- Number of rules.  */
#define YYNRULES  79
/* YYNSTATES -- Number of states.  */
#define YYNSTATES  143

/* YYMAXUTOK -- Last valid token kind.  */
#define YYMAXUTOK   286


/* YYTRANSLATE(TOKEN-NUM) -- Symbol number corresponding to TOKEN-NUM
   as returned by yylex, with out-of-bounds checking.  */
#define YYTRANSLATE(YYX)                                \
  (0 <= (YYX) && (YYX) <= YYMAXUTOK                     \
   ? YY_CAST (yysymbol_kind_t, yytranslate[YYX])        \
   : YYSYMBOL_YYUNDEF)

/* YYTRANSLATE[TOKEN-NUM] -- Symbol number corresponding to TOKEN-NUM
   as returned by yylex.  */
static const yytype_int8 yytranslate[] =
{
       0,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
      36,    37,     2,     2,    40,     2,     2,    34,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,    35,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,    38,     2,    39,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,    32,     2,    33,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     2,     2,     2,     2,
       2,     2,     2,     2,     2,     2,     1,     2,     3,     4,
       5,     6,     7,     8,     9,    10,    11,    12,    13,    14,
      15,    16,    17,    18,    19,    20,    21,    22,    23,    24,
      25,    26,    27,    28,    29,    30,    31
};

#if YYDEBUG
/* YYRLINE[YYN] -- Source line where rule number YYN was defined.  */
static const yytype_int16 yyrline[] =
{
       0,   152,   152,   153,   158,   158,   158,   158,   158,   158,
     158,   159,   164,   170,   176,   181,   182,   187,   192,   193,
     198,   199,   202,   202,   202,   202,   202,   202,   203,   208,
     214,   220,   224,   225,   228,   228,   228,   229,   235,   242,
     256,   264,   272,   280,   293,   298,   306,   319,   325,   331,
     332,   335,   341,   347,   348,   349,   350,   351,   363,   364,
     366,   370,   371,   380,   384,   385,   388,   396,   404,   409,
     412,   413,   415,   419,   420,   422,   426,   427,   430,   431
};
#endif

/** Accessing symbol of state STATE.  */
#define YY_ACCESSING_SYMBOL(State) YY_CAST (yysymbol_kind_t, yystos[State])

#if 1
/* The user-facing name of the symbol whose (internal) number is
   YYSYMBOL.  No bounds checking.  */
static const char *yysymbol_name (yysymbol_kind_t yysymbol) YY_ATTRIBUTE_UNUSED;

static const char *
yysymbol_name (yysymbol_kind_t yysymbol)
{
  static const char *const yy_sname[] =
  {
  "end of file", "error", "invalid token", "policy", "import", "tier",
  "extends", "tenant", "group", "key", "route", "limit", "burst", "cost",
  "algorithm", "shadow", "concurrency", "lease", "allow", "target", "test",
  "request", "send", "within", "expect", "allowed", "rejected", "wait",
  "name", "string", "integer", "duration", "'{'", "'}'", "'/'", "'='",
  "'('", "')'", "'['", "']'", "','", "$accept", "file", "item", "policy",
  "import", "tier", "extends_opt", "tenant", "tier_opt", "members",
  "member", "group", "key", "route", "route_members", "route_member",
  "limit", "concurrency", "allow", "target", "settings", "setting",
  "value", "values", "test", "test_stmts", "test_stmt", "req_path",
  "req_opts", "within_opt", "expect_kind", YY_NULLPTR
  };
  return yy_sname[yysymbol];
}
#endif

#define YYPACT_NINF (-78)

#define yypact_value_is_default(Yyn) \
  ((Yyn) == YYPACT_NINF)

#define YYTABLE_NINF (-1)

#define yytable_value_is_error(Yyn) \
  0

/* YYPACT[STATE-NUM] -- Index in YYTABLE of the portion describing
   STATE-NUM.  */
static const yytype_int8 yypact[] =
{
     -78,    77,   -78,   -78,   -25,    -4,    14,    17,    24,    32,
      27,   -78,   -78,   -78,   -78,   -78,   -78,   -78,   -78,    47,
     -78,    56,    78,    35,    63,    53,   -78,    65,    62,    80,
      81,   -78,    83,   -78,    20,   -78,   -78,   -78,   -78,   -78,
      36,   -78,    74,   -78,   -78,     2,     6,    42,   -78,   105,
      86,    87,   -78,   -78,    76,   -78,    88,    90,    92,    91,
      93,   -78,   -78,   -78,   -78,   -78,    59,    30,   -78,   -78,
     -78,    95,    41,    99,   -78,    89,   -78,   -78,   -78,    60,
     -78,    94,    96,    98,    97,   -78,   100,   102,   101,   -78,
     -78,   103,   -78,   106,   107,    -5,   108,   113,   109,   -78,
     -78,    28,   -78,   -78,   110,   -22,   -78,   -78,   -78,   -78,
     -78,   -78,   112,   111,   -78,    61,   114,   -78,    72,    18,
      22,   -78,   -78,   -78,   115,   -78,   -78,   -78,   116,   -78,
     -78,   -78,   -78,   -78,    43,   -78,   -78,   -78,   -78,   -78,
      59,    30,   -78
};

/* YYDEFACT[STATE-NUM] -- Default reduction number in state STATE-NUM.
   Performed when YYTABLE does not specify something else to do.  Zero
   means the default is an error.  */
static const yytype_int8 yydefact[] =
{
       2,     0,     1,    11,     0,     0,     0,     0,     0,     0,
       0,     3,     4,     5,     6,     7,    10,     8,     9,     0,
      13,    15,    18,     0,     0,     0,    49,     0,     0,     0,
       0,    47,     0,    64,     0,    16,    20,    19,    20,    49,
       0,    52,     0,    12,    50,     0,     0,     0,    69,     0,
       0,     0,    63,    65,     0,    28,     0,     0,     0,     0,
       0,    14,    21,    24,    25,    26,    22,    23,    27,    17,
      48,     0,    73,    76,    68,    56,    53,    54,    55,     0,
      51,     0,     0,     0,     0,    44,     0,     0,     0,    43,
      46,     0,    70,     0,     0,    66,     0,     0,     0,    58,
      61,     0,    20,    20,     0,     0,    40,    41,    42,    45,
      71,    72,     0,     0,    77,     0,     0,    59,     0,     0,
       0,    32,    39,    38,     0,    75,    78,    79,     0,    57,
      60,    62,    29,    30,     0,    74,    67,    37,    31,    33,
      34,    35,    36
};

/* YYPGOTO[NTERM-NUM].  */
static const yytype_int8 yypgoto[] =
{
     -78,   -78,   -78,   -78,   -78,   -78,   -78,   -78,   -78,   -37,
     -78,   -78,   -78,   -78,   -78,   -78,     9,    11,    -1,   -78,
     117,   -78,   -77,   -78,   -78,   -78,   -78,   -78,   -78,   -78,
     -78
};

/* YYDEFGOTO[NTERM-NUM].  */
static const yytype_uint8 yydefgoto[] =
{
       0,     1,    11,    12,    13,    14,    28,    15,    30,    45,
      62,    63,    64,    65,   134,   139,    66,    67,    68,    17,
      34,    44,    80,   101,    18,    40,    53,    72,    95,    97,
     128
};

/* YYTABLE[YYPACT[STATE-NUM]] -- What to do in state STATE-NUM.  If
   positive, shift that token.  If negative, reduce the rule whose
   number is the opposite.  If YYTABLE_NINF, syntax error.  */
static const yytype_uint8 yytable[] =
{
      16,    46,   100,    55,    19,   112,   122,    55,   113,   123,
      56,    57,    58,    59,    56,    57,    58,    59,    60,    55,
       8,    41,    60,    55,     8,    20,    56,    57,    58,    59,
      56,    57,    58,    59,    60,    61,     8,    48,    60,    69,
       8,   131,    21,    41,   137,    90,    22,    91,    42,    93,
      94,   132,    23,    43,    59,   133,    25,    49,    50,    60,
      24,     8,    27,    51,    31,   119,   120,   117,   118,    52,
      42,    86,    87,    88,    89,    70,   138,     2,     3,    26,
       4,     5,     6,    29,     7,    33,   126,   127,    75,    76,
      77,    78,    32,    35,    36,     8,     9,    10,    79,    99,
      75,    76,    77,    78,    75,    76,    77,    78,    37,    54,
      79,   130,    71,    38,    79,    39,    73,    81,    74,    82,
      83,    84,    96,    85,    92,    98,   102,   104,   103,   108,
     106,   105,   107,   142,   109,   110,   111,   115,   116,   114,
     124,   125,   121,   140,   135,   141,   136,     0,     0,     0,
       0,   129,     0,     0,     0,     0,    47
};

static const yytype_int16 yycheck[] =
{
       1,    38,    79,     1,    29,    10,    28,     1,    13,    31,
       8,     9,    10,    11,     8,     9,    10,    11,    16,     1,
      18,     1,    16,     1,    18,    29,     8,     9,    10,    11,
       8,     9,    10,    11,    16,    33,    18,     1,    16,    33,
      18,   118,    28,     1,     1,    15,    29,    17,    28,     8,
       9,    33,    28,    33,    11,    33,    29,    21,    22,    16,
      28,    18,     6,    27,    29,   102,   103,    39,    40,    33,
      28,    12,    13,    14,    15,    33,    33,     0,     1,    32,
       3,     4,     5,     5,     7,    32,    25,    26,    28,    29,
      30,    31,    29,    28,    32,    18,    19,    20,    38,    39,
      28,    29,    30,    31,    28,    29,    30,    31,    28,    35,
      38,    39,     7,    32,    38,    32,    30,    29,    31,    29,
      28,    30,    23,    30,    29,    36,    32,    29,    32,    28,
      30,    34,    30,   134,    31,    29,    29,    24,    29,    31,
      28,    30,    32,   134,    29,   134,    30,    -1,    -1,    -1,
      -1,    37,    -1,    -1,    -1,    -1,    39
};

/* YYSTOS[STATE-NUM] -- The symbol kind of the accessing symbol of
   state STATE-NUM.  */
static const yytype_int8 yystos[] =
{
       0,    42,     0,     1,     3,     4,     5,     7,    18,    19,
      20,    43,    44,    45,    46,    48,    59,    60,    65,    29,
      29,    28,    29,    28,    28,    29,    32,     6,    47,     5,
      49,    29,    29,    32,    61,    28,    32,    28,    32,    32,
      66,     1,    28,    33,    62,    50,    50,    61,     1,    21,
      22,    27,    33,    67,    35,     1,     8,     9,    10,    11,
      16,    33,    51,    52,    53,    54,    57,    58,    59,    33,
      33,     7,    68,    30,    31,    28,    29,    30,    31,    38,
      63,    29,    29,    28,    30,    30,    12,    13,    14,    15,
      15,    17,    29,     8,     9,    69,    23,    70,    36,    39,
      63,    64,    32,    32,    29,    34,    30,    30,    28,    31,
      29,    29,    10,    13,    31,    24,    29,    39,    40,    50,
      50,    32,    28,    31,    28,    30,    25,    26,    71,    37,
      39,    63,    33,    33,    55,    29,    30,     1,    33,    56,
      57,    58,    59
};

/* YYR1[RULE-NUM] -- Symbol kind of the left-hand side of rule RULE-NUM.  */
static const yytype_int8 yyr1[] =
{
       0,    41,    42,    42,    43,    43,    43,    43,    43,    43,
      43,    43,    44,    45,    46,    47,    47,    48,    49,    49,
      50,    50,    51,    51,    51,    51,    51,    51,    51,    52,
      53,    54,    55,    55,    56,    56,    56,    56,    57,    57,
      57,    57,    57,    57,    58,    58,    58,    59,    60,    61,
      61,    62,    62,    63,    63,    63,    63,    63,    63,    63,
      63,    64,    64,    65,    66,    66,    67,    67,    67,    67,
      68,    68,    68,    69,    69,    69,    70,    70,    71,    71
};

/* YYR2[RULE-NUM] -- Number of symbols on the right-hand side of rule RULE-NUM.  */
static const yytype_int8 yyr2[] =
{
       0,     2,     0,     2,     1,     1,     1,     1,     1,     1,
       1,     1,     5,     2,     6,     0,     2,     6,     0,     2,
       0,     2,     1,     1,     1,     1,     1,     1,     1,     5,
       5,     6,     0,     2,     1,     1,     1,     1,     4,     4,
       3,     3,     3,     2,     2,     3,     2,     3,     6,     0,
       2,     3,     1,     1,     1,     1,     1,     4,     2,     3,
       4,     1,     3,     5,     0,     2,     3,     6,     2,     1,
       2,     3,     3,     0,     4,     3,     0,     2,     1,     1
};


enum { YYENOMEM = -2 };

#define yyerrok         (yyerrstatus = 0)
#define yyclearin       (yychar = YYEMPTY)

#define YYACCEPT        goto yyacceptlab
#define YYABORT         goto yyabortlab
#define YYERROR         goto yyerrorlab
#define YYNOMEM         goto yyexhaustedlab


#define YYRECOVERING()  (!!yyerrstatus)

#define YYBACKUP(Token, Value)                                    \
  do                                                              \
    if (yychar == YYEMPTY)                                        \
      {                                                           \
        yychar = (Token);                                         \
        yylval = (Value);                                         \
        YYPOPSTACK (yylen);                                       \
        yystate = *yyssp;                                         \
        YY_LAC_DISCARD ("YYBACKUP");                              \
        goto yybackup;                                            \
      }                                                           \
    else                                                          \
      {                                                           \
        yyerror (&yylloc, scanner, ctx, YY_("syntax error: cannot back up")); \
        YYERROR;                                                  \
      }                                                           \
  while (0)

/* Backward compatibility with an undocumented macro.
   Use YYerror or YYUNDEF. */
#define YYERRCODE YYUNDEF

/* YYLLOC_DEFAULT -- Set CURRENT to span from RHS[1] to RHS[N].
   If N is 0, then set CURRENT to the empty location which ends
   the previous symbol: RHS[0] (always defined).  */

#ifndef YYLLOC_DEFAULT
# define YYLLOC_DEFAULT(Current, Rhs, N)                                \
    do                                                                  \
      if (N)                                                            \
        {                                                               \
          (Current).first_line   = YYRHSLOC (Rhs, 1).first_line;        \
          (Current).first_column = YYRHSLOC (Rhs, 1).first_column;      \
          (Current).last_line    = YYRHSLOC (Rhs, N).last_line;         \
          (Current).last_column  = YYRHSLOC (Rhs, N).last_column;       \
        }                                                               \
      else                                                              \
        {                                                               \
          (Current).first_line   = (Current).last_line   =              \
            YYRHSLOC (Rhs, 0).last_line;                                \
          (Current).first_column = (Current).last_column =              \
            YYRHSLOC (Rhs, 0).last_column;                              \
        }                                                               \
    while (0)
#endif

#define YYRHSLOC(Rhs, K) ((Rhs)[K])


/* Enable debugging if requested.  */
#if YYDEBUG

# ifndef YYFPRINTF
#  include <stdio.h> /* INFRINGES ON USER NAME SPACE */
#  define YYFPRINTF fprintf
# endif

# define YYDPRINTF(Args)                        \
do {                                            \
  if (yydebug)                                  \
    YYFPRINTF Args;                             \
} while (0)


/* YYLOCATION_PRINT -- Print the location on the stream.
   This macro was not mandated originally: define only if we know
   we won't break user code: when these are the locations we know.  */

# ifndef YYLOCATION_PRINT

#  if defined YY_LOCATION_PRINT

   /* Temporary convenience wrapper in case some people defined the
      undocumented and private YY_LOCATION_PRINT macros.  */
#   define YYLOCATION_PRINT(File, Loc)  YY_LOCATION_PRINT(File, *(Loc))

#  elif defined YYLTYPE_IS_TRIVIAL && YYLTYPE_IS_TRIVIAL

/* Print *YYLOCP on YYO.  Private, do not rely on its existence. */

YY_ATTRIBUTE_UNUSED
static int
yy_location_print_ (FILE *yyo, YYLTYPE const * const yylocp)
{
  int res = 0;
  int end_col = 0 != yylocp->last_column ? yylocp->last_column - 1 : 0;
  if (0 <= yylocp->first_line)
    {
      res += YYFPRINTF (yyo, "%d", yylocp->first_line);
      if (0 <= yylocp->first_column)
        res += YYFPRINTF (yyo, ".%d", yylocp->first_column);
    }
  if (0 <= yylocp->last_line)
    {
      if (yylocp->first_line < yylocp->last_line)
        {
          res += YYFPRINTF (yyo, "-%d", yylocp->last_line);
          if (0 <= end_col)
            res += YYFPRINTF (yyo, ".%d", end_col);
        }
      else if (0 <= end_col && yylocp->first_column < end_col)
        res += YYFPRINTF (yyo, "-%d", end_col);
    }
  return res;
}

#   define YYLOCATION_PRINT  yy_location_print_

    /* Temporary convenience wrapper in case some people defined the
       undocumented and private YY_LOCATION_PRINT macros.  */
#   define YY_LOCATION_PRINT(File, Loc)  YYLOCATION_PRINT(File, &(Loc))

#  else

#   define YYLOCATION_PRINT(File, Loc) ((void) 0)
    /* Temporary convenience wrapper in case some people defined the
       undocumented and private YY_LOCATION_PRINT macros.  */
#   define YY_LOCATION_PRINT  YYLOCATION_PRINT

#  endif
# endif /* !defined YYLOCATION_PRINT */


# define YY_SYMBOL_PRINT(Title, Kind, Value, Location)                    \
do {                                                                      \
  if (yydebug)                                                            \
    {                                                                     \
      YYFPRINTF (stderr, "%s ", Title);                                   \
      yy_symbol_print (stderr,                                            \
                  Kind, Value, Location, scanner, ctx); \
      YYFPRINTF (stderr, "\n");                                           \
    }                                                                     \
} while (0)


/*-----------------------------------.
| Print this symbol's value on YYO.  |
`-----------------------------------*/

static void
yy_symbol_value_print (FILE *yyo,
                       yysymbol_kind_t yykind, YYSTYPE const * const yyvaluep, YYLTYPE const * const yylocationp, void *scanner, parse_ctx *ctx)
{
  FILE *yyoutput = yyo;
  YY_USE (yyoutput);
  YY_USE (yylocationp);
  YY_USE (scanner);
  YY_USE (ctx);
  if (!yyvaluep)
    return;
  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  YY_USE (yykind);
  YY_IGNORE_MAYBE_UNINITIALIZED_END
}


/*---------------------------.
| Print this symbol on YYO.  |
`---------------------------*/

static void
yy_symbol_print (FILE *yyo,
                 yysymbol_kind_t yykind, YYSTYPE const * const yyvaluep, YYLTYPE const * const yylocationp, void *scanner, parse_ctx *ctx)
{
  YYFPRINTF (yyo, "%s %s (",
             yykind < YYNTOKENS ? "token" : "nterm", yysymbol_name (yykind));

  YYLOCATION_PRINT (yyo, yylocationp);
  YYFPRINTF (yyo, ": ");
  yy_symbol_value_print (yyo, yykind, yyvaluep, yylocationp, scanner, ctx);
  YYFPRINTF (yyo, ")");
}

/*------------------------------------------------------------------.
| yy_stack_print -- Print the state stack from its BOTTOM up to its |
| TOP (included).                                                   |
`------------------------------------------------------------------*/

static void
yy_stack_print (yy_state_t *yybottom, yy_state_t *yytop)
{
  YYFPRINTF (stderr, "Stack now");
  for (; yybottom <= yytop; yybottom++)
    {
      int yybot = *yybottom;
      YYFPRINTF (stderr, " %d", yybot);
    }
  YYFPRINTF (stderr, "\n");
}

# define YY_STACK_PRINT(Bottom, Top)                            \
do {                                                            \
  if (yydebug)                                                  \
    yy_stack_print ((Bottom), (Top));                           \
} while (0)


/*------------------------------------------------.
| Report that the YYRULE is going to be reduced.  |
`------------------------------------------------*/

static void
yy_reduce_print (yy_state_t *yyssp, YYSTYPE *yyvsp, YYLTYPE *yylsp,
                 int yyrule, void *scanner, parse_ctx *ctx)
{
  int yylno = yyrline[yyrule];
  int yynrhs = yyr2[yyrule];
  int yyi;
  YYFPRINTF (stderr, "Reducing stack by rule %d (line %d):\n",
             yyrule - 1, yylno);
  /* The symbols being reduced.  */
  for (yyi = 0; yyi < yynrhs; yyi++)
    {
      YYFPRINTF (stderr, "   $%d = ", yyi + 1);
      yy_symbol_print (stderr,
                       YY_ACCESSING_SYMBOL (+yyssp[yyi + 1 - yynrhs]),
                       &yyvsp[(yyi + 1) - (yynrhs)],
                       &(yylsp[(yyi + 1) - (yynrhs)]), scanner, ctx);
      YYFPRINTF (stderr, "\n");
    }
}

# define YY_REDUCE_PRINT(Rule)          \
do {                                    \
  if (yydebug)                          \
    yy_reduce_print (yyssp, yyvsp, yylsp, Rule, scanner, ctx); \
} while (0)

/* Nonzero means print parse trace.  It is left uninitialized so that
   multiple parsers can coexist.  */
int yydebug;
#else /* !YYDEBUG */
# define YYDPRINTF(Args) ((void) 0)
# define YY_SYMBOL_PRINT(Title, Kind, Value, Location)
# define YY_STACK_PRINT(Bottom, Top)
# define YY_REDUCE_PRINT(Rule)
#endif /* !YYDEBUG */


/* YYINITDEPTH -- initial size of the parser's stacks.  */
#ifndef YYINITDEPTH
# define YYINITDEPTH 200
#endif

/* YYMAXDEPTH -- maximum size the stacks can grow to (effective only
   if the built-in stack extension method is used).

   Do not make this value too large; the results are undefined if
   YYSTACK_ALLOC_MAXIMUM < YYSTACK_BYTES (YYMAXDEPTH)
   evaluated with infinite-precision integer arithmetic.  */

#ifndef YYMAXDEPTH
# define YYMAXDEPTH 10000
#endif


/* Given a state stack such that *YYBOTTOM is its bottom, such that
   *YYTOP is either its top or is YYTOP_EMPTY to indicate an empty
   stack, and such that *YYCAPACITY is the maximum number of elements it
   can hold without a reallocation, make sure there is enough room to
   store YYADD more elements.  If not, allocate a new stack using
   YYSTACK_ALLOC, copy the existing elements, and adjust *YYBOTTOM,
   *YYTOP, and *YYCAPACITY to reflect the new capacity and memory
   location.  If *YYBOTTOM != YYBOTTOM_NO_FREE, then free the old stack
   using YYSTACK_FREE.  Return 0 if successful or if no reallocation is
   required.  Return YYENOMEM if memory is exhausted.  */
static int
yy_lac_stack_realloc (YYPTRDIFF_T *yycapacity, YYPTRDIFF_T yyadd,
#if YYDEBUG
                      char const *yydebug_prefix,
                      char const *yydebug_suffix,
#endif
                      yy_state_t **yybottom,
                      yy_state_t *yybottom_no_free,
                      yy_state_t **yytop, yy_state_t *yytop_empty)
{
  YYPTRDIFF_T yysize_old =
    *yytop == yytop_empty ? 0 : *yytop - *yybottom + 1;
  YYPTRDIFF_T yysize_new = yysize_old + yyadd;
  if (*yycapacity < yysize_new)
    {
      YYPTRDIFF_T yyalloc = 2 * yysize_new;
      yy_state_t *yybottom_new;
      /* Use YYMAXDEPTH for maximum stack size given that the stack
         should never need to grow larger than the main state stack
         needs to grow without LAC.  */
      if (YYMAXDEPTH < yysize_new)
        {
          YYDPRINTF ((stderr, "%smax size exceeded%s", yydebug_prefix,
                      yydebug_suffix));
          return YYENOMEM;
        }
      if (YYMAXDEPTH < yyalloc)
        yyalloc = YYMAXDEPTH;
      yybottom_new =
        YY_CAST (yy_state_t *,
                 YYSTACK_ALLOC (YY_CAST (YYSIZE_T,
                                         yyalloc * YYSIZEOF (*yybottom_new))));
      if (!yybottom_new)
        {
          YYDPRINTF ((stderr, "%srealloc failed%s", yydebug_prefix,
                      yydebug_suffix));
          return YYENOMEM;
        }
      if (*yytop != yytop_empty)
        {
          YYCOPY (yybottom_new, *yybottom, yysize_old);
          *yytop = yybottom_new + (yysize_old - 1);
        }
      if (*yybottom != yybottom_no_free)
        YYSTACK_FREE (*yybottom);
      *yybottom = yybottom_new;
      *yycapacity = yyalloc;
    }
  return 0;
}

/* Establish the initial context for the current lookahead if no initial
   context is currently established.

   We define a context as a snapshot of the parser stacks.  We define
   the initial context for a lookahead as the context in which the
   parser initially examines that lookahead in order to select a
   syntactic action.  Thus, if the lookahead eventually proves
   syntactically unacceptable (possibly in a later context reached via a
   series of reductions), the initial context can be used to determine
   the exact set of tokens that would be syntactically acceptable in the
   lookahead's place.  Moreover, it is the context after which any
   further semantic actions would be erroneous because they would be
   determined by a syntactically unacceptable token.

   YY_LAC_ESTABLISH should be invoked when a reduction is about to be
   performed in an inconsistent state (which, for the purposes of LAC,
   includes consistent states that don't know they're consistent because
   their default reductions have been disabled).  Iff there is a
   lookahead token, it should also be invoked before reporting a syntax
   error.  This latter case is for the sake of the debugging output.

   For parse.lac=full, the implementation of YY_LAC_ESTABLISH is as
   follows.  If no initial context is currently established for the
   current lookahead, then check if that lookahead can eventually be
   shifted if syntactic actions continue from the current context.
   Report a syntax error if it cannot.  */
#define YY_LAC_ESTABLISH                                                \
do {                                                                    \
  if (!yy_lac_established)                                              \
    {                                                                   \
      YYDPRINTF ((stderr,                                               \
                  "LAC: initial context established for %s\n",          \
                  yysymbol_name (yytoken)));                            \
      yy_lac_established = 1;                                           \
      switch (yy_lac (yyesa, &yyes, &yyes_capacity, yyssp, yytoken))    \
        {                                                               \
        case YYENOMEM:                                                  \
          YYNOMEM;                                                      \
        case 1:                                                         \
          goto yyerrlab;                                                \
        }                                                               \
    }                                                                   \
} while (0)

/* Discard any previous initial lookahead context because of Event,
   which may be a lookahead change or an invalidation of the currently
   established initial context for the current lookahead.

   The most common example of a lookahead change is a shift.  An example
   of both cases is syntax error recovery.  That is, a syntax error
   occurs when the lookahead is syntactically erroneous for the
   currently established initial context, so error recovery manipulates
   the parser stacks to try to find a new initial context in which the
   current lookahead is syntactically acceptable.  If it fails to find
   such a context, it discards the lookahead.  */
#if YYDEBUG
# define YY_LAC_DISCARD(Event)                                           \
do {                                                                     \
  if (yy_lac_established)                                                \
    {                                                                    \
      YYDPRINTF ((stderr, "LAC: initial context discarded due to "       \
                  Event "\n"));                                          \
      yy_lac_established = 0;                                            \
    }                                                                    \
} while (0)
#else
# define YY_LAC_DISCARD(Event) yy_lac_established = 0
#endif

/* Given the stack whose top is *YYSSP, return 0 iff YYTOKEN can
   eventually (after perhaps some reductions) be shifted, return 1 if
   not, or return YYENOMEM if memory is exhausted.  As preconditions and
   postconditions: *YYES_CAPACITY is the allocated size of the array to
   which *YYES points, and either *YYES = YYESA or *YYES points to an
   array allocated with YYSTACK_ALLOC.  yy_lac may overwrite the
   contents of either array, alter *YYES and *YYES_CAPACITY, and free
   any old *YYES other than YYESA.  */
static int
yy_lac (yy_state_t *yyesa, yy_state_t **yyes,
        YYPTRDIFF_T *yyes_capacity, yy_state_t *yyssp, yysymbol_kind_t yytoken)
{
  yy_state_t *yyes_prev = yyssp;
  yy_state_t *yyesp = yyes_prev;
  /* Reduce until we encounter a shift and thereby accept the token.  */
  YYDPRINTF ((stderr, "LAC: checking lookahead %s:", yysymbol_name (yytoken)));
  if (yytoken == YYSYMBOL_YYUNDEF)
    {
      YYDPRINTF ((stderr, " Always Err\n"));
      return 1;
    }
  while (1)
    {
      int yyrule = yypact[+*yyesp];
      if (yypact_value_is_default (yyrule)
          || (yyrule += yytoken) < 0 || YYLAST < yyrule
          || yycheck[yyrule] != yytoken)
        {
          /* Use the default action.  */
          yyrule = yydefact[+*yyesp];
          if (yyrule == 0)
            {
              YYDPRINTF ((stderr, " Err\n"));
              return 1;
            }
        }
      else
        {
          /* Use the action from yytable.  */
          yyrule = yytable[yyrule];
          if (yytable_value_is_error (yyrule))
            {
              YYDPRINTF ((stderr, " Err\n"));
              return 1;
            }
          if (0 < yyrule)
            {
              YYDPRINTF ((stderr, " S%d\n", yyrule));
              return 0;
            }
          yyrule = -yyrule;
        }
      /* By now we know we have to simulate a reduce.  */
      YYDPRINTF ((stderr, " R%d", yyrule - 1));
      {
        /* Pop the corresponding number of values from the stack.  */
        YYPTRDIFF_T yylen = yyr2[yyrule];
        /* First pop from the LAC stack as many tokens as possible.  */
        if (yyesp != yyes_prev)
          {
            YYPTRDIFF_T yysize = yyesp - *yyes + 1;
            if (yylen < yysize)
              {
                yyesp -= yylen;
                yylen = 0;
              }
            else
              {
                yyesp = yyes_prev;
                yylen -= yysize;
              }
          }
        /* Only afterwards look at the main stack.  */
        if (yylen)
          yyesp = yyes_prev -= yylen;
      }
      /* Push the resulting state of the reduction.  */
      {
        yy_state_fast_t yystate;
        {
          const int yylhs = yyr1[yyrule] - YYNTOKENS;
          const int yyi = yypgoto[yylhs] + *yyesp;
          yystate = (0 <= yyi && yyi <= YYLAST && yycheck[yyi] == *yyesp
                     ? yytable[yyi]
                     : yydefgoto[yylhs]);
        }
        if (yyesp == yyes_prev)
          {
            yyesp = *yyes;
            YY_IGNORE_USELESS_CAST_BEGIN
            *yyesp = YY_CAST (yy_state_t, yystate);
            YY_IGNORE_USELESS_CAST_END
          }
        else
          {
            if (yy_lac_stack_realloc (yyes_capacity, 1,
#if YYDEBUG
                                      " (", ")",
#endif
                                      yyes, yyesa, &yyesp, yyes_prev))
              {
                YYDPRINTF ((stderr, "\n"));
                return YYENOMEM;
              }
            YY_IGNORE_USELESS_CAST_BEGIN
            *++yyesp = YY_CAST (yy_state_t, yystate);
            YY_IGNORE_USELESS_CAST_END
          }
        YYDPRINTF ((stderr, " G%d", yystate));
      }
    }
}

/* Context of a parse error.  */
typedef struct
{
  yy_state_t *yyssp;
  yy_state_t *yyesa;
  yy_state_t **yyes;
  YYPTRDIFF_T *yyes_capacity;
  yysymbol_kind_t yytoken;
  YYLTYPE *yylloc;
} yypcontext_t;

/* Put in YYARG at most YYARGN of the expected tokens given the
   current YYCTX, and return the number of tokens stored in YYARG.  If
   YYARG is null, return the number of expected tokens (guaranteed to
   be less than YYNTOKENS).  Return YYENOMEM on memory exhaustion.
   Return 0 if there are more than YYARGN expected tokens, yet fill
   YYARG up to YYARGN. */
static int
yypcontext_expected_tokens (const yypcontext_t *yyctx,
                            yysymbol_kind_t yyarg[], int yyargn)
{
  /* Actual size of YYARG. */
  int yycount = 0;

  int yyx;
  for (yyx = 0; yyx < YYNTOKENS; ++yyx)
    {
      yysymbol_kind_t yysym = YY_CAST (yysymbol_kind_t, yyx);
      if (yysym != YYSYMBOL_YYerror && yysym != YYSYMBOL_YYUNDEF)
        switch (yy_lac (yyctx->yyesa, yyctx->yyes, yyctx->yyes_capacity, yyctx->yyssp, yysym))
          {
          case YYENOMEM:
            return YYENOMEM;
          case 1:
            continue;
          default:
            if (!yyarg)
              ++yycount;
            else if (yycount == yyargn)
              return 0;
            else
              yyarg[yycount++] = yysym;
          }
    }
  if (yyarg && yycount == 0 && 0 < yyargn)
    yyarg[0] = YYSYMBOL_YYEMPTY;
  return yycount;
}




/* The kind of the lookahead of this context.  */
static yysymbol_kind_t
yypcontext_token (const yypcontext_t *yyctx) YY_ATTRIBUTE_UNUSED;

static yysymbol_kind_t
yypcontext_token (const yypcontext_t *yyctx)
{
  return yyctx->yytoken;
}

/* The location of the lookahead of this context.  */
static YYLTYPE *
yypcontext_location (const yypcontext_t *yyctx) YY_ATTRIBUTE_UNUSED;

static YYLTYPE *
yypcontext_location (const yypcontext_t *yyctx)
{
  return yyctx->yylloc;
}

/* User defined function to report a syntax error.  */
static int
yyreport_syntax_error (const yypcontext_t *yyctx, void *scanner, parse_ctx *ctx);

/*-----------------------------------------------.
| Release the memory associated to this symbol.  |
`-----------------------------------------------*/

static void
yydestruct (const char *yymsg,
            yysymbol_kind_t yykind, YYSTYPE *yyvaluep, YYLTYPE *yylocationp, void *scanner, parse_ctx *ctx)
{
  YY_USE (yyvaluep);
  YY_USE (yylocationp);
  YY_USE (scanner);
  YY_USE (ctx);
  if (!yymsg)
    yymsg = "Deleting";
  YY_SYMBOL_PRINT (yymsg, yykind, yyvaluep, yylocationp);

  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  YY_USE (yykind);
  YY_IGNORE_MAYBE_UNINITIALIZED_END
}






/*----------.
| yyparse.  |
`----------*/

int
yyparse (void *scanner, parse_ctx *ctx)
{
/* Lookahead token kind.  */
int yychar;


/* The semantic value of the lookahead symbol.  */
/* Default value used for initialization, for pacifying older GCCs
   or non-GCC compilers.  */
YY_INITIAL_VALUE (static YYSTYPE yyval_default;)
YYSTYPE yylval YY_INITIAL_VALUE (= yyval_default);

/* Location data for the lookahead symbol.  */
static YYLTYPE yyloc_default
# if defined YYLTYPE_IS_TRIVIAL && YYLTYPE_IS_TRIVIAL
  = { 1, 1, 1, 1 }
# endif
;
YYLTYPE yylloc = yyloc_default;

    /* Number of syntax errors so far.  */
    int yynerrs = 0;

    yy_state_fast_t yystate = 0;
    /* Number of tokens to shift before error messages enabled.  */
    int yyerrstatus = 0;

    /* Refer to the stacks through separate pointers, to allow yyoverflow
       to reallocate them elsewhere.  */

    /* Their size.  */
    YYPTRDIFF_T yystacksize = YYINITDEPTH;

    /* The state stack: array, bottom, top.  */
    yy_state_t yyssa[YYINITDEPTH];
    yy_state_t *yyss = yyssa;
    yy_state_t *yyssp = yyss;

    /* The semantic value stack: array, bottom, top.  */
    YYSTYPE yyvsa[YYINITDEPTH];
    YYSTYPE *yyvs = yyvsa;
    YYSTYPE *yyvsp = yyvs;

    /* The location stack: array, bottom, top.  */
    YYLTYPE yylsa[YYINITDEPTH];
    YYLTYPE *yyls = yylsa;
    YYLTYPE *yylsp = yyls;

    yy_state_t yyesa[20];
    yy_state_t *yyes = yyesa;
    YYPTRDIFF_T yyes_capacity = 20 < YYMAXDEPTH ? 20 : YYMAXDEPTH;

  /* Whether LAC context is established.  A Boolean.  */
  int yy_lac_established = 0;
  int yyn;
  /* The return value of yyparse.  */
  int yyresult;
  /* Lookahead symbol kind.  */
  yysymbol_kind_t yytoken = YYSYMBOL_YYEMPTY;
  /* The variables used to return semantic value and location from the
     action routines.  */
  YYSTYPE yyval;
  YYLTYPE yyloc;

  /* The locations where the error started and ended.  */
  YYLTYPE yyerror_range[3];



#define YYPOPSTACK(N)   (yyvsp -= (N), yyssp -= (N), yylsp -= (N))

  /* The number of symbols on the RHS of the reduced rule.
     Keep to zero when no symbol should be popped.  */
  int yylen = 0;

  YYDPRINTF ((stderr, "Starting parse\n"));

  yychar = YYEMPTY; /* Cause a token to be read.  */

  yylsp[0] = yylloc;
  goto yysetstate;


/*------------------------------------------------------------.
| yynewstate -- push a new state, which is found in yystate.  |
`------------------------------------------------------------*/
yynewstate:
  /* In all cases, when you get here, the value and location stacks
     have just been pushed.  So pushing a state here evens the stacks.  */
  yyssp++;


/*--------------------------------------------------------------------.
| yysetstate -- set current state (the top of the stack) to yystate.  |
`--------------------------------------------------------------------*/
yysetstate:
  YYDPRINTF ((stderr, "Entering state %d\n", yystate));
  YY_ASSERT (0 <= yystate && yystate < YYNSTATES);
  YY_IGNORE_USELESS_CAST_BEGIN
  *yyssp = YY_CAST (yy_state_t, yystate);
  YY_IGNORE_USELESS_CAST_END
  YY_STACK_PRINT (yyss, yyssp);

  if (yyss + yystacksize - 1 <= yyssp)
#if !defined yyoverflow && !defined YYSTACK_RELOCATE
    YYNOMEM;
#else
    {
      /* Get the current used size of the three stacks, in elements.  */
      YYPTRDIFF_T yysize = yyssp - yyss + 1;

# if defined yyoverflow
      {
        /* Give user a chance to reallocate the stack.  Use copies of
           these so that the &'s don't force the real ones into
           memory.  */
        yy_state_t *yyss1 = yyss;
        YYSTYPE *yyvs1 = yyvs;
        YYLTYPE *yyls1 = yyls;

        /* Each stack pointer address is followed by the size of the
           data in use in that stack, in bytes.  This used to be a
           conditional around just the two extra args, but that might
           be undefined if yyoverflow is a macro.  */
        yyoverflow (YY_("memory exhausted"),
                    &yyss1, yysize * YYSIZEOF (*yyssp),
                    &yyvs1, yysize * YYSIZEOF (*yyvsp),
                    &yyls1, yysize * YYSIZEOF (*yylsp),
                    &yystacksize);
        yyss = yyss1;
        yyvs = yyvs1;
        yyls = yyls1;
      }
# else /* defined YYSTACK_RELOCATE */
      /* Extend the stack our own way.  */
      if (YYMAXDEPTH <= yystacksize)
        YYNOMEM;
      yystacksize *= 2;
      if (YYMAXDEPTH < yystacksize)
        yystacksize = YYMAXDEPTH;

      {
        yy_state_t *yyss1 = yyss;
        union yyalloc *yyptr =
          YY_CAST (union yyalloc *,
                   YYSTACK_ALLOC (YY_CAST (YYSIZE_T, YYSTACK_BYTES (yystacksize))));
        if (! yyptr)
          YYNOMEM;
        YYSTACK_RELOCATE (yyss_alloc, yyss);
        YYSTACK_RELOCATE (yyvs_alloc, yyvs);
        YYSTACK_RELOCATE (yyls_alloc, yyls);
#  undef YYSTACK_RELOCATE
        if (yyss1 != yyssa)
          YYSTACK_FREE (yyss1);
      }
# endif

      yyssp = yyss + yysize - 1;
      yyvsp = yyvs + yysize - 1;
      yylsp = yyls + yysize - 1;

      YY_IGNORE_USELESS_CAST_BEGIN
      YYDPRINTF ((stderr, "Stack size increased to %ld\n",
                  YY_CAST (long, yystacksize)));
      YY_IGNORE_USELESS_CAST_END

      if (yyss + yystacksize - 1 <= yyssp)
        YYABORT;
    }
#endif /* !defined yyoverflow && !defined YYSTACK_RELOCATE */


  if (yystate == YYFINAL)
    YYACCEPT;

  goto yybackup;


/*-----------.
| yybackup.  |
`-----------*/
yybackup:
  /* Do appropriate processing given the current state.  Read a
     lookahead token if we need one and don't already have one.  */

  /* First try to decide what to do without reference to lookahead token.  */
  yyn = yypact[yystate];
  if (yypact_value_is_default (yyn))
    goto yydefault;

  /* Not known => get a lookahead token if don't already have one.  */

  /* YYCHAR is either empty, or end-of-input, or a valid lookahead.  */
  if (yychar == YYEMPTY)
    {
      YYDPRINTF ((stderr, "Reading a token\n"));
      yychar = yylex (&yylval, &yylloc, scanner);
    }

  if (yychar <= YYEOF)
    {
      yychar = YYEOF;
      yytoken = YYSYMBOL_YYEOF;
      YYDPRINTF ((stderr, "Now at end of input.\n"));
    }
  else if (yychar == YYerror)
    {
      /* The scanner already issued an error message, process directly
         to error recovery.  But do not keep the error token as
         lookahead, it is too special and may lead us to an endless
         loop in error recovery. */
      yychar = YYUNDEF;
      yytoken = YYSYMBOL_YYerror;
      yyerror_range[1] = yylloc;
      goto yyerrlab1;
    }
  else
    {
      yytoken = YYTRANSLATE (yychar);
      YY_SYMBOL_PRINT ("Next token is", yytoken, &yylval, &yylloc);
    }

  /* If the proper action on seeing token YYTOKEN is to reduce or to
     detect an error, take that action.  */
  yyn += yytoken;
  if (yyn < 0 || YYLAST < yyn || yycheck[yyn] != yytoken)
    {
      YY_LAC_ESTABLISH;
      goto yydefault;
    }
  yyn = yytable[yyn];
  if (yyn <= 0)
    {
      if (yytable_value_is_error (yyn))
        goto yyerrlab;
      yyn = -yyn;
      YY_LAC_ESTABLISH;
      goto yyreduce;
    }

  /* Count tokens shifted since error; after three, turn off error
     status.  */
  if (yyerrstatus)
    yyerrstatus--;

  /* Shift the lookahead token.  */
  YY_SYMBOL_PRINT ("Shifting", yytoken, &yylval, &yylloc);
  yystate = yyn;
  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  *++yyvsp = yylval;
  YY_IGNORE_MAYBE_UNINITIALIZED_END
  *++yylsp = yylloc;

  /* Discard the shifted token.  */
  yychar = YYEMPTY;
  YY_LAC_DISCARD ("shift");
  goto yynewstate;


/*-----------------------------------------------------------.
| yydefault -- do the default action for the current state.  |
`-----------------------------------------------------------*/
yydefault:
  yyn = yydefact[yystate];
  if (yyn == 0)
    goto yyerrlab;
  goto yyreduce;


/*-----------------------------.
| yyreduce -- do a reduction.  |
`-----------------------------*/
yyreduce:
  /* yyn is the number of a rule to reduce with.  */
  yylen = yyr2[yyn];

  /* If YYLEN is nonzero, implement the default value of the action:
     '$$ = $1'.

     Otherwise, the following line sets YYVAL to garbage.
     This behavior is undocumented and Bison
     users should not rely upon it.  Assigning to YYVAL
     unconditionally makes the parser a bit smaller, and it avoids a
     GCC warning that YYVAL may be used uninitialized.  */
  yyval = yyvsp[1-yylen];

  /* Default location. */
  YYLLOC_DEFAULT (yyloc, (yylsp - yylen), yylen);
  yyerror_range[1] = yyloc;
  YY_REDUCE_PRINT (yyn);
  {
    int yychar_backup = yychar;
    switch (yyn)
      {
  case 3: /* file: file item  */
#line 153 "lang/parser.y"
                                { ast_list_push(&ctx->items, (yyvsp[0].node)); }
#line 1743 "build-fp/lang/parser.c"
    break;

  case 11: /* item: error  */
#line 159 "lang/parser.y"
                                { (yyval.node) = NULL; }
#line 1749 "build-fp/lang/parser.c"
    break;

  case 12: /* policy: "policy" "string" '{' settings '}'  */
#line 165 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_POLICY, (yyloc), mkname((yyvsp[-3].str), (yylsp[-3])), noname, (yyvsp[-1].list).head); }
#line 1755 "build-fp/lang/parser.c"
    break;

  case 13: /* import: "import" "string"  */
#line 171 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_IMPORT, (yyloc), mkname((yyvsp[0].str), (yylsp[0])), noname, NULL); }
#line 1761 "build-fp/lang/parser.c"
    break;

  case 14: /* tier: "tier" "name" extends_opt '{' members '}'  */
#line 177 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_TIER, (yyloc), mkname((yyvsp[-4].str), (yylsp[-4])),
                     mkname((yyvsp[-3].str), (yyvsp[-3].str) ? (yylsp[-3]) : span_none), (yyvsp[-1].list).head); }
#line 1768 "build-fp/lang/parser.c"
    break;

  case 15: /* extends_opt: %empty  */
#line 181 "lang/parser.y"
                                { (yyval.str) = NULL; }
#line 1774 "build-fp/lang/parser.c"
    break;

  case 16: /* extends_opt: "extends" "name"  */
#line 182 "lang/parser.y"
                                { (yyval.str) = (yyvsp[0].str); (yyloc) = (yylsp[0]); }
#line 1780 "build-fp/lang/parser.c"
    break;

  case 17: /* tenant: "tenant" "string" tier_opt '{' members '}'  */
#line 188 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_TENANT, (yyloc), mkname((yyvsp[-4].str), (yylsp[-4])),
                     mkname((yyvsp[-3].str), (yyvsp[-3].str) ? (yylsp[-3]) : span_none), (yyvsp[-1].list).head); }
#line 1787 "build-fp/lang/parser.c"
    break;

  case 18: /* tier_opt: %empty  */
#line 192 "lang/parser.y"
                                { (yyval.str) = NULL; }
#line 1793 "build-fp/lang/parser.c"
    break;

  case 19: /* tier_opt: "tier" "name"  */
#line 193 "lang/parser.y"
                                { (yyval.str) = (yyvsp[0].str); (yyloc) = (yylsp[0]); }
#line 1799 "build-fp/lang/parser.c"
    break;

  case 20: /* members: %empty  */
#line 198 "lang/parser.y"
                                { (yyval.list).head = (yyval.list).tail = NULL; }
#line 1805 "build-fp/lang/parser.c"
    break;

  case 21: /* members: members member  */
#line 199 "lang/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); ast_list_push(&(yyval.list), (yyvsp[0].node)); }
#line 1811 "build-fp/lang/parser.c"
    break;

  case 28: /* member: error  */
#line 203 "lang/parser.y"
                                { (yyval.node) = NULL; }
#line 1817 "build-fp/lang/parser.c"
    break;

  case 29: /* group: "group" "string" '{' members '}'  */
#line 209 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_GROUP, (yyloc), mkname((yyvsp[-3].str), (yylsp[-3])), noname, (yyvsp[-1].list).head); }
#line 1823 "build-fp/lang/parser.c"
    break;

  case 30: /* key: "key" "string" '{' members '}'  */
#line 215 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_KEY, (yyloc), mkname((yyvsp[-3].str), (yylsp[-3])), noname, (yyvsp[-1].list).head); }
#line 1829 "build-fp/lang/parser.c"
    break;

  case 31: /* route: "route" "name" "string" '{' route_members '}'  */
#line 221 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_ROUTE, (yyloc), mkname((yyvsp[-3].str), (yylsp[-3])), mkname((yyvsp[-4].str), (yylsp[-4])), (yyvsp[-1].list).head); }
#line 1835 "build-fp/lang/parser.c"
    break;

  case 32: /* route_members: %empty  */
#line 224 "lang/parser.y"
                                { (yyval.list).head = (yyval.list).tail = NULL; }
#line 1841 "build-fp/lang/parser.c"
    break;

  case 33: /* route_members: route_members route_member  */
#line 225 "lang/parser.y"
                                 { (yyval.list) = (yyvsp[-1].list); ast_list_push(&(yyval.list), (yyvsp[0].node)); }
#line 1847 "build-fp/lang/parser.c"
    break;

  case 37: /* route_member: error  */
#line 229 "lang/parser.y"
                                { (yyval.node) = NULL; }
#line 1853 "build-fp/lang/parser.c"
    break;

  case 38: /* limit: "limit" "integer" '/' "duration"  */
#line 236 "lang/parser.y"
        {
            (yyval.node) = ast_new(A, AST_LIMIT, (yyloc));
            (yyval.node)->u.limit.count = mkint((yyvsp[-2].num), (yylsp[-2]));
            (yyval.node)->u.limit.window = (yyvsp[0].dur);
            (yyval.node)->u.limit.rate_sp = span_join((yylsp[-2]), (yylsp[0]));
        }
#line 1864 "build-fp/lang/parser.c"
    break;

  case 39: /* limit: "limit" "integer" '/' "name"  */
#line 243 "lang/parser.y"
        {
            /* "100/s" means "100/1s": the unit alone is one of it. */
            (yyval.node) = ast_new(A, AST_LIMIT, (yyloc));
            (yyval.node)->u.limit.count = mkint((yyvsp[-2].num), (yylsp[-2]));
            ast_dur d;
            memset(&d, 0, sizeof d);
            d.sp = (yylsp[0]);
            d.set = true;
            d.n = 1;
            d.ms = lex_bare_unit(ctx, (yylsp[0]), (yyvsp[0].str), d.unit);
            (yyval.node)->u.limit.window = d;
            (yyval.node)->u.limit.rate_sp = span_join((yylsp[-2]), (yylsp[0]));
        }
#line 1882 "build-fp/lang/parser.c"
    break;

  case 40: /* limit: limit "burst" "integer"  */
#line 257 "lang/parser.y"
        {
            (yyval.node) = (yyvsp[-2].node);
            if ((yyval.node)->u.limit.burst.set)
                dup_option(ctx, "burst", (yylsp[-1]), (yyval.node)->u.limit.burst.sp);
            (yyval.node)->u.limit.burst = mkint((yyvsp[0].num), (yylsp[0]));
            (yyval.node)->sp = span_join((yyval.node)->sp, (yylsp[0]));
        }
#line 1894 "build-fp/lang/parser.c"
    break;

  case 41: /* limit: limit "cost" "integer"  */
#line 265 "lang/parser.y"
        {
            (yyval.node) = (yyvsp[-2].node);
            if ((yyval.node)->u.limit.cost.set)
                dup_option(ctx, "cost", (yylsp[-1]), (yyval.node)->u.limit.cost.sp);
            (yyval.node)->u.limit.cost = mkint((yyvsp[0].num), (yylsp[0]));
            (yyval.node)->sp = span_join((yyval.node)->sp, (yylsp[0]));
        }
#line 1906 "build-fp/lang/parser.c"
    break;

  case 42: /* limit: limit "algorithm" "name"  */
#line 273 "lang/parser.y"
        {
            (yyval.node) = (yyvsp[-2].node);
            if ((yyval.node)->u.limit.algo.s)
                dup_option(ctx, "algorithm", (yylsp[-1]), (yyval.node)->u.limit.algo.sp);
            (yyval.node)->u.limit.algo = mkname((yyvsp[0].str), (yylsp[0]));
            (yyval.node)->sp = span_join((yyval.node)->sp, (yylsp[0]));
        }
#line 1918 "build-fp/lang/parser.c"
    break;

  case 43: /* limit: limit "shadow"  */
#line 281 "lang/parser.y"
        {
            (yyval.node) = (yyvsp[-1].node);
            if ((yyval.node)->u.limit.shadow)
                dup_option(ctx, "shadow", (yylsp[0]), (yyval.node)->u.limit.shadow_sp);
            (yyval.node)->u.limit.shadow = true;
            (yyval.node)->u.limit.shadow_sp = (yylsp[0]);
            (yyval.node)->sp = span_join((yyval.node)->sp, (yylsp[0]));
        }
#line 1931 "build-fp/lang/parser.c"
    break;

  case 44: /* concurrency: "concurrency" "integer"  */
#line 294 "lang/parser.y"
        {
            (yyval.node) = ast_new(A, AST_CONCURRENCY, (yyloc));
            (yyval.node)->u.conc.max = mkint((yyvsp[0].num), (yylsp[0]));
        }
#line 1940 "build-fp/lang/parser.c"
    break;

  case 45: /* concurrency: concurrency "lease" "duration"  */
#line 299 "lang/parser.y"
        {
            (yyval.node) = (yyvsp[-2].node);
            if ((yyval.node)->u.conc.lease.set)
                dup_option(ctx, "lease", (yylsp[-1]), (yyval.node)->u.conc.lease.sp);
            (yyval.node)->u.conc.lease = (yyvsp[0].dur);
            (yyval.node)->sp = span_join((yyval.node)->sp, (yylsp[0]));
        }
#line 1952 "build-fp/lang/parser.c"
    break;

  case 46: /* concurrency: concurrency "shadow"  */
#line 307 "lang/parser.y"
        {
            (yyval.node) = (yyvsp[-1].node);
            if ((yyval.node)->u.conc.shadow)
                dup_option(ctx, "shadow", (yylsp[0]), (yyval.node)->u.conc.shadow_sp);
            (yyval.node)->u.conc.shadow = true;
            (yyval.node)->u.conc.shadow_sp = (yylsp[0]);
            (yyval.node)->sp = span_join((yyval.node)->sp, (yylsp[0]));
        }
#line 1965 "build-fp/lang/parser.c"
    break;

  case 47: /* allow: "allow" "name" "string"  */
#line 320 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_ALLOW, (yyloc), mkname((yyvsp[-1].str), (yylsp[-1])), mkname((yyvsp[0].str), (yylsp[0])), NULL); }
#line 1971 "build-fp/lang/parser.c"
    break;

  case 48: /* target: "target" "name" "string" '{' settings '}'  */
#line 326 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_TARGET, (yyloc), mkname((yyvsp[-3].str), (yylsp[-3])), mkname((yyvsp[-4].str), (yylsp[-4])), (yyvsp[-1].list).head); }
#line 1977 "build-fp/lang/parser.c"
    break;

  case 49: /* settings: %empty  */
#line 331 "lang/parser.y"
                                { (yyval.list).head = (yyval.list).tail = NULL; }
#line 1983 "build-fp/lang/parser.c"
    break;

  case 50: /* settings: settings setting  */
#line 332 "lang/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); ast_list_push(&(yyval.list), (yyvsp[0].node)); }
#line 1989 "build-fp/lang/parser.c"
    break;

  case 51: /* setting: "name" '=' value  */
#line 336 "lang/parser.y"
        {
            (yyval.node) = ast_new(A, AST_SETTING, (yyloc));
            (yyval.node)->name = mkname((yyvsp[-2].str), (yylsp[-2]));
            (yyval.node)->u.value = (yyvsp[0].val);
        }
#line 1999 "build-fp/lang/parser.c"
    break;

  case 52: /* setting: error  */
#line 341 "lang/parser.y"
                                { (yyval.node) = NULL; }
#line 2005 "build-fp/lang/parser.c"
    break;

  case 53: /* value: "string"  */
#line 347 "lang/parser.y"
                    { (yyval.val) = new_value(ctx, VAL_STRING, (yyloc)); (yyval.val)->s = (yyvsp[0].str); }
#line 2011 "build-fp/lang/parser.c"
    break;

  case 54: /* value: "integer"  */
#line 348 "lang/parser.y"
                    { (yyval.val) = new_value(ctx, VAL_INT, (yyloc)); (yyval.val)->i = (yyvsp[0].num); }
#line 2017 "build-fp/lang/parser.c"
    break;

  case 55: /* value: "duration"  */
#line 349 "lang/parser.y"
                    { (yyval.val) = new_value(ctx, VAL_DURATION, (yyloc)); (yyval.val)->dur = (yyvsp[0].dur); }
#line 2023 "build-fp/lang/parser.c"
    break;

  case 56: /* value: "name"  */
#line 350 "lang/parser.y"
                    { (yyval.val) = new_value(ctx, VAL_IDENT, (yyloc)); (yyval.val)->s = (yyvsp[0].str); }
#line 2029 "build-fp/lang/parser.c"
    break;

  case 57: /* value: "name" '(' "string" ')'  */
#line 352 "lang/parser.y"
        {
            val_kind k = strcmp((yyvsp[-3].str), "env") == 0 ? VAL_ENV
                       : strcmp((yyvsp[-3].str), "file") == 0 ? VAL_FILE : VAL_CALL;
            (yyval.val) = new_value(ctx, k, (yyloc));
            (yyval.val)->s = k == VAL_CALL ? (yyvsp[-3].str) : (yyvsp[-1].str);
            if (k == VAL_CALL) {
                /* Checks reject it, but fmt must give back what was written. */
                (yyval.val)->items = new_value(ctx, VAL_STRING, (yylsp[-1]));
                (yyval.val)->items->s = (yyvsp[-1].str);
            }
        }
#line 2045 "build-fp/lang/parser.c"
    break;

  case 58: /* value: '[' ']'  */
#line 363 "lang/parser.y"
                    { (yyval.val) = new_value(ctx, VAL_LIST, (yyloc)); }
#line 2051 "build-fp/lang/parser.c"
    break;

  case 59: /* value: '[' values ']'  */
#line 365 "lang/parser.y"
        { (yyval.val) = new_value(ctx, VAL_LIST, (yyloc)); (yyval.val)->items = (yyvsp[-1].vals).head; }
#line 2057 "build-fp/lang/parser.c"
    break;

  case 60: /* value: '[' values ',' ']'  */
#line 367 "lang/parser.y"
        { (yyval.val) = new_value(ctx, VAL_LIST, (yyloc)); (yyval.val)->items = (yyvsp[-2].vals).head; }
#line 2063 "build-fp/lang/parser.c"
    break;

  case 61: /* values: value  */
#line 370 "lang/parser.y"
                                { (yyval.vals).head = (yyval.vals).tail = (yyvsp[0].val); }
#line 2069 "build-fp/lang/parser.c"
    break;

  case 62: /* values: values ',' value  */
#line 371 "lang/parser.y"
                                { (yyval.vals) = (yyvsp[-2].vals); (yyval.vals).tail->next = (yyvsp[0].val); (yyval.vals).tail = (yyvsp[0].val); }
#line 2075 "build-fp/lang/parser.c"
    break;

  case 63: /* test: "test" "string" '{' test_stmts '}'  */
#line 381 "lang/parser.y"
        { (yyval.node) = block(ctx, AST_TEST, (yyloc), mkname((yyvsp[-3].str), (yylsp[-3])), noname, (yyvsp[-1].list).head); }
#line 2081 "build-fp/lang/parser.c"
    break;

  case 64: /* test_stmts: %empty  */
#line 384 "lang/parser.y"
                                { (yyval.list).head = (yyval.list).tail = NULL; }
#line 2087 "build-fp/lang/parser.c"
    break;

  case 65: /* test_stmts: test_stmts test_stmt  */
#line 385 "lang/parser.y"
                                { (yyval.list) = (yyvsp[-1].list); ast_list_push(&(yyval.list), (yyvsp[0].node)); }
#line 2093 "build-fp/lang/parser.c"
    break;

  case 66: /* test_stmt: "request" req_path req_opts  */
#line 389 "lang/parser.y"
        {
            (yyval.node) = ast_new(A, AST_T_REQUEST, (yyloc));
            (yyval.node)->u.request.path = (yyvsp[-1].segs).head;
            (yyval.node)->u.request.method = (yyvsp[0].req).method;
            (yyval.node)->u.request.route = (yyvsp[0].req).route;
            (yyval.node)->u.request.cost = (yyvsp[0].req).cost;
        }
#line 2105 "build-fp/lang/parser.c"
    break;

  case 67: /* test_stmt: "send" "integer" within_opt "expect" expect_kind "integer"  */
#line 397 "lang/parser.y"
        {
            (yyval.node) = ast_new(A, AST_T_SEND, (yyloc));
            (yyval.node)->u.send.n = mkint((yyvsp[-4].num), (yylsp[-4]));
            (yyval.node)->u.send.within = (yyvsp[-3].dur);
            (yyval.node)->u.send.expect_allowed = (yyvsp[-1].flag);
            (yyval.node)->u.send.expect = mkint((yyvsp[0].num), (yylsp[0]));
        }
#line 2117 "build-fp/lang/parser.c"
    break;

  case 68: /* test_stmt: "wait" "duration"  */
#line 405 "lang/parser.y"
        {
            (yyval.node) = ast_new(A, AST_T_WAIT, (yyloc));
            (yyval.node)->u.wait.d = (yyvsp[0].dur);
        }
#line 2126 "build-fp/lang/parser.c"
    break;

  case 69: /* test_stmt: error  */
#line 409 "lang/parser.y"
                                { (yyval.node) = NULL; }
#line 2132 "build-fp/lang/parser.c"
    break;

  case 70: /* req_path: "tenant" "string"  */
#line 412 "lang/parser.y"
                                { (yyval.segs).head = (yyval.segs).tail = new_seg(ctx, AST_TENANT, (yyvsp[0].str), (yylsp[0])); }
#line 2138 "build-fp/lang/parser.c"
    break;

  case 71: /* req_path: req_path "group" "string"  */
#line 414 "lang/parser.y"
        { (yyval.segs) = (yyvsp[-2].segs); (yyval.segs).tail->next = new_seg(ctx, AST_GROUP, (yyvsp[0].str), (yylsp[0])); (yyval.segs).tail = (yyval.segs).tail->next; }
#line 2144 "build-fp/lang/parser.c"
    break;

  case 72: /* req_path: req_path "key" "string"  */
#line 416 "lang/parser.y"
        { (yyval.segs) = (yyvsp[-2].segs); (yyval.segs).tail->next = new_seg(ctx, AST_KEY, (yyvsp[0].str), (yylsp[0])); (yyval.segs).tail = (yyval.segs).tail->next; }
#line 2150 "build-fp/lang/parser.c"
    break;

  case 73: /* req_opts: %empty  */
#line 419 "lang/parser.y"
                                { memset(&(yyval.req), 0, sizeof (yyval.req)); }
#line 2156 "build-fp/lang/parser.c"
    break;

  case 74: /* req_opts: req_opts "route" "name" "string"  */
#line 421 "lang/parser.y"
        { (yyval.req) = (yyvsp[-3].req); (yyval.req).method = mkname((yyvsp[-1].str), (yylsp[-1])); (yyval.req).route = mkname((yyvsp[0].str), (yylsp[0])); }
#line 2162 "build-fp/lang/parser.c"
    break;

  case 75: /* req_opts: req_opts "cost" "integer"  */
#line 423 "lang/parser.y"
        { (yyval.req) = (yyvsp[-2].req); (yyval.req).cost = mkint((yyvsp[0].num), (yylsp[0])); }
#line 2168 "build-fp/lang/parser.c"
    break;

  case 76: /* within_opt: %empty  */
#line 426 "lang/parser.y"
                                { memset(&(yyval.dur), 0, sizeof (yyval.dur)); }
#line 2174 "build-fp/lang/parser.c"
    break;

  case 77: /* within_opt: "within" "duration"  */
#line 427 "lang/parser.y"
                                { (yyval.dur) = (yyvsp[0].dur); }
#line 2180 "build-fp/lang/parser.c"
    break;

  case 78: /* expect_kind: "allowed"  */
#line 430 "lang/parser.y"
                                { (yyval.flag) = 1; }
#line 2186 "build-fp/lang/parser.c"
    break;

  case 79: /* expect_kind: "rejected"  */
#line 431 "lang/parser.y"
                                { (yyval.flag) = 0; }
#line 2192 "build-fp/lang/parser.c"
    break;


#line 2196 "build-fp/lang/parser.c"

        default: break;
      }
    if (yychar_backup != yychar)
      YY_LAC_DISCARD ("yychar change");
  }
  /* User semantic actions sometimes alter yychar, and that requires
     that yytoken be updated with the new translation.  We take the
     approach of translating immediately before every use of yytoken.
     One alternative is translating here after every semantic action,
     but that translation would be missed if the semantic action invokes
     YYABORT, YYACCEPT, or YYERROR immediately after altering yychar or
     if it invokes YYBACKUP.  In the case of YYABORT or YYACCEPT, an
     incorrect destructor might then be invoked immediately.  In the
     case of YYERROR or YYBACKUP, subsequent parser actions might lead
     to an incorrect destructor call or verbose syntax error message
     before the lookahead is translated.  */
  YY_SYMBOL_PRINT ("-> $$ =", YY_CAST (yysymbol_kind_t, yyr1[yyn]), &yyval, &yyloc);

  YYPOPSTACK (yylen);
  yylen = 0;

  *++yyvsp = yyval;
  *++yylsp = yyloc;

  /* Now 'shift' the result of the reduction.  Determine what state
     that goes to, based on the state we popped back to and the rule
     number reduced by.  */
  {
    const int yylhs = yyr1[yyn] - YYNTOKENS;
    const int yyi = yypgoto[yylhs] + *yyssp;
    yystate = (0 <= yyi && yyi <= YYLAST && yycheck[yyi] == *yyssp
               ? yytable[yyi]
               : yydefgoto[yylhs]);
  }

  goto yynewstate;


/*--------------------------------------.
| yyerrlab -- here on detecting error.  |
`--------------------------------------*/
yyerrlab:
  /* Make sure we have latest lookahead translation.  See comments at
     user semantic actions for why this is necessary.  */
  yytoken = yychar == YYEMPTY ? YYSYMBOL_YYEMPTY : YYTRANSLATE (yychar);
  /* If not already recovering from an error, report this error.  */
  if (!yyerrstatus)
    {
      ++yynerrs;
      {
        yypcontext_t yyctx
          = {yyssp, yyesa, &yyes, &yyes_capacity, yytoken, &yylloc};
        if (yychar != YYEMPTY)
          YY_LAC_ESTABLISH;
        if (yyreport_syntax_error (&yyctx, scanner, ctx) == 2)
          YYNOMEM;
      }
    }

  yyerror_range[1] = yylloc;
  if (yyerrstatus == 3)
    {
      /* If just tried and failed to reuse lookahead token after an
         error, discard it.  */

      if (yychar <= YYEOF)
        {
          /* Return failure if at end of input.  */
          if (yychar == YYEOF)
            YYABORT;
        }
      else
        {
          yydestruct ("Error: discarding",
                      yytoken, &yylval, &yylloc, scanner, ctx);
          yychar = YYEMPTY;
        }
    }

  /* Else will try to reuse lookahead token after shifting the error
     token.  */
  goto yyerrlab1;


/*---------------------------------------------------.
| yyerrorlab -- error raised explicitly by YYERROR.  |
`---------------------------------------------------*/
yyerrorlab:
  /* Pacify compilers when the user code never invokes YYERROR and the
     label yyerrorlab therefore never appears in user code.  */
  if (0)
    YYERROR;
  ++yynerrs;

  /* Do not reclaim the symbols of the rule whose action triggered
     this YYERROR.  */
  YYPOPSTACK (yylen);
  yylen = 0;
  YY_STACK_PRINT (yyss, yyssp);
  yystate = *yyssp;
  goto yyerrlab1;


/*-------------------------------------------------------------.
| yyerrlab1 -- common code for both syntax error and YYERROR.  |
`-------------------------------------------------------------*/
yyerrlab1:
  yyerrstatus = 3;      /* Each real token shifted decrements this.  */

  /* Pop stack until we find a state that shifts the error token.  */
  for (;;)
    {
      yyn = yypact[yystate];
      if (!yypact_value_is_default (yyn))
        {
          yyn += YYSYMBOL_YYerror;
          if (0 <= yyn && yyn <= YYLAST && yycheck[yyn] == YYSYMBOL_YYerror)
            {
              yyn = yytable[yyn];
              if (0 < yyn)
                break;
            }
        }

      /* Pop the current state because it cannot handle the error token.  */
      if (yyssp == yyss)
        YYABORT;

      yyerror_range[1] = *yylsp;
      yydestruct ("Error: popping",
                  YY_ACCESSING_SYMBOL (yystate), yyvsp, yylsp, scanner, ctx);
      YYPOPSTACK (1);
      yystate = *yyssp;
      YY_STACK_PRINT (yyss, yyssp);
    }

  /* If the stack popping above didn't lose the initial context for the
     current lookahead token, the shift below will for sure.  */
  YY_LAC_DISCARD ("error recovery");

  YY_IGNORE_MAYBE_UNINITIALIZED_BEGIN
  *++yyvsp = yylval;
  YY_IGNORE_MAYBE_UNINITIALIZED_END

  yyerror_range[2] = yylloc;
  ++yylsp;
  YYLLOC_DEFAULT (*yylsp, yyerror_range, 2);

  /* Shift the error token.  */
  YY_SYMBOL_PRINT ("Shifting", YY_ACCESSING_SYMBOL (yyn), yyvsp, yylsp);

  yystate = yyn;
  goto yynewstate;


/*-------------------------------------.
| yyacceptlab -- YYACCEPT comes here.  |
`-------------------------------------*/
yyacceptlab:
  yyresult = 0;
  goto yyreturnlab;


/*-----------------------------------.
| yyabortlab -- YYABORT comes here.  |
`-----------------------------------*/
yyabortlab:
  yyresult = 1;
  goto yyreturnlab;


/*-----------------------------------------------------------.
| yyexhaustedlab -- YYNOMEM (memory exhaustion) comes here.  |
`-----------------------------------------------------------*/
yyexhaustedlab:
  yyerror (&yylloc, scanner, ctx, YY_("memory exhausted"));
  yyresult = 2;
  goto yyreturnlab;


/*----------------------------------------------------------.
| yyreturnlab -- parsing is finished, clean up and return.  |
`----------------------------------------------------------*/
yyreturnlab:
  if (yychar != YYEMPTY)
    {
      /* Make sure we have latest lookahead translation.  See comments at
         user semantic actions for why this is necessary.  */
      yytoken = YYTRANSLATE (yychar);
      yydestruct ("Cleanup: discarding lookahead",
                  yytoken, &yylval, &yylloc, scanner, ctx);
    }
  /* Do not reclaim the symbols of the rule whose action triggered
     this YYABORT or YYACCEPT.  */
  YYPOPSTACK (yylen);
  YY_STACK_PRINT (yyss, yyssp);
  while (yyssp != yyss)
    {
      yydestruct ("Cleanup: popping",
                  YY_ACCESSING_SYMBOL (+*yyssp), yyvsp, yylsp, scanner, ctx);
      YYPOPSTACK (1);
    }
#ifndef yyoverflow
  if (yyss != yyssa)
    YYSTACK_FREE (yyss);
#endif
  if (yyes != yyesa)
    YYSTACK_FREE (yyes);

  return yyresult;
}

#line 434 "lang/parser.y"



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
