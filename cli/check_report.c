/* check_report.c - `rlc check --report`: the worst-case bound of every limit
 * of every tenant, group and key, templates included (bound.h), and every diagnostic an allow
 * suppressed, with its reason.  Text is a table for people; JSON is one
 * object on one line, after the diagnostics' lines. */
#include "check_report.h"

#include <string.h>

#include "bound.h"
#include "buf.h"

typedef struct rep {
    buf *out;
    srcmap *map;
    const m_policy *m;
    int64_t skew;
    bool json;
    bool first;
    int width;      /* widest SUBJECT cell, so the columns line up */
} rep;

static void limit_text(char *o, size_t n, const m_limit *l)
{
    char w[48];
    dur_format(l->window_ms, w, sizeof w);
    snprintf(o, n, "%lld/%s", (long long)l->count, w);
}

static void pos_json(rep *r, span sp)
{
    if (sp.file == SRC_NONE || sp.file >= r->map->nfiles) {
        buf_puts(r->out, "null");
        return;
    }
    unsigned line, col;
    srcmap_linecol(r->map, sp.file, sp.start, &line, &col);
    buf_puts(r->out, "{\"file\":");
    buf_json_str(r->out, r->map->files[sp.file].name);
    buf_printf(r->out, ",\"line\":%u,\"column\":%u}", line, col);
}

static void row(rep *r, const m_subject *s, const m_route *rt, const m_limit *l)
{
    limit_bound b;
    bound_in_hierarchy(s, rt, l, r->skew, &b);
    char path[1024], lt[96], cap[1200] = "-";
    subject_path(s, path, sizeof path);
    limit_text(lt, sizeof lt, l);
    if (b.capped_by) {
        char cl[96], cp[1024];
        limit_text(cl, sizeof cl, b.capped_by);
        subject_path(b.cap_owner, cp, sizeof cp);
        snprintf(cap, sizeof cap, "%s of %s", cl, cp);
    }
    if (r->json) {
        buf_puts(r->out, r->first ? "" : ",");
        r->first = false;
        buf_puts(r->out, "{\"subject\":");
        buf_json_str(r->out, path);
        buf_printf(r->out, ",\"kind\":\"%s\",\"route\":", ast_kind_name(s->kind));
        if (rt) {
            char rtxt[2048];
            snprintf(rtxt, sizeof rtxt, "%s %s", rt->method, rt->path);
            buf_json_str(r->out, rtxt);
        } else {
            buf_puts(r->out, "null");
        }
        buf_puts(r->out, ",\"limit\":");
        buf_json_str(r->out, lt);
        buf_printf(r->out, ",\"algorithm\":\"%s\",\"count\":%lld,\"window_ms\":%lld,"
                           "\"burst\":%lld,\"cost\":%lld,\"shadow\":%s,\"alone\":%lld,"
                           "\"bound\":%lld,\"capped_by\":",
                   plan_kind_name(l->algo), (long long)l->count, (long long)l->window_ms,
                   (long long)l->burst, (long long)l->cost, l->shadow ? "true" : "false",
                   (long long)b.alone, (long long)b.bound);
        if (b.capped_by) {
            char cl[96], cp[1024];
            limit_text(cl, sizeof cl, b.capped_by);
            subject_path(b.cap_owner, cp, sizeof cp);
            buf_puts(r->out, "{\"subject\":");
            buf_json_str(r->out, cp);
            buf_puts(r->out, ",\"limit\":");
            buf_json_str(r->out, cl);
            buf_puts(r->out, ",\"at\":");
            pos_json(r, ast_limit_rate_sp(b.capped_by->src));
            buf_putc(r->out, '}');
        } else {
            buf_puts(r->out, "null");
        }
        buf_puts(r->out, ",\"at\":");
        pos_json(r, ast_limit_rate_sp(l->src));
        buf_putc(r->out, '}');
        return;
    }
    char who[2200];
    if (rt)
        snprintf(who, sizeof who, "%s %s %s", path, rt->method, rt->path);
    else
        snprintf(who, sizeof who, "%s", path);
    char win[48];
    dur_format(l->window_ms, win, sizeof win);
    /* A shadow limit enforces nothing: its BOUND is what the others let
     * through in its window, so say so next to the limit itself. */
    if (l->shadow)
        strncat(lt, " shadow", sizeof lt - strlen(lt) - 1);
    buf_printf(r->out, "%-*s %-20s %-21s %12lld %12lld  %s\n", r->width, who, lt,
               plan_kind_name(l->algo), (long long)b.alone, (long long)b.bound, cap);
}

