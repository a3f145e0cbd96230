/* policy_rules.c - sources or plan -> rules (see policy_rules.h).  A plan
 * file is trusted as far as rules.c validates it; digest and compiler
 * checks belong to `rlc run`, which deploys it. */
#include "policy_rules.h"

#include <string.h>

#include "check.h"
#include "cli.h"
#include "plan.h"

static bool is_json(const char *path)
{
    size_t n = strlen(path);
    return n > 5 && !strcmp(path + n - 5, ".json");
}

int policy_rules_load(const char *verbname, char *const *paths, int n, const render_opts *ro,
                      policy_rules *out)
{
    memset(out, 0, sizeof *out);
    char err[512];
    if (n == 1 && is_json(paths[0])) {
        json_error_t je;
        out->plan = json_load_file(paths[0], JSON_REJECT_DUPLICATES, &je);
        if (!out->plan) {
            fprintf(stderr, "rlc %s: %s:%d:%d: %s\n", verbname, paths[0], je.line, je.column,
                    je.text);
            return EXIT_USAGE;
        }
        if (!rules_from_plan(out->plan, &out->rs, err, sizeof err)) {
            fprintf(stderr, "rlc %s: %s: %s\n", verbname, paths[0], err);
            return EXIT_FAIL;
        }
        return EXIT_OK;
    }
    program_init(&out->p);
    out->have_program = true;
    if (!program_load(&out->p, (const char *const *)paths, (size_t)n)) {
        render_all(stderr, &out->p.map, &out->p.diags, ro);
        return EXIT_USAGE;
    }
    check_opts co = {0};
    out->m = check_program(&out->p, &co);
    if (out->m && !out->p.diags.nerrors) {
        plan_opts po = {.compiler = "rlc " RLC_VERSION, .rules_only = true};
        out->plan = plan_build(out->m, &out->p, &po, &out->p.diags);
    }
    render_all(stderr, &out->p.map, &out->p.diags, ro);
    if (!out->plan)
        return EXIT_FAIL;
    if (!rules_from_plan(out->plan, &out->rs, err, sizeof err)) {
        fprintf(stderr, "rlc %s: %s\n", verbname, err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

void policy_rules_free(policy_rules *pr)
{
    if (!pr)
        return;
    rules_free(&pr->rs);
    json_decref(pr->plan);
    model_free(pr->m);
    if (pr->have_program)
        program_free(&pr->p);
    memset(pr, 0, sizeof *pr);
}
