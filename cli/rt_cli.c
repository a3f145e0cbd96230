/* rt_cli.c - shared printing for the runtime verbs.  See rt_cli.h. */
#include "rt_cli.h"

#include <stdio.h>

void rt_print_err(const char *verb, const rerr *e)
{
    char code[16];
    diag_code_str(e->code ? e->code : 0, code);
    fprintf(stderr, "rlc %s: error[%s]: %s\n", verb, code, e->msg);
}
