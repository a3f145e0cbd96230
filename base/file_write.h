/* file_write.h - the one way rlc replaces a file: plans (-o), formatted
 * sources (fmt), state-directory files (checkpoints, manifests, the audit
 * head) and nginx snippets all go through file_write_atomic.
 *
 * What it promises: only regular files are written.  A path that names a
 * symbolic link is written through to the file the link resolves to (the
 * link stays a link); a device node, FIFO, socket or directory is refused
 * with a message that says what it is.  The new contents go to a temporary
 * file in the target's own directory, are fsynced, renamed over the
 * target, and the directory is fsynced: a reader sees the old file or the
 * new one, never a mix, and a crash keeps one of the two.  It deliberately
 * does not write to standard output ("-" is the caller's) and never
 * prints. */
#ifndef RLC_FILE_WRITE_H
#define RLC_FILE_WRITE_H

#include <stdbool.h>
#include <stddef.h>

enum {
    FW_EXACT_MODE = 1,   /* the file gets exactly `mode` (the umask does not apply) */
    FW_KEEP_MODE = 2,    /* an existing file keeps its mode; a new one gets `mode` */
    /* Neither the file nor the rename is fsynced: for a file that is
     * checked when read and whose loss a crash of the machine may cause
     * (the old one back, or an empty or partial one, never a mix read as
     * valid), and nothing else. */
    FW_NO_SYNC = 4,
    /* An existing file is written over where it is (pwrite, then cut to
     * the new length), not replaced: a crash or a reader can see a mix of
     * old and new.  Only for a file whose reader checks it whole (a digest
     * of its content inside it) and treats a failed check as no file, and
     * nothing else; implies FW_NO_SYNC.  A missing file is created as
     * usual. */
    FW_IN_PLACE = 8,
    /* An existing file of at most FW_SECTOR_BYTES, given at most as many,
     * is written over where it is with one pwrite at offset 0 and flushed
     * (unless FW_NO_SYNC), not replaced: those bytes lie in one disk
     * sector, which a device writes whole, so a crash leaves the old text
     * or the new (the assumption PostgreSQL makes of pg_control).  For a
     * small file rewritten on every change whose loss or mix matters (the
     * audit log's head), and nothing else; anything larger, or a missing
     * file, is replaced as usual. */
    FW_SECTOR = 16,
};

#define FW_SECTOR_BYTES 512

/* Writes the concatenation of the n parts (parts[i], lens[i] bytes) to
 * path as above.  mode: permissions of a new file (after the umask unless
 * FW_EXACT_MODE); flags: FW_*.  Borrows everything.  On failure returns
 * false and sets *err to a message naming the path and the reason
 * (malloc'd, the caller's to free); nothing at path has changed then. */
bool file_write_atomic(const char *path, const char *const *parts, const size_t *lens, int n,
                       int mode, int flags, char **err);

#endif
