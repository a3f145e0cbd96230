/* embed.h - files compiled into the binary: the stdlib .rlp modules and the
 * Redis enforcement library (from stdlib/), and the `rlc explain` pages (cut
 * from SPEC.md).  Both tables are generated into build/gen/ at build time. */
#ifndef RLC_EMBED_H
#define RLC_EMBED_H

#include <stddef.h>

typedef struct embedded_file {
    const char *name;   /* path under stdlib/, e.g. "std/tiers.rlp" */
    const char *data;
    size_t len;
} embedded_file;

extern const embedded_file rlc_embedded[];
extern const size_t rlc_embedded_count;

/* Returns the embedded file called name, or NULL. */
const embedded_file *embedded_find(const char *name);

typedef struct explain_page {
    int code;
    const char *title;  /* heading text after the code */
    const char *text;   /* the section body, Markdown */
} explain_page;

extern const explain_page rlc_explain_pages[];
extern const size_t rlc_explain_count;

/* Returns the explain page of code, or NULL. */
const explain_page *explain_find(int code);

#endif
