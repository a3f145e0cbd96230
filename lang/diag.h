/* diag.h - diagnostics as values.  A diagnostic is {code, severity, span,
 * message, notes}; passes append them to a diag_list, and only the CLI turns
 * them into text, JSON, SARIF or annotations.  Library code never prints. */
#ifndef RLC_DIAG_H
#define RLC_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "source.h"

typedef enum severity { SEV_NOTE, SEV_WARNING, SEV_ERROR } severity;

typedef enum diag_code {
#define X(num, name, sev, summary) DIAG_##name = num,
#include "diag_codes.def"
#undef X
} diag_code;

typedef struct diag_info {
    int code;
    const char *name;
    severity sev;
    const char *summary;
} diag_info;

typedef struct diag_note {
    span sp;
    const char *msg;
    struct diag_note *next;
} diag_note;

typedef struct diag {
    int code;
    severity sev;
    span sp;
    const char *msg;
    diag_note *notes, *notes_tail;
    struct diag *next;
} diag;

/* Errors kept per compilation before the rest are only counted. */
#define DIAG_MAX_ERRORS 20

typedef struct diag_list {
    arena *a;                /* borrowed: messages live here */
    diag *head, *tail;
    size_t nerrors, nwarnings, nnotes;
    size_t dropped;          /* errors past DIAG_MAX_ERRORS, counted only */
    size_t max_errors;
    bool werror;             /* warnings count as errors */
} diag_list;

void diag_list_init(diag_list *l, arena *a);
/* Appends a diagnostic with the table's severity; returns it so notes can be
 * attached, or NULL when it was dropped past the error cap. */
diag *diag_add(diag_list *l, int code, span sp, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Attaches a located note ("first defined here").  d may be NULL. */
void diag_note_add(diag_list *l, diag *d, span sp, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* True once the error cap is reached (passes may stop early).  Inline: the
 * scanner asks before every token. */
static inline bool diag_full(const diag_list *l)
{
    return l->nerrors >= l->max_errors;
}
/* Sorts by file, then position, stable. */
void diag_sort(diag_list *l);
/* Table lookups; NULL when code is unknown. */
const diag_info *diag_lookup(int code);
const diag_info *diag_table(size_t *n);
const char *severity_name(severity s);
/* "RLC0010" into out (at least 8 bytes). */
void diag_code_str(int code, char out[16]);
/* Parses "RLC0010" or "10"; returns the number or -1. */
int diag_code_parse(const char *s);

#endif
