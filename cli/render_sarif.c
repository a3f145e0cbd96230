/* render_sarif.c - diagnostics as SARIF 2.1.0, in the shape GitHub code
 * scanning accepts (version, $schema, tool.driver with its rules, results
 * with ruleId, level, message, physical locations with relative
 * forward-slash URIs and full regions, partialFingerprints), and as GitHub
 * workflow annotations (::error file=...::message).  Suppressed hazards go
 * into SARIF with a `suppressions` entry carrying their reason, so code
 * scanning shows them as dismissed instead of forgetting them. */
#include "render_ci.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embed.h"
#include "strmap.h"

/* Where a rule's page lives; the anchor is the SPEC.md heading's slug.
 * Override with RLC_HELP_BASE (for a fork or a docs mirror). */
#define RLC_HELP_BASE_DEFAULT "https://github.com/rlc-lang/rlc/blob/main/SPEC.md"

/* A file name as a relative URI: "./" and the current directory are
 * stripped, '\\' becomes '/', and bytes outside RFC 3986's unreserved and
 * path characters are percent-encoded. */
void ci_relative_uri(buf *out, const char *name)
{
    char cwd[4096];
    if (name[0] == '/' && getcwd(cwd, sizeof cwd)) {
        size_t n = strlen(cwd);
        if (!strncmp(name, cwd, n) && name[n] == '/')
            name += n + 1;
    }
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    if (name[0] == '/')
        name++; /* outside the working tree: still relative, as required */
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (*c == '\\')
            buf_putc(out, '/');
        else if (isalnum(*c) || strchr("-._~/!$&'()*+,;=:@", *c))
            buf_putc(out, (char)*c);
        else
            buf_printf(out, "%%%02X", *c);
    }
}

static void region(buf *out, srcmap *map, span sp)
{
    unsigned l1, c1, l2, c2;
    srcmap_linecol(map, sp.file, sp.start, &l1, &c1);
    srcmap_linecol(map, sp.file, sp.end > sp.start ? sp.end : sp.start, &l2, &c2);
    if (sp.end <= sp.start)
        c2 = c1 + 1;
    buf_printf(out, "\"region\":{\"startLine\":%u,\"startColumn\":%u,\"endLine\":%u,"
                    "\"endColumn\":%u}",
               l1, c1, l2, c2);
}

bool ci_located(srcmap *map, span sp)
{
    return sp.file != SRC_NONE && sp.file < map->nfiles;
}

