/* import_private.h - what the importers share: the subject tree they build
 * (tenant > group > key, as the language has it), limits with the comments
 * that explain them, and the walk over documents that unwraps Kubernetes
 * objects.  Internal to compiler/import*.c. */
#ifndef RLC_IMPORT_PRIVATE_H
#define RLC_IMPORT_PRIVATE_H

#include "import.h"
#include "strmap.h"
#include "yaml_doc.h"

/* Subject levels below the tenant: the language allows 8 in all. */
#define IMPORT_MAX_LEVELS 7

typedef enum isubj_kind { IS_TENANT, IS_GROUP, IS_KEY } isubj_kind;

typedef struct icomment {
    const char *text;
    struct icomment *next;
} icomment;

typedef struct ilimit {
    uint64_t count;
    uint64_t window_ms;
    const char *window;      /* as written: "1m", "30d", "10s" */
    bool shadow;
    bool block;              /* admits nothing: cost above the count */
    icomment *comments;
    struct ilimit *next;
} ilimit;

typedef struct isubj {
    isubj_kind kind;
    const char *name;        /* NULL for a template (`*`) */
    span at;                 /* where the source declared it */
    bool declared;           /* given by an entry of its own (not only a parent) */
    icomment *comments, *comments_tail;
    ilimit *limits, *limits_tail;
    struct isubj *kids, *kids_tail, *next;
} isubj;

typedef struct importer {
    arena *a;
    diag_list *dl;
    srcmap *map;
    uint32_t file;           /* file of the document being read */
    isubj *tenants, *tenants_tail;
    icomment *header, *header_tail;
    const char *policy_name; /* first domain or namespace */
    size_t ntenants;
    strmap kids;             /* "parent:kind[:name]" to the child subject */
} importer;

isubj *imp_tenant(importer *im, const char *name, span at, bool *existed);
/* The child of parent of that kind and name (NULL: template), made when
 * absent; *existed tells which. */
isubj *imp_child(importer *im, isubj *parent, isubj_kind k, const char *name, span at,
                 bool *existed);
ilimit *imp_limit(importer *im, isubj *s, uint64_t count, uint64_t window_ms,
                  const char *window);
void imp_comment(importer *im, icomment **head, icomment **tail, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void imp_limit_comment(importer *im, ilimit *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A scalar usable as a name in the language (non-empty, no NUL, at most
 * 4096 bytes); RLC4018 otherwise, about what. */
bool imp_name_ok(importer *im, const ynode *n, const char *what);
/* An unsigned integer scalar into *out; RLC4018 otherwise. */
bool imp_uint(importer *im, const ynode *n, const char *what, uint64_t *out);
/* A boolean scalar (true/false); RLC4018 otherwise. */
bool imp_bool(importer *im, const ynode *n, const char *what, bool *out);
span imp_span(importer *im, const ynode *n);
/* Text safe in a one-line comment (controls replaced, length capped). */
const char *imp_clean(importer *im, const char *s, size_t len);

/* The per-format document readers: the configuration node of one document
 * (after unwrapping), in im->file. */
void envoy_import_doc(importer *im, const ynode *root);
void envoy_finish(importer *im);
void limitador_import_doc(importer *im, const ynode *root);
void limitador_finish(importer *im);

#endif
