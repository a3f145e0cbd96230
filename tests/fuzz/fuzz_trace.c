/* fuzz_trace.c - libFuzzer harness for `rlc simulate --trace`: the input
 * is a CSV trace, read line by line with trace_read_line (runtime/trace.c)
 * exactly as the CLI reads it (getline's lines, NULs included), and every
 * request it yields is decided by the simulator against one fixed policy
 * (every algorithm, concurrency, routes, groups and keys), with its lease
 * released as the CLI does.  The policy is compiled once; each input gets a
 * fresh simulator.  The harness prints nothing and frees everything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "plan.h"
#include "program.h"
#include "rules.h"
#include "sim.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy[] =
    "policy \"fuzz\" { namespace = \"fz\" }\n"
    "tenant \"acme\" {\n"
    "  limit 100/1m\n"
    "  concurrency 3 lease 10s\n"
    "  key \"k_1\" { limit 10/1s burst 20 algorithm token_bucket }\n"
    "  key \"k_2\" { limit 5/1s algorithm gcra limit 50/1h algorithm fixed_window shadow }\n"
    "  group \"batch\" {\n"
    "    limit 5/1s algorithm fixed_window\n"
    "    route POST \"/v1/jobs/*\" { limit 2/1s algorithm sliding_window }\n"
    "    route GET \"/v1/jobs\" { limit 7/1s cost 2 }\n"
    "  }\n"
    "}\n"
    "tenant \"b\" { limit 1/1d }\n"
    /* No limits, and first in name order: its empty rule list is the
     * first one the compiler sorts. */
    "tenant \"a-open\" { }\n";

static rl_ruleset rules;

static void compile_policy(void)
{
    program p;
    program_init(&p);
    p.std_imports_only = true;
    size_t n = sizeof policy - 1;
    char *text = malloc(n + 2);
    if (!text)
        abort();
    memcpy(text, policy, n + 1);
    text[n + 1] = '\0';
    program_load_text(&p, "fuzz.rlp", text, n);
    check_opts co = {0};
    m_policy *m = check_program(&p, &co);
    if (!m || p.diags.nerrors)
        abort();
    plan_opts po = {.compiler = "rlc fuzz", .rules_only = true};
    json_t *plan = plan_build(m, &p, &po, &p.diags);
    char err[512];
    if (!plan || !rules_from_plan(plan, &rules, err, sizeof err))
        abort();
    json_decref(plan);
    model_free(m);
    program_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules.a)
        compile_policy();
    sim *s = sim_new(&rules);
    trace_reader tr;
    trace_reader_init(&tr);
    char *line = malloc(size + 1);
    if (!line)
        abort();
    for (size_t at = 0; at < size;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) + 1 : size - at;
        memcpy(line, data + at, len);
        line[len] = '\0';
        at += len;
        trace_req q;
        char err[256];
        trace_status st = trace_read_line(&tr, line, len, &q, err, sizeof err);
        if (st == TRACE_BAD)
            break;
        if (st == TRACE_SKIP)
            continue;
        sim_decision d;
        if (sim_decide(s, q.tenant, q.path, q.method, q.route, q.cost, q.time_ms, NULL, &d) !=
            SIM_OK)
            break;
        if (d.lease[0]) {
            int64_t released;
            sim_release(s, q.tenant, q.path, q.method, q.route, d.lease, q.time_ms, &released);
        }
    }
    free(line);
    sim_free(s);
    return 0;
}
