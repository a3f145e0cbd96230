/* rt_cli.h - what the runtime verbs (run, diff, status, rollback, audit)
 * share: printing runtime errors.  Their exit codes are cli.h's table. */
#ifndef RLC_RT_CLI_H
#define RLC_RT_CLI_H

#include "rerr.h"


/* "rlc VERB: error[RLCnnnn]: message" on stderr. */
void rt_print_err(const char *verb, const rerr *e);

#endif
