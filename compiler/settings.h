/* settings.h - the schema of every settings block: the policy block and
 * each kind of target.  One table per block says which names exist, what
 * kind of value each takes, and which are required; checking a block is
 * driven entirely by the table, so SPEC.md's settings tables mirror it. */
#ifndef RLC_SETTINGS_H
#define RLC_SETTINGS_H

#include <stdbool.h>

#include "diag.h"
#include "model.h"

typedef enum setting_type {
    STY_STRING,     /* "text" */
    STY_SECRET,     /* "text", env("NAME") or file("path") */
    STY_INT,        /* non-negative integer */
    STY_DURATION,
    STY_BOOL,       /* true | false */
    STY_ENUM,       /* one of the names in `choices` */
    STY_STRINGS,    /* [ "a", "b" ] (also env()/file() elements) */
} setting_type;

typedef struct setting_spec {
    const char *name;
    setting_type type;
    const char *choices;    /* STY_ENUM: names separated by '|' */
    bool required;
    const char *doc;
} setting_spec;

typedef struct settings_schema {
    const char *block;      /* "policy", "redis target", ... */
    const setting_spec *specs;
    size_t n;
} settings_schema;

extern const settings_schema policy_schema;
/* Schema of a target kind, or NULL for an unknown kind. */
const settings_schema *target_schema(const char *kind, target_kind *out);
/* Names of the target kinds, for suggestions. */
extern const char *const target_kind_names[TARGET_NKINDS];

/* Checks the settings list against the schema: unknown names (with a
 * suggestion), duplicates, value kinds, missing required ones (reported at
 * `block_sp`).  Fills out[] (allocated in a) with the valid ones. */
void settings_check(const settings_schema *sc, const ast_node *settings, span block_sp,
                    arena *a, diag_list *d, m_setting **out, size_t *nout);
/* Finds a setting by name in a checked list. */
const m_setting *setting_find(const m_setting *v, size_t n, const char *name);

#endif
