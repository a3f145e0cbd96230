/* fault.c - the fault-injection hook.  See fault.h. */
#include "fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One counter per process: a deploy is one process. */
static unsigned long points_reached;

bool fault_point(const char *step, rerr *e)
{
    points_reached++;
    const char *trace = getenv("RLC_FAULT_TRACE");
    if (trace && *trace) {
        FILE *f = fopen(trace, "a");
        if (f) {
            fprintf(f, "%lu %s\n", points_reached, step);
            fclose(f);
        }
    }
    const char *spec = getenv("RLC_FAULT");
    if (!spec || !*spec)
        return true;
    char name[128];
    snprintf(name, sizeof name, "%s", spec);
    const char *mode = "kill";
    char *colon = strchr(name, ':');
    if (colon) {
        *colon = '\0';
        mode = colon + 1;
    }
    char *end;
    unsigned long n = strtoul(name, &end, 10);
    bool hit = (*end == '\0' && end != name) ? n == points_reached : !strcmp(name, step);
    if (!hit)
        return true;
    if (!strcmp(mode, "cmd")) {
        /* Run a command (kill or stop a server) and go on: the failure
         * then happens for real, in the next store call. */
        const char *cmd = getenv("RLC_FAULT_CMD");
        if (cmd && *cmd && system(cmd) != 0)
            return true;
        return true;
    }
    if (!strcmp(mode, "fail"))
        return rerr_set(e, DIAG_FAULT_INJECTED, "step %s failed by RLC_FAULT=%s", step, spec);
    fflush(NULL);
    kill(getpid(), SIGKILL);
    for (;;)
        pause();
}
