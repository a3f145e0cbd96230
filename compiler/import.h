/* import.h - `rlc import`: Envoy ratelimit and Limitador YAML into a
 * canonical .rlp policy.  The YAML is read by yaml_doc (libyaml); each
 * format has its own module (import_envoy.c, import_limitador.c) that maps
 * the documents onto subjects and limits, reporting at the YAML's line and
 * column what rlc cannot express and what the import did instead.  The text
 * is then parsed and printed by lang/fmt, so it is exactly what `rlc fmt`
 * writes.  Nothing here writes files or prints. */
#ifndef RLC_IMPORT_H
#define RLC_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "source.h"

typedef enum import_format { IMPORT_ENVOY, IMPORT_LIMITADOR } import_format;

/* Imports the n files of map numbered files[] (already read and registered;
 * Kubernetes ConfigMaps add their inner documents to map as files of their
 * own).  Diagnostics go to dl (messages in a); the canonical policy text is
 * appended to out.  Returns false when an error was reported (out is then
 * left as it was). */
bool import_files(arena *a, diag_list *dl, srcmap *map, import_format f,
                  const uint32_t *files, size_t n, buf *out);

/* "envoy" or "limitador" to a format; false when unknown. */
bool import_format_parse(const char *s, import_format *out);

#endif
