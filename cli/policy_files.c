/* policy_files.c - the arguments of `rlc check` as compilations; see
 * policy_files.h.  Directories are walked with scandir so the order, and
 * so the output, does not depend on the file system. */
#include "policy_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "xalloc.h"

/* Directories deeper than this are refused rather than walked: a policy
 * tree is never that deep, a link farm or a mistake may be. */
#define MAX_DIR_DEPTH 32

static void add_unit(policy_units *pu, char **paths, size_t n)
{
    pu->u = xreallocarray(pu->u, pu->n + 1, sizeof *pu->u);
    pu->u[pu->n].paths = paths;
    pu->u[pu->n].npaths = n;
    pu->n++;
}

static void add_single(policy_units *pu, const char *path)
{
    char **p = xmalloc(sizeof *p);
    p[0] = xstrdup(path);
    add_unit(pu, p, 1);
}

static bool is_rlp(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".rlp");
}

static bool walk(policy_units *pu, const char *dir, int depth, char *err, size_t errlen)
{
    if (depth > MAX_DIR_DEPTH) {
        snprintf(err, errlen, "cannot read '%s': directories nested more than %d deep", dir,
                 MAX_DIR_DEPTH);
        return false;
    }
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", dir, strerror(errno));
        return false;
    }
    bool ok = true;
    buf path;
    buf_init(&path, 0);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (ok && name[0] != '.') {
            buf_reset(&path);
            buf_puts(&path, dir);
            if (path.len && buf_str(&path)[path.len - 1] != '/')
                buf_putc(&path, '/');
            buf_puts(&path, name);
            struct stat lst, st;
            if (lstat(buf_str(&path), &lst) == 0) {
                if (S_ISDIR(lst.st_mode))
                    ok = walk(pu, buf_str(&path), depth + 1, err, errlen);
                else if (is_rlp(name) && stat(buf_str(&path), &st) == 0 && S_ISREG(st.st_mode))
                    add_single(pu, buf_str(&path));
            }
        }
        free(ents[i]);
    }
    free(ents);
    buf_free(&path);
    return ok;
}

bool policy_units_from_args(char *const *args, size_t n, bool each, policy_units *out,
                            char *err, size_t errlen)
{
    policy_units pu = {0};
    char **rest = NULL;
    size_t nrest = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        bool is_dir = strcmp(args[i], "-") != 0 && stat(args[i], &st) == 0 &&
                      S_ISDIR(st.st_mode);
        if (is_dir) {
            size_t before = pu.n;
            if (!walk(&pu, args[i], 0, err, errlen))
                goto fail;
            if (pu.n == before) {
                snprintf(err, errlen, "cannot read '%s': no .rlp file in this directory",
                         args[i]);
                goto fail;
            }
        } else if (each) {
            add_single(&pu, args[i]);
        } else {
            rest = xreallocarray(rest, nrest + 1, sizeof *rest);
            rest[nrest++] = xstrdup(args[i]);
        }
    }
    if (nrest) {
        /* The one compilation of plain arguments comes first, as before. */
        add_unit(&pu, rest, nrest);
        policy_unit last = pu.u[pu.n - 1];
        memmove(pu.u + 1, pu.u, (pu.n - 1) * sizeof *pu.u);
        pu.u[0] = last;
    }
    *out = pu;
    return true;
fail:
    for (size_t i = 0; i < nrest; i++)
        free(rest[i]);
    free(rest);
    policy_units_free(&pu);
    *out = (policy_units){0};
    return false;
}

void policy_units_free(policy_units *pu)
{
    for (size_t i = 0; i < pu->n; i++) {
        for (size_t j = 0; j < pu->u[i].npaths; j++)
            free(pu->u[i].paths[j]);
        free(pu->u[i].paths);
    }
    free(pu->u);
    *pu = (policy_units){0};
}
