/* suggest.h - "did you mean" suggestions by edit distance. */
#ifndef RLC_SUGGEST_H
#define RLC_SUGGEST_H

#include <stddef.h>

/* Returns the candidate closest to name, or NULL when none is close enough
 * (distance at most a third of the name's length, and at least 1 edit
 * allowed for short names).  Borrows everything. */
const char *suggest(const char *name, const char *const *cands, size_t n);

#endif
