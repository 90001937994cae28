/* Aligned text table: one row per mount point, details below the table so
 * long causes do not wreck the alignment. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

void report_result_text(const struct sfs_probe_result *r, char *buf, size_t len)
{
    if (r->status.err == 0) {
        snprintf(buf, len, "ok");
        return;
    }
    const char *name = sfs_errno_name(r->status.err);
    snprintf(buf, len, "%s (%d)", name ? name : "errno", r->status.err);
}

#define CELL 1200

enum { COL_MOUNT, COL_URL, COL_PROTO, COL_SERVER, COL_AUTH, COL_STAGE, COL_RESULT, COL_STATUS, COL_TIME, N_COLS };

static const char *const headers[N_COLS] = {
    "MOUNT POINT", "URL", "PROTO", "SERVER", "AUTH", "STAGE", "RESULT", "PROTOCOL STATUS", "TIME",
};

static double total_ms(const struct sfs_probe_result *r)
{
    double t = 0;
    for (int s = 0; s < SFS_STAGE_COUNT; s++)
        t += r->ran[s] ? r->ms[s] : 0;
    return t;
}

static void cells_for(const struct sfs_probe_result *r, char cells[N_COLS][CELL])
{
    snprintf(cells[COL_MOUNT], CELL, "%s", r->mountpoint);
    snprintf(cells[COL_URL], CELL, "%s", r->url);
    snprintf(cells[COL_PROTO], CELL, "%s", r->protocol[0] ? r->protocol : "-");
    if (r->server.dialect[0])
        snprintf(cells[COL_SERVER], CELL, "%s %s", r->server.address, r->server.dialect);
    else
        snprintf(cells[COL_SERVER], CELL, "%s", r->server.address[0] ? r->server.address : "-");
    if (r->session_of[0])
        snprintf(cells[COL_AUTH], CELL, "%s (session of %s)", r->auth[0] ? r->auth : "-", r->session_of);
    else
        snprintf(cells[COL_AUTH], CELL, "%s", r->auth[0] ? r->auth : "-");
    enum sfs_stage stage = r->status.err ? r->status.stage : r->reached;
    snprintf(cells[COL_STAGE], CELL, "%s", sfs_stage_name(stage));
    report_result_text(r, cells[COL_RESULT], CELL);
    char code[96];
    sfs_status_code_text(&r->status, code, sizeof(code));
    snprintf(cells[COL_STATUS], CELL, "%s", code[0] ? code : "-");
    snprintf(cells[COL_TIME], CELL, "%.0f ms", total_ms(r));
}

static void stage_times(FILE *out, const struct sfs_probe_result *r)
{
    fprintf(out, "  %s:", r->mountpoint);
    for (int s = SFS_STAGE_RESOLVE; s < SFS_STAGE_COUNT; s++)
        if (r->ran[s])
            fprintf(out, " %s %.1f", sfs_stage_name(s), r->ms[s]);
    if (r->read_path[0])
        fprintf(out, " (read %zu bytes of %s)", r->read_bytes, r->read_path);
    if (r->server.answer_of[0])
        fprintf(out, " (server's answer asked by %s)", r->server.answer_of);
    if (r->session_lost[0])
        fprintf(out, " (probed afresh: %s)", r->session_lost);
    fputc('\n', out);
}

void report_table(FILE *out, const struct sfs_probe_result *rows, size_t n, const char *const *warnings,
                  size_t n_warnings, bool verbose)
{
    int width[N_COLS];
    char cells[N_COLS][CELL];
    for (int c = 0; c < N_COLS; c++)
        width[c] = (int)strlen(headers[c]);
    for (size_t i = 0; i < n; i++) {
        cells_for(&rows[i], cells);
        for (int c = 0; c < N_COLS; c++)
            if ((int)strlen(cells[c]) > width[c])
                width[c] = (int)strlen(cells[c]);
    }
    for (int c = 0; c < N_COLS; c++)
        fprintf(out, "%-*s%s", width[c], headers[c], c + 1 < N_COLS ? "  " : "\n");
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        cells_for(&rows[i], cells);
        for (int c = 0; c < N_COLS; c++)
            fprintf(out, "%-*s%s", width[c], cells[c], c + 1 < N_COLS ? "  " : "\n");
        failed += rows[i].status.err != 0;
    }
    if (failed)
        fprintf(out, "\nWhy:\n");
    for (size_t i = 0; i < n; i++) {
        const struct sfs_probe_result *r = &rows[i];
        if (!r->status.err)
            continue;
        const char *mac = sfs_macos_equivalent(&r->status);
        fprintf(out, "  %s [%s, %s]: %s%s%s%s\n", r->mountpoint, sfs_stage_name(r->status.stage),
                sfs_errno_name(r->status.err) ? sfs_errno_name(r->status.err) : "?", r->status.detail,
                mac ? " (macOS would show " : "", mac ? mac : "", mac ? ")" : "");
    }
    if (verbose) {
        fprintf(out, "\nStage times (ms):\n");
        for (size_t i = 0; i < n; i++)
            stage_times(out, &rows[i]);
    }
    for (size_t i = 0; i < n_warnings; i++)
        fprintf(out, "%swarning: %s\n", i == 0 ? "\n" : "", warnings[i]);
    size_t shared = 0, lost = 0;
    for (size_t i = 0; i < n; i++) {
        shared += rows[i].session_of[0] != '\0';
        lost += rows[i].session_lost[0] != '\0';
    }
    fprintf(out, "\n%zu entries: %zu ok, %zu failed", n, n - failed, failed);
    if (shared || lost)
        fprintf(out, "; %zu on another entry's session, %zu probed afresh after their shared session failed", shared,
                lost);
    fputc('\n', out);
}
