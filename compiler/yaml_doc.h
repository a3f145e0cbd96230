/* yaml_doc.h - reads YAML (through libyaml's event parser) into a small
 * tree whose nodes carry byte spans into the source, so that the importers
 * can report at the YAML's own line and column.  The reader is bounded: the
 * caps below are checked as events arrive, and hitting one is a located
 * error (RLC4002) rather than unbounded memory.  Aliases are refused
 * (RLC4003): a tree never shares nodes, so no walk can be made to expand
 * one node many times.  It does not interpret tags or resolve types beyond
 * telling a plain scalar from a quoted one. */
#ifndef RLC_YAML_DOC_H
#define RLC_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"

#define YAML_MAX_DEPTH 64                   /* nested collections */
#define YAML_MAX_SCALAR ((size_t)1 << 20)   /* bytes in one scalar (1 MiB) */
#define YAML_MAX_NODES ((size_t)4 << 20)    /* nodes in one file, all documents */

typedef enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP } ynode_kind;

typedef struct ynode {
    ynode_kind kind;
    bool plain;              /* scalar written without quotes or block style */
    uint32_t start, end;     /* byte span in the file */
    const char *str;         /* scalar text, NUL-terminated (may hold NULs) */
    size_t len;              /* scalar bytes, or items (seq) / pairs (map) */
    struct ynode **items;    /* seq: len items; map: 2 * len, key then value */
} ynode;

typedef struct ydocs {
    ynode **docs;            /* root of each document (NULL for an empty one) */
    uint32_t *doc_start;     /* byte offset where each document starts */
    size_t n;
} ydocs;

/* Reads every document of text (len bytes, which file of the diagnostics'
 * source map holds).  Nodes live in a; errors go to dl with spans in file.
 * Returns false when an error was reported (out then holds the documents
 * read before it). */
bool yaml_read(arena *a, diag_list *dl, uint32_t file, const char *text, size_t len,
               ydocs *out);

/* The value of key in map m, or NULL; *keyn (may be NULL) gets the key's
 * node. */
const ynode *yaml_get(const ynode *m, const char *key, const ynode **keyn);
/* Whether n is a YAML null: absent, or a plain "", "~", "null", "Null", "NULL". */
bool yaml_is_null(const ynode *n);
/* The span of a node in file. */
span yaml_span(uint32_t file, const ynode *n);

#endif
