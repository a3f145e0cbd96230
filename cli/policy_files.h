/* policy_files.h - turning `rlc check` arguments into compilations: with
 * --each every FILE is a policy of its own, and a directory stands for
 * every .rlp file under it, each a policy of its own; otherwise all FILEs
 * make one policy, as they always did. */
#ifndef RLC_POLICY_FILES_H
#define RLC_POLICY_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* One compilation: its root files. */
typedef struct policy_unit {
    char **paths;
    size_t npaths;
} policy_unit;

typedef struct policy_units {
    policy_unit *u;
    size_t n;
} policy_units;

/* Groups args (n) into compilations.  A directory is walked for regular
 * files named *.rlp (recursively, sorted by name, entries starting with '.'
 * skipped, symbolic links to directories not followed), each its own
 * compilation; with each, so is every other argument; without it the
 * remaining arguments form one compilation, first.  A directory that cannot
 * be read, or holds no .rlp file, is an error named in err ("cannot read
 * 'DIR': ...", which callers print as RLC0001, exit 2).  Returns false
 * with err set; out is then empty. */
bool policy_units_from_args(char *const *args, size_t n, bool each, policy_units *out,
                            char *err, size_t errlen);
void policy_units_free(policy_units *pu);

#endif
