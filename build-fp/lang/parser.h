/* A Bison parser, made by GNU Bison 3.8.2.  */

/* Bison interface for Yacc-like parsers in C

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

/* DO NOT RELY ON FEATURES THAT ARE NOT DOCUMENTED in the manual,
   especially those whose name start with YY_ or yy_.  They are
   private implementation details that can be changed or removed.  */

#ifndef YY_YY_BUILD_FP_LANG_PARSER_H_INCLUDED
# define YY_YY_BUILD_FP_LANG_PARSER_H_INCLUDED
/* Debug traces.  */
#ifndef YYDEBUG
# define YYDEBUG 0
#endif
#if YYDEBUG
extern int yydebug;
#endif
/* "%code requires" blocks.  */
#line 15 "lang/parser.y"

#include "ast.h"
#include "parse.h"
typedef struct val_list { ast_value *head, *tail; } val_list;
typedef struct seg_list { ast_seg *head, *tail; } seg_list;
typedef struct opt_req { ast_name method, route; ast_int cost; } opt_req;

#line 57 "build-fp/lang/parser.h"

/* Token kinds.  */
#ifndef YYTOKENTYPE
# define YYTOKENTYPE
  enum yytokentype
  {
    YYEMPTY = -2,
    YYEOF = 0,                     /* "end of file"  */
    YYerror = 256,                 /* error  */
    YYUNDEF = 257,                 /* "invalid token"  */
    KW_POLICY = 258,               /* "policy"  */
    KW_IMPORT = 259,               /* "import"  */
    KW_TIER = 260,                 /* "tier"  */
    KW_EXTENDS = 261,              /* "extends"  */
    KW_TENANT = 262,               /* "tenant"  */
    KW_GROUP = 263,                /* "group"  */
    KW_KEY = 264,                  /* "key"  */
    KW_ROUTE = 265,                /* "route"  */
    KW_LIMIT = 266,                /* "limit"  */
    KW_BURST = 267,                /* "burst"  */
    KW_COST = 268,                 /* "cost"  */
    KW_ALGORITHM = 269,            /* "algorithm"  */
    KW_SHADOW = 270,               /* "shadow"  */
    KW_CONCURRENCY = 271,          /* "concurrency"  */
    KW_LEASE = 272,                /* "lease"  */
    KW_ALLOW = 273,                /* "allow"  */
    KW_TARGET = 274,               /* "target"  */
    KW_TEST = 275,                 /* "test"  */
    KW_REQUEST = 276,              /* "request"  */
    KW_SEND = 277,                 /* "send"  */
    KW_WITHIN = 278,               /* "within"  */
    KW_EXPECT = 279,               /* "expect"  */
    KW_ALLOWED = 280,              /* "allowed"  */
    KW_REJECTED = 281,             /* "rejected"  */
    KW_WAIT = 282,                 /* "wait"  */
    IDENT = 283,                   /* "name"  */
    STRING = 284,                  /* "string"  */
    INT = 285,                     /* "integer"  */
    DURATION = 286                 /* "duration"  */
  };
  typedef enum yytokentype yytoken_kind_t;
#endif

/* Value type.  */
#if ! defined YYSTYPE && ! defined YYSTYPE_IS_DECLARED
union YYSTYPE
{
#line 113 "lang/parser.y"

    int64_t num;
    char *str;
    ast_dur dur;
    ast_node *node;
    ast_list list;
    ast_value *val;
    val_list vals;
    seg_list segs;
    opt_req req;
    int flag;

#line 118 "build-fp/lang/parser.h"

};
typedef union YYSTYPE YYSTYPE;
# define YYSTYPE_IS_TRIVIAL 1
# define YYSTYPE_IS_DECLARED 1
#endif

/* Location type.  */
typedef span YYLTYPE;




int yyparse (void *scanner, parse_ctx *ctx);

/* "%code provides" blocks.  */
#line 23 "lang/parser.y"

int yylex(YYSTYPE *lvalp, YYLTYPE *llocp, void *scanner);

#line 139 "build-fp/lang/parser.h"

#endif /* !YY_YY_BUILD_FP_LANG_PARSER_H_INCLUDED  */
