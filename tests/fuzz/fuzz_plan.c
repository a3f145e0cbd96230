/* fuzz_plan.c - libFuzzer harness for the plan loader (runtime/plan_load.c)
 * and the rules it feeds (runtime/rules.c).  The input is a plan file.  A
 * fuzzer cannot forge SHA-256, so the harness first re-seals the input the
 * way anyone who can edit a plan can: when the text holds
 * ,"plan_digest":"<64 bytes>", those bytes become the digest of the rest,
 * which lets mutations reach every check after the digest.  Then:
 *   - plan_parse_text, plan_verify (and again with the recomputed digest
 *     put in the tree) and rules_from_plan, as `rlc simulate plan.json`;
 *   - plan_load_streamed on the same bytes written to a file, with the
 *     tenants taken one at a time as `rlc run` takes them.
 * The harness prints nothing and frees everything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "plan_load.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void reseal(char *text, size_t len)
{
    static const char tag[] = ",\"plan_digest\":\"";
    size_t tl = sizeof tag - 1, nl = tl + DIGEST_HEX_LEN + 1;
    size_t end = len && text[len - 1] == '\n' ? len - 1 : len;
    char *at = NULL;
    for (size_t i = 0; i + nl <= end; i++)
        if (!memcmp(text + i, tag, tl) && text[i + tl + DIGEST_HEX_LEN] == '"') {
            at = text + i;
            break;
        }
    if (!at)
        return;
    size_t before = (size_t)(at - text), after = end - before - nl;
    char *rest = malloc(before + after + 1);
    if (!rest)
        abort();
    memcpy(rest, text, before);
    memcpy(rest + before, at + nl, after);
    char hex[DIGEST_HEX_LEN + 1];
    if (digest_sha256_hex(rest, before + after, hex))
        memcpy(at + tl, hex, DIGEST_HEX_LEN);
    free(rest);
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
    json_t *plan = plan_load_streamed(path, take_text, take, &t, NULL, &e);
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
    reseal(text, size);
    from_tree(text, size);
    streamed(text, size);
    free(text);
    return 0;
}
