/* journal.h - the deploy journal: <state>/journal.jsonl, one JSON object
 * per line, each line fsynced before the step it announces starts.  The
 * first line ("phase":"begin") names the run, the plan, the targets, the
 * lock token and the checkpoint file; later lines record phases.  A
 * finished deploy's journal is moved to <state>/runs/<run>.jsonl, so a
 * journal.jsonl that exists at startup is an interrupted deploy, and its
 * last phase tells how far it got (SPEC.md 7.4).  A torn last line (crash
 * mid-write) is ignored: the step it announced had not started.
 * A journal.jsonl is only an interrupted deploy once the state directory's
 * lock (statedir.h) can be taken: until then its writer is alive. */
#ifndef RLC_JOURNAL_H
#define RLC_JOURNAL_H

#include <stdbool.h>

#include <jansson.h>

#include "rerr.h"
#include "statedir.h"

typedef struct journal {
    int fd;                          /* -1 when closed */
    char path[STATEDIR_PATH_MAX];
    char dir[STATEDIR_PATH_MAX];
    char run_id[64];
} journal;

/* Creates the journal (fails with RLC3163 if one exists: an interrupted
 * deploy must be recovered first) and writes header (consumed) with
 * "phase":"begin" and "run". */
bool journal_begin(journal *j, const char *state_dir, const char *run_id, json_t *header,
                   rerr *e);
/* Appends {"phase": phase, "t": ms, ...extra} and fsyncs.  extra is consumed
 * (may be NULL). */
bool journal_note(journal *j, const char *phase, json_t *extra, rerr *e);
/* The same without the fsync, for a phase whose loss recovery cannot tell
 * from the phase before it (it does the same either way): the next
 * journal_note's fsync of the same file makes it durable too. */
bool journal_note_unsynced(journal *j, const char *phase, json_t *extra, rerr *e);
/* Notes the final phase and moves the journal to runs/<run>.jsonl. */
bool journal_finish(journal *j, const char *phase, rerr *e);
/* The same without the fsyncs (of the line, and of the directory after
 * the move), for a run that ended committed and audited: a crash that
 * loses them leaves a journal whose last durable phase is "audited", which
 * recovery finishes the same way (lock released by its token, no second
 * audit record). */
bool journal_finish_unsynced(journal *j, const char *phase, rerr *e);
/* Loads an interrupted journal: returns its entries (array; caller
 * decrefs) or NULL.  NULL with e->code == 0 means there is none.  A
 * journal with no complete first line is removed: only a caller that holds
 * the state directory's lock (statedir_lock) may call this. */
json_t *journal_pending(const char *state_dir, rerr *e);
/* The same, read-only: for `rlc status`, which neither locks nor writes. */
json_t *journal_peek(const char *state_dir, rerr *e);
/* The phase of the last entry (borrowed), NULL when there is none. */
const char *journal_last_phase(const json_t *entries);
/* Reopens the pending journal for appending (recovery). */
bool journal_adopt(journal *j, const char *state_dir, const char *run_id, rerr *e);
/* Whether some entry has the given phase. */
bool journal_has(const json_t *entries, const char *phase);
/* The begin entry (first), borrowed. */
json_t *journal_header(const json_t *entries);

#endif
