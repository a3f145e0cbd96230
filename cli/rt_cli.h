/* rt_cli.h - what the runtime verbs (run, diff, status, rollback, audit)
 * share: printing runtime errors.  Their exit codes are cli.h's table. */
#ifndef RLC_RT_CLI_H
#define RLC_RT_CLI_H

#include "exec.h"
#include "rerr.h"


/* "rlc VERB: error[RLCnnnn]: message" on stderr. */
void rt_print_err(const char *verb, const rerr *e);
/* The exit code of an executor outcome (cli.h's table, SPEC.md 7.7). */
int rt_exit_of(exec_status st);

#endif
