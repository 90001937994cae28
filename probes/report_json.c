/* JSON report, schema "sharesfs.afptest/1" (docs/afptest-json.md). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void json_kv(FILE *out, const char *key, const char *value, bool comma)
{
    json_string(out, key);
    fputc(':', out);
    if (value)
        json_string(out, value);
    else
        fputs("null", out);
    if (comma)
        fputc(',', out);
}

static void json_server(FILE *out, const struct sfs_server_info *s)
{
    fputs("\"server\":{", out);
    json_kv(out, "address", s->address[0] ? s->address : NULL, true);
    json_kv(out, "dialect", s->dialect[0] ? s->dialect : NULL, true);
    json_kv(out, "name", s->server_name[0] ? s->server_name : NULL, true);
    json_kv(out, "os", s->server_os[0] ? s->server_os : NULL, true);
    json_kv(out, "versions", s->versions[0] ? s->versions : NULL, true);
    json_kv(out, "uams", s->uams[0] ? s->uams : NULL, true);
    json_kv(out, "principal", s->principal[0] ? s->principal : NULL, true);
    json_kv(out, "answer_of", s->answer_of[0] ? s->answer_of : NULL, true);
    fprintf(out, "\"flags\":%u,\"encryption_offered\":%s}", s->flags, s->encrypted ? "true" : "false");
}

static void json_status(FILE *out, const struct sfs_status *st)
{
    fputs("\"status\":", out);
    if (st->domain == SFS_DOMAIN_NONE || (st->domain != SFS_DOMAIN_SMB && st->domain != SFS_DOMAIN_AFP &&
                                          st->domain != SFS_DOMAIN_KRB5 && st->domain != SFS_DOMAIN_GSS &&
                                          st->domain != SFS_DOMAIN_LDAP)) {
        fputs("null", out);
        return;
    }
    const char *name = st->domain == SFS_DOMAIN_SMB ? sfs_ntstatus_name((uint32_t)st->code)
                     : st->domain == SFS_DOMAIN_AFP ? sfs_afp_result_name((int32_t)st->code)
                     : st->domain == SFS_DOMAIN_KRB5 ? sfs_krb5_error_name(st->code)
                     : st->domain == SFS_DOMAIN_LDAP ? sfs_ldap_result_name((int)st->code) : NULL;
    fputc('{', out);
    json_kv(out, "domain", sfs_domain_name(st->domain), true);
    if (st->domain == SFS_DOMAIN_SMB)
        fprintf(out, "\"code\":%lu,\"hex\":\"0x%08lx\",", (unsigned long)(uint32_t)st->code,
                (unsigned long)(uint32_t)st->code);
    else
        fprintf(out, "\"code\":%ld,", st->code);
    json_kv(out, "name", name, false);
    fputc('}', out);
}

static void json_row(FILE *out, const struct sfs_probe_result *r)
{
    fputc('{', out);
    json_kv(out, "key", r->key, true);
    json_kv(out, "mountpoint", r->mountpoint, true);
    json_kv(out, "url", r->url, true);
    json_kv(out, "protocol", r->protocol[0] ? r->protocol : NULL, true);
    json_kv(out, "auth", r->auth[0] ? r->auth : NULL, true);
    json_kv(out, "session_of", r->session_of[0] ? r->session_of : NULL, true);
    fprintf(out, "\"session_lost\":%s,", r->session_lost[0] ? "true" : "false");
    json_kv(out, "session_lost_why", r->session_lost[0] ? r->session_lost : NULL, true);
    json_kv(out, "source", r->source, true);
    json_server(out, &r->server);
    fputc(',', out);
    enum sfs_stage stage = r->status.err ? r->status.stage : r->reached;
    json_kv(out, "stage", sfs_stage_name(stage), true);
    json_kv(out, "result", r->status.err ? sfs_errno_name(r->status.err) : "ok", true);
    fprintf(out, "\"errno\":%d,", r->status.err);
    json_status(out, &r->status);
    fputc(',', out);
    json_kv(out, "detail", r->status.err ? r->status.detail : NULL, true);
    json_kv(out, "macos", sfs_macos_equivalent(&r->status), true);
    fprintf(out, "\"listed\":%u,", r->listed);
    json_kv(out, "read_path", r->read_path[0] ? r->read_path : NULL, true);
    fprintf(out, "\"read_bytes\":%zu,\"timings_ms\":{", r->read_bytes);
    bool first = true;
    for (int s = SFS_STAGE_PARSE; s < SFS_STAGE_COUNT; s++) {
        if (!r->ran[s])
            continue;
        fprintf(out, "%s\"%s\":%.3f", first ? "" : ",", sfs_stage_name(s), r->ms[s]);
        first = false;
    }
    fputs("}}", out);
}

void report_json(FILE *out, const struct sfs_probe_result *rows, size_t n, const char *const *warnings,
                 size_t n_warnings)
{
    size_t failed = 0, shared = 0, lost = 0;
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fputs("{\"schema\":\"sharesfs.afptest/1\",", out);
    json_kv(out, "version", SHARESFS_VERSION, true);
    json_kv(out, "generated", when, true);
    fputs("\"entries\":[", out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        fputs("\n  ", out);
        json_row(out, &rows[i]);
        failed += rows[i].status.err != 0;
        shared += rows[i].session_of[0] != '\0';
        lost += rows[i].session_lost[0] != '\0';
    }
    fputs("\n],\"warnings\":[", out);
    for (size_t i = 0; i < n_warnings; i++) {
        if (i)
            fputc(',', out);
        json_string(out, warnings[i]);
    }
    fprintf(out, "],\"summary\":{\"total\":%zu,\"ok\":%zu,\"failed\":%zu,\"shared\":%zu,\"session_lost\":%zu}}\n", n,
            n - failed, failed, shared, lost);
}
