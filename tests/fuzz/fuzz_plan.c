/* fuzz_plan.c - libFuzzer harness for the plan loader (runtime/plan_load.c)
 * and the rules it feeds (runtime/rules.c).  The input is a plan file.  A
 * fuzzer cannot forge SHA-256, so the harness also re-seals the input the
 * way anyone who can edit a plan can (its buckets' digests, offsets and
 * plan_digest recomputed, as canonical text), which lets mutations reach
 * every check after the digests.  The input as given, then sealed:
 *   - plan_parse_text, plan_verify (and again with the recomputed digest
 *     put in the tree) and rules_from_plan, as `rlc simulate plan.json`;
 *   - plan_load_streamed on the same bytes written to a file, with the
 *     tenants taken one at a time as `rlc run` takes them (lazily, their
 *     rules read at once, and eagerly).
 * And canon_json_read against jansson on the same bytes: a text it takes,
 * jansson must read to the same tree (abort otherwise).
 * The harness prints nothing and frees everything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "plan_digest.h"
#include "plan_load.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

/* The input sealed again, as canonical text: each bucket of its
 * tenant_index given the digest, at and len of the tenants it counts, and
 * plan_digest recomputed (SPEC.md 5.2).  NULL when the input is not an
 * object with a tenant_index and tenants to seal.  Malloc'd. */
static char *reseal(const char *text, size_t len, size_t *outlen)
{
    json_t *p = json_loadb(text, len, 0, NULL);
    json_t *index = json_object_get(p, "tenant_index");
    json_t *ts = json_object_get(p, "tenants");
    char *out = NULL;
    if (!json_is_array(index) || !json_is_array(ts))
        goto out;
    size_t k, first = 0, at = 1;
    json_t *b;
    json_array_foreach(index, k, b) {
        json_int_t n = json_integer_value(json_object_get(b, "n"));
        if (!json_is_object(b) || n < 0 || (size_t)n > json_array_size(ts) - first)
            break;
        json_t *run = json_array();
        for (size_t i = first; i < first + (size_t)n; i++)
            json_array_append(run, json_array_get(ts, i));
        char *rt = digest_canonical_json(run);
        json_decref(run);
        if (!rt)
            abort();
        char hex[DIGEST_HEX_LEN + 1];
        size_t rl = strlen(rt) - 2;
        if (digest_sha256_hex(rt, strlen(rt), hex)) {
            json_object_set_new(b, "sha256", json_string(hex));
            json_object_set_new(b, "at", json_integer((json_int_t)at));
            json_object_set_new(b, "len", json_integer((json_int_t)rl));
        }
        free(rt);
        at += rl + 1;
        first += (size_t)n;
    }
    char dg[DIGEST_HEX_LEN + 1];
    if (!plan_digest_compute(p, dg))
        goto out;
    json_object_set_new(p, "plan_digest", json_string(dg));
    out = digest_canonical_json(p);
    if (out)
        *outlen = strlen(out);
out:
    json_decref(p);
    return out;
}

static void from_tree(const char *text, size_t len)
{
    rerr e;
    rerr_clear(&e);
    json_t *plan = plan_parse_text(text, len, &e);
    if (!plan)
        return;
    char computed[DIGEST_HEX_LEN + 1];
    if (!plan_verify(plan, computed, &e) && e.code == DIAG_PLAN_DIGEST &&
        json_is_object(plan)) {
        json_object_set_new(plan, "plan_digest", json_string(computed));
        plan_verify(plan, NULL, &e);
    }
    rl_ruleset rs;
    char err[512];
    if (rules_from_plan(plan, &rs, err, sizeof err))
        rules_free(&rs);
    json_decref(plan);
}

typedef struct taker {
    rl_ruleset rs;
    bool begun;
} taker;

static bool begin(taker *t, const json_t *plan, size_t n, rerr *e)
{
    char err[512];
    if (!t->begun) {
        t->begun = true;
        if (!rules_begin(plan, n, &t->rs, err, sizeof err))
            return rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
    }
    return true;
}

static bool take(void *ud, const json_t *plan, const json_t *tenant, size_t i, size_t n, rerr *e)
{
    taker *t = ud;
    char err[512];
    if (!begin(t, plan, n, e))
        return false;
    if (i >= n)
        return rerr_set(e, DIAG_PLAN_SHAPE, "more tenants than counted");
    if (!rules_add_tenant(&t->rs, tenant, err, sizeof err))
        return rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
    return true;
}

static int take_text(void *ud, const json_t *plan, const char *text, size_t len, size_t i,
                     size_t n, rerr *e)
{
    taker *t = ud;
    char err[512];
    if (!begin(t, plan, n, e) || i >= n)
        return -1;
    /* As `rlc run` takes it: by name and version, its rules read when
     * used (here at once, while text is valid); every fourth tenant the
     * eager way, so both readers run. */
    if (i % 4) {
        rules_text_result r = rules_add_tenant_lazy(&t->rs, text, len, err, sizeof err);
        if (r == RULES_TEXT_OK &&
            !rules_tenant_load(&t->rs, &t->rs.tenants[t->rs.ntenants - 1], err, sizeof err)) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
            return -1;
        }
        if (r == RULES_TEXT_OK)
            return 1;
        if (r == RULES_TEXT_ERROR) {
            rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
            return -1;
        }
    }
    switch (rules_add_tenant_text(&t->rs, text, len, err, sizeof err)) {
    case RULES_TEXT_OK: return 1;
    case RULES_TEXT_OTHER: return 0;
    case RULES_TEXT_ERROR: break;
    }
    rerr_set(e, DIAG_PLAN_SHAPE, "%s", err);
    return -1;
}

static void streamed(const char *text, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        abort();
    if (len && fwrite(text, 1, len, fp) != len)
        abort();
    if (fclose(fp) != 0)
        abort();
    taker t = {0};
    rerr e;
    rerr_clear(&e);
    json_t *plan = plan_load_streamed(path, NULL, take_text, take, &t, NULL, NULL, &e);
    char err[512];
    if (plan && !t.begun)
        begin(&t, plan, 0, &e);
    if (plan && t.begun)
        rules_finish(&t.rs, err, sizeof err);
    if (t.begun)
        rules_free(&t.rs);
    json_decref(plan);
}

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/rlc-fuzz-plan-%ld.json", (long)getpid());
        atexit(remove_file);
    }
    char *text = malloc(size + 1);
    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);
    text[size] = '\0';
    json_t *mine = canon_json_read(text, size);
    if (mine) {
        json_t *theirs = json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        if (!theirs || !json_equal(mine, theirs))
            abort();
        json_decref(theirs);
        json_decref(mine);
    }
    from_tree(text, size);
    streamed(text, size);
    size_t sl = 0;
    char *sealed = reseal(text, size, &sl);
    if (sealed) {
        from_tree(sealed, sl);
        streamed(sealed, sl);
        free(sealed);
    }
    free(text);
    return 0;
}
