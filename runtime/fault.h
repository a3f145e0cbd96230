/* fault.h - the fault-injection hook: every step of a deploy that could be
 * interrupted calls fault_point() with its name, so a test can make exactly
 * that step crash or fail and check the recovery.
 *
 *   RLC_FAULT=STEP[:kill|:fail]   STEP is a step name ("apply.flip") or the
 *                                 ordinal of the point reached (1-based);
 *                                 kill (default) SIGKILLs the process there,
 *                                 fail makes the step return RLC3166;
 *                                 cmd runs $RLC_FAULT_CMD (sh) there and goes
 *                                 on (kill or SIGSTOP a server mid-step).
 *   RLC_FAULT_TRACE=FILE          appends "N NAME" per point reached, so a
 *                                 test can list every step and try each.
 *
 * Not for production use; without the variables it costs a getenv. */
#ifndef RLC_FAULT_H
#define RLC_FAULT_H

#include <stdbool.h>

#include "rerr.h"

/* Returns true to go on; false (e = RLC3166) when told to fail here.
 * Never returns when told to kill. */
bool fault_point(const char *step, rerr *e);

#endif
