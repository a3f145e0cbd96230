/* fuzz_source.c - libFuzzer harness for the front end.  The input is one
 * policy file: it is read, parsed and checked (imports of std/ modules only:
 * a harness never reads the disk), its diagnostics are rendered in every
 * format (text with and without color, JSON, SARIF, GitHub), and the check
 * report is written; a policy that checks cleanly is compiled into a plan
 * (with a stand-in enforcement library, as tests/plan does) whose rules are
 * read back as the runtime reads them.  When the input parses without errors, fmt must give
 * text that parses without errors and that fmt leaves as it is:
 * fmt(fmt(x)) == fmt(x); otherwise the harness aborts (a finding).
 * Output goes to /dev/null: the harness itself prints nothing, and frees
 * everything (LeakSanitizer checks it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_report.h"
#include "fmt.h"
#include "plan.h"
#include "program.h"
#include "render.h"
#include "render_ci.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink;

/* A program holding text (copied) as its only root file. */
static void load(program *p, const char *text, size_t len)
{
    program_init(p);
    p->std_imports_only = true;
    char *t = malloc(len + 2);
    if (!t)
        abort();
    if (len)
        memcpy(t, text, len);
    t[len] = t[len + 1] = '\0';
    program_load_text(p, "fuzz.rlp", t, len);
}

/* The canonical text of p's root file into out. */
static void format(buf *out, const program *p)
{
    buf_init(out, 0);
    fmt_file(out, &p->map, p->files[0]);
}

static void render_every_format(program *p, const suppressed_list *sup)
{
    render_opts o = {.color = false, .format = FMT_TEXT};
    render_all(sink, &p->map, &p->diags, &o);
    o.color = true;
    render_all(sink, &p->map, &p->diags, &o);
    o.format = FMT_JSON;
    render_all(sink, &p->map, &p->diags, &o);
    sarif_input in = {&p->map, &p->diags, sup};
    render_sarif(sink, &in, 1, "0.0.0-fuzz");
    render_github(sink, &p->map, &p->diags);
}

/* fmt's promises on text that parsed cleanly: its output parses cleanly
 * too, and formatting that output changes nothing. */
static void check_fmt(const program *p)
{
    buf once, twice;
    format(&once, p);
    program q;
    load(&q, buf_str(&once), once.len);
    if (q.diags.nerrors || q.nfiles == 0)
        abort(); /* fmt wrote text that does not parse */
    format(&twice, &q);
    if (once.len != twice.len || memcmp(buf_str(&once), buf_str(&twice), once.len) != 0)
        abort(); /* fmt is not idempotent */
    buf_free(&once);
    buf_free(&twice);
    program_free(&q);
}

static const char library[] = "#!lua name=rlc\nlocal LIBRARY_VERSION = 7\n";

/* The plan of a clean model, and its rules as the runtime reads them. */
static void compile(program *p, const m_policy *m)
{
    plan_opts po = {.compiler = "rlc 0.0.0-fuzz", .library_source = library,
                    .library_len = sizeof library - 1};
    json_t *plan = plan_build(m, p, &po, &p->diags);
    if (!plan)
        return;
    rl_ruleset rs;
    char err[512];
    if (rules_from_plan(plan, &rs, err, sizeof err))
        rules_free(&rs);
    json_decref(plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink && !(sink = fopen("/dev/null", "w")))
        abort();
    program p;
    load(&p, (const char *)data, size);
    if (p.diags.nerrors == 0 && p.nfiles > 0)
        check_fmt(&p);
    suppressed_list sup = {0};
    check_opts co = {.suppressed = &sup};
    m_policy *m = check_program(&p, &co);
    if (m && p.diags.nerrors == 0)
        compile(&p, m);
    render_every_format(&p, &sup);
    if (m) {
        check_report(sink, &p.map, m, &sup, false);
        check_report(sink, &p.map, m, &sup, true);
    }
    model_free(m);
    program_free(&p);
    return 0;
}