static void phys(buf *out, srcmap *map, span sp)
{
    buf uri;
    buf_init(&uri, 0);
    ci_relative_uri(&uri, map->files[sp.file].name);
    buf_puts(out, "{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
    buf_json_str(out, buf_str(&uri));
    buf_puts(out, ",\"uriBaseId\":\"%SRCROOT%\"},");
    region(out, map, sp);
    buf_puts(out, "}}");
    buf_free(&uri);
}

static const char *level(severity s)
{
    switch (s) {
    case SEV_ERROR: return "error";
    case SEV_WARNING: return "warning";
    default: return "note";
    }
}

/* GitHub's anchor for "### RLC2002 title": lower case, spaces to '-', other
 * punctuation dropped. */
static void slug(buf *out, int code, const char *title)
{
    buf_printf(out, "#rlc%04d", code);
    if (!title)
        return;
    buf_putc(out, '-');
    for (const unsigned char *c = (const unsigned char *)title; *c; c++) {
        if (isalnum(*c))
            buf_putc(out, (char)tolower(*c));
        else if (*c == ' ')
            buf_putc(out, '-');
        else if (*c == '-' || *c == '_')
            buf_putc(out, (char)*c);
    }
}

static void rules(buf *out)
{
    const char *base = getenv("RLC_HELP_BASE");
    if (!base || !base[0])
        base = RLC_HELP_BASE_DEFAULT;
    size_t n;
    const diag_info *t = diag_table(&n);
    buf_puts(out, "\"rules\":[");
    for (size_t i = 0; i < n; i++) {
        char code[16];
        diag_code_str(t[i].code, code);
        const explain_page *pg = explain_find(t[i].code);
        if (i)
            buf_putc(out, ',');
        buf_printf(out, "{\"id\":\"%s\",\"name\":", code);
        buf_json_str(out, t[i].name);
        buf_puts(out, ",\"shortDescription\":{\"text\":");
        buf_json_str(out, t[i].summary);
        buf_puts(out, "},\"fullDescription\":{\"text\":");
        buf_json_str(out, pg ? pg->title : t[i].summary);
        buf_puts(out, "},\"help\":{\"text\":");
        buf_json_str(out, pg ? pg->text : t[i].summary);
        buf_puts(out, ",\"markdown\":");
        buf_json_str(out, pg ? pg->text : t[i].summary);
        buf_puts(out, "},\"helpUri\":");
        buf help;
        buf_init(&help, 0);
        buf_puts(&help, base);
        slug(&help, t[i].code, pg ? pg->title : NULL);
        buf_json_str(out, buf_str(&help));
        buf_free(&help);
        buf_printf(out, ",\"defaultConfiguration\":{\"level\":\"%s\"}}", level(t[i].sev));
    }
    buf_puts(out, "]");
}

static size_t rule_index(int code)
{
    size_t n;
    const diag_info *t = diag_table(&n);
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return i;
    return 0;
}

/* A fingerprint that survives lines moving: the code, the file and the
 * text of the flagged source line (trimmed), not its number.  Hashing a
 * line costs its length, and many results can flag one long line: the
 * last hash of each code's line is kept (fp_cache), so a line is hashed
 * once per code, not once per result. */
#define FP_CACHE 64
typedef struct fp_cache {
    struct {
        int code;
        uint32_t file;
        const char *line;    /* NULL: empty slot */
        uint64_t hash;
    } v[FP_CACHE];
} fp_cache;

static void fingerprint(buf *out, srcmap *map, const diag *d, fp_cache *cache)
{
    char code[16];
    diag_code_str(d->code, code);
    const char *line = NULL, *ls;
    size_t ll = 0;
    if (ci_located(map, d->sp))
        srcmap_line_text(map, d->sp.file, d->sp.start, &line, &ll);
    ls = line;
    unsigned slot = (unsigned)d->code % FP_CACHE;
    uint64_t h;
    if (line && cache->v[slot].line == line && cache->v[slot].code == d->code &&
        cache->v[slot].file == d->sp.file) {
        h = cache->v[slot].hash;
    } else {
        buf k;
        buf_init(&k, 0);
        buf_printf(&k, "%s|", code);
        if (ls) {
            buf_puts(&k, map->files[d->sp.file].name);
            while (ll && isspace((unsigned char)*ls))
                ls++, ll--;
            while (ll && isspace((unsigned char)ls[ll - 1]))
                ll--;
            buf_putc(&k, '|');
            buf_append(&k, ls, ll);
        }
        h = str_hash(buf_str(&k));
        buf_free(&k);
        if (line) {
            cache->v[slot].code = d->code;
            cache->v[slot].file = d->sp.file;
            cache->v[slot].line = line;
            cache->v[slot].hash = h;
        }
    }
    buf_printf(out, "\"partialFingerprints\":{\"rlcLineHash/v1\":\"%016llx\"}",
               (unsigned long long)h);
}

static void result(buf *out, srcmap *map, const diag *d, const char *reason, span where,
                   fp_cache *cache)
{
    char code[16];
    diag_code_str(d->code, code);
    buf_printf(out, "{\"ruleId\":\"%s\",\"ruleIndex\":%zu,\"level\":\"%s\",\"message\":{\"text\":",
               code, rule_index(d->code), level(d->sev));
    buf_json_str(out, d->msg);
    buf_puts(out, "},\"locations\":[");
    if (ci_located(map, d->sp))
        phys(out, map, d->sp);
    buf_puts(out, "]");
    int id = 1;
    bool any = false;
    for (const diag_note *n = d->notes; n; n = n->next) {
        if (!ci_located(map, n->sp))
            continue;
        buf_puts(out, any ? "," : ",\"relatedLocations\":[");
        any = true;
        /* phys() opens an object; splice id and message into it. */
        buf tmp;
        buf_init(&tmp, 0);
        phys(&tmp, map, n->sp);
        buf_printf(out, "{\"id\":%d,\"message\":{\"text\":", id++);
        buf_json_str(out, n->msg);
        buf_puts(out, "},");
        buf_puts(out, buf_str(&tmp) + 1); /* drop its '{' */
        buf_free(&tmp);
    }
    if (any)
        buf_puts(out, "]");
    buf_putc(out, ',');
    fingerprint(out, map, d, cache);
    if (reason) {
        buf_printf(out, ",\"suppressions\":[{\"kind\":\"%s\",\"justification\":",
                   ci_located(map, where) ? "inSource" : "external");
        buf_json_str(out, reason);
        if (ci_located(map, where)) {
            buf_puts(out, ",\"location\":");
            phys(out, map, where);
        }
        buf_puts(out, "}]");
    }
    buf_putc(out, '}');
}

void render_sarif(FILE *fp, const sarif_input *in, size_t n, const char *version)
{
    buf out;
    buf_init(&out, 0);
    fp_cache fc;
    fp_cache *cache = &fc;
    buf_puts(&out, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
                   "\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"rlc\","
                   "\"version\":");
    buf_json_str(&out, version);
    buf_puts(&out, ",\"informationUri\":");
    const char *base = getenv("RLC_HELP_BASE");
    buf_json_str(&out, base && base[0] ? base : RLC_HELP_BASE_DEFAULT);
    buf_putc(&out, ',');
    rules(&out);
    buf_puts(&out, "}},\"columnKind\":\"unicodeCodePoints\",\"results\":[");
    bool first = true;
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        srcmap *map = in[i].map;
        diag_sort(in[i].diags);
        /* The cache holds lines of one source map. */
        memset(&fc, 0, sizeof fc);
        for (const diag *d = in[i].diags->head; d; d = d->next) {
            if (!render_shown(d, &seen))
                continue;
            if (!first)
                buf_putc(&out, ',');
            first = false;
            result(&out, map, d, NULL, span_none, cache);
        }
        for (const suppressed *s = in[i].sup ? in[i].sup->head : NULL; s; s = s->next) {
            if (!render_shown(s->d, &seen))
                continue;
            if (!first)
                buf_putc(&out, ',');
            first = false;
            result(&out, map, s->d, s->reason, s->where, cache);
        }
    }
    buf_putc(&out, ']');
    /* Results not shown are said in the run's invocation, where SARIF
     * viewers show what happened while the tool ran. */
    if (render_hidden(seen)) {
        buf hid;
        buf_init(&hid, 0);
        render_hidden_text(&hid, render_hidden(seen));
        buf_puts(&out, ",\"invocations\":[{\"executionSuccessful\":true,"
                       "\"toolExecutionNotifications\":[{\"level\":\"warning\",\"message\":{"
                       "\"text\":");
        buf_json_str(&out, buf_str(&hid));
        buf_puts(&out, "}}]}]");
        buf_free(&hid);
    }
    buf_puts(&out, "}]}\n");
    fwrite(buf_str(&out), 1, out.len, fp);
    fflush(fp);
    buf_free(&out);
}
