/* rt_cli.c - shared printing for the runtime verbs.  See rt_cli.h. */
#include "rt_cli.h"

#include <stdio.h>

#include "cli.h"

void rt_print_err(const char *verbname, const rerr *e)
{
    char code[16];
    diag_code_str(e->code ? e->code : 0, code);
    fprintf(stderr, "rlc %s: error[%s]: %s\n", verbname, code, e->msg);
}

int rt_exit_of(exec_status st)
{
    switch (st) {
    case EXEC_OK: return EXIT_OK;
    case EXEC_FAILED: return EXIT_FAIL;
    case EXEC_PLAN: return EXIT_PLAN;
    case EXEC_LOCKED: return EXIT_LOCKED;
    case EXEC_PREFLIGHT: return EXIT_PREFLIGHT;
    case EXEC_CHANGES: return EXIT_CHANGES;
    case EXEC_DRIFT: return EXIT_DRIFT;
    case EXEC_REFUSED: return EXIT_REFUSED;
    case EXEC_SIGNATURE: return EXIT_SIGNATURE;
    }
    return EXIT_FAIL;
}