/* Width of the SUBJECT column: the longest subject path, route included. */
static void measure(rep *r, const m_subject *s)
{
    char path[1024];
    subject_path(s, path, sizeof path);
    int w = (int)strlen(path);
    if (s->nlimits && w > r->width)
        r->width = w;
    for (size_t k = 0; k < s->nroutes; k++) {
        int rw = w + 2 + (int)strlen(s->routes[k].method) + (int)strlen(s->routes[k].path);
        if (s->routes[k].nlimits && rw > r->width)
            r->width = rw;
    }
    for (size_t i = 0; i < s->nchildren; i++)
        measure(r, &s->children[i]);
}

static void walk(rep *r, const m_subject *s)
{
    for (size_t i = 0; i < s->nlimits; i++)
        row(r, s, NULL, &s->limits[i]);
    for (size_t k = 0; k < s->nroutes; k++)
        for (size_t i = 0; i < s->routes[k].nlimits; i++)
            row(r, s, &s->routes[k], &s->routes[k].limits[i]);
    for (size_t i = 0; i < s->nchildren; i++)
        walk(r, &s->children[i]);
}

void check_report(FILE *fp, srcmap *map, const m_policy *m, const suppressed_list *sup,
                  bool json)
{
    buf out;
    buf_init(&out, 0);
    rep r = {&out, map, m, policy_decision_skew(m), json, true, 0};
    char sk[48];
    dur_format(r.skew, sk, sizeof sk);
    if (json) {
        buf_printf(&out, "{\"report\":{\"time_source\":\"%s\",\"max_clock_skew_ms\":%lld,"
                         "\"decision_skew_ms\":%lld,\"limits\":[",
                   m->client_time ? "client" : "server", (long long)m->max_clock_skew_ms,
                   (long long)r.skew);
    } else {
        buf_printf(&out, "Worst-case admissions: the most requests each limit admits in any "
                         "span of its window (time_source = %s, skew counted: %s).\n"
                         "ALONE is the limit by itself; BOUND after every limit above it "
                         "in the hierarchy.\n\n",
                   m->client_time ? "client" : "server", r.skew ? sk : "none");
        r.width = 7;
        for (size_t i = 0; i < m->ntenants; i++)
            measure(&r, m->tenants[i]);
        if (m->any_tenant)
            measure(&r, m->any_tenant);
        buf_printf(&out, "%-*s %-20s %-21s %12s %12s  %s\n", r.width, "SUBJECT", "LIMIT",
                   "ALGORITHM", "ALONE", "BOUND", "CAPPED BY");
    }
    /* `tenant *` and its subtree last, after the tenants the policy lists. */
    for (size_t i = 0; i <= m->ntenants; i++) {
        const m_subject *t = i < m->ntenants ? m->tenants[i] : m->any_tenant;
        if (!t)
            continue;
        walk(&r, t);
        if (out.len > ((size_t)1 << 20)) { /* stream big reports */
            fwrite(buf_str(&out), 1, out.len, fp);
            buf_reset(&out);
        }
    }
    if (json) {
        buf_puts(&out, "],\"suppressed\":[");
        for (const suppressed *s = sup ? sup->head : NULL; s; s = s->next) {
            char code[16];
            diag_code_str(s->d->code, code);
            buf_printf(&out, "{\"code\":\"%s\",\"severity\":\"%s\",\"message\":", code,
                       severity_name(s->d->sev));
            buf_json_str(&out, s->d->msg);
            buf_puts(&out, ",\"at\":");
            pos_json(&r, s->d->sp);
            buf_puts(&out, ",\"reason\":");
            buf_json_str(&out, s->reason);
            buf_puts(&out, ",\"allow\":");
            pos_json(&r, s->where);
            buf_putc(&out, '}');
            if (s->next)
                buf_putc(&out, ',');
        }
        buf_puts(&out, "]}}\n");
    } else {
        buf_printf(&out, "\nSuppressed: %zu\n", sup ? sup->n : 0);
        for (const suppressed *s = sup ? sup->head : NULL; s; s = s->next) {
            char code[16];
            diag_code_str(s->d->code, code);
            buf loc;
            buf_init(&loc, 0);
            render_location(&loc, map, s->d->sp);
            buf_printf(&out, "%s: %s[%s]: %s\n    reason: \"%s\"", buf_str(&loc),
                       severity_name(s->d->sev), code, s->d->msg, s->reason);
            buf_reset(&loc);
            if (s->where.file != SRC_NONE) {
                render_location(&loc, map, s->where);
                buf_printf(&out, " (allow at %s)", buf_str(&loc));
            }
            buf_putc(&out, '\n');
            buf_free(&loc);
        }
    }
    fwrite(buf_str(&out), 1, out.len, fp);
    fflush(fp);
    buf_free(&out);
}
