/* hazard_deadlock.c - deadlock hazards (RLC2201, RLC2202).  Cycles in
 * `extends` and `import` are found earlier (RLC1007, RLC1005) because
 * nothing can be resolved through them.  Here: concurrency pools whose
 * holders never expire, and the proof that every key of one decision lives
 * in one Redis Cluster slot, which is what lets the plan acquire all of a
 * decision's counters and pools in one atomic script call (so no decision
 * ever holds one pool while waiting for another, and acquisition order
 * cannot matter; SPEC.md section 4). */
#include "hazard_private.h"

#include <string.h>

#include "plan_key.h"

void hz_deadlock_conc(hz *h, const hz_level *lv, const m_conc *c)
{
    if (c->lease_ms > 0)
        return;
    diag_add(h->d, DIAG_LEASE_MISSING, c->src->sp,
             "concurrency %lld on %s has no lease: a holder that crashes before releasing "
             "keeps its slot forever, and after %lld such crashes every request is "
             "rejected; add 'lease D' (longer than the slowest request)",
             (long long)c->max, hz_level_desc(h, lv), (long long)c->max);
}

/* Whether the keys of tenant `name` start with a whole hash tag. */
static bool tenant_tag_fixed(hz *h, const char *name, const char **prefix)
{
    /* Most names fit on the stack; the proof runs for every tenant. */
    char small[256];
    size_t n = plan_key_tag_into(small, sizeof small, h->m->ns, name);
    if (n < sizeof small) {
        bool ok = plan_key_prefix_fixes_slot(small);
        *prefix = ok ? NULL : arena_strdup(h->a, small);
        return ok;
    }
    char *big = arena_alloc(h->a, n + 1);
    plan_key_tag_into(big, n + 1, h->m->ns, name);
    *prefix = big;
    return plan_key_prefix_fixes_slot(big);
}

void hz_deadlock_tenant(hz *h, const m_subject *t)
{
    const char *prefix;
    if (!t->any) {
        if (tenant_tag_fixed(h, subject_name(t), &prefix))
            return;
    } else {
        /* `tenant *` is decided under the hash tag of whichever tenant the
         * request names.  The tag is encoded byte by byte, so the empty name
         * and one name holding every byte 1-255 once meet every way a name
         * can write into it. */
        char every[256];
        for (int c = 1; c < 256; c++)
            every[c - 1] = (char)c;
        every[255] = '\0';
        if (tenant_tag_fixed(h, "", &prefix) && tenant_tag_fixed(h, every, &prefix))
            return;
    }
    buf b;
    buf_init(&b, 0);
    subject_label(t, &b);
    diag_add(h->d, DIAG_CROSS_SLOT, t->src->name.sp,
             "the keys of %s (prefix %s) do not share one hash tag, so one decision's "
             "counters and pools could live in different Redis Cluster slots and could not "
             "be acquired atomically",
             buf_str(&b), prefix);
    buf_free(&b);
}
