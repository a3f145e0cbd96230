/* rerr.c - errors as values.  See rerr.h. */
#include "rerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

bool rerr_set(rerr *e, int code, const char *fmt, ...)
{
    if (!e)
        return false;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    str_mark_cut(e->msg, sizeof e->msg, vsnprintf(e->msg, sizeof e->msg, fmt, ap));
    va_end(ap);
    return false;
}

void rerr_prefix(rerr *e, const char *fmt, ...)
{
    if (!e)
        return;
    char pre[256], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    str_mark_cut(pre, sizeof pre, vsnprintf(pre, sizeof pre, fmt, ap));
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t pl = strlen(pre);
    if (pl > sizeof e->msg - 3)
        pl = sizeof e->msg - 3;
    memcpy(e->msg, pre, pl);
    memcpy(e->msg + pl, ": ", 2);
    size_t room = sizeof e->msg - pl - 3, ol = strlen(old);
    memcpy(e->msg + pl + 2, old, ol > room ? room : ol);
    e->msg[pl + 2 + (ol > room ? room : ol)] = '\0';
    str_mark_cut(e->msg, sizeof e->msg, (int)(pl + 2 + ol));
}
