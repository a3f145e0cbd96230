/* program.h - a compilation's inputs: the root files named by the user and
 * every file they import, each read once, parsed, and linked by its imports.
 * Import cycles, depth, missing and unreadable files are found here.  Owns
 * the arena, the source map and the diagnostics for the whole compilation. */
#ifndef RLC_PROGRAM_H
#define RLC_PROGRAM_H

#include <stdbool.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

/* Deepest chain of imports accepted (RLC1006). */
#define PROGRAM_MAX_IMPORT_DEPTH 16

typedef struct program {
    arena *a;
    srcmap map;
    diag_list diags;
    ast_file **files;        /* parsed files, in load order */
    size_t nfiles, cap;
    bool io_error;           /* a root file could not be read: exit 2 */
    bool std_imports_only;   /* set before loading: an import of a file on
                              * disk is RLC1003 (for embedders and the
                              * fuzzers, which must not read the disk) */
} program;

/* Initialises an empty program that owns a new arena. */
void program_init(program *p);
/* Frees everything the program owns.  Accepts a zeroed program. */
void program_free(program *p);
/* Reads, parses and follows the imports of each path ("-" is stdin).
 * Returns false when a root file could not be read (p->io_error); all
 * other problems are diagnostics. */
bool program_load(program *p, const char *const *paths, size_t n);
/* Adds an in-memory file (tests, stdin); follows its imports relative to
 * the current directory.  Takes ownership of text (malloc'd). */
void program_load_text(program *p, const char *name, char *text, size_t len);

#endif
