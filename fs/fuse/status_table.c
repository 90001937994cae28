#include "status_table.h"

#include <glib.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

/* The few fields printed, read from status.json without a JSON library:
 * the file is ours, one mount object per line. */
static gchar *status_json_field(const char *obj, const char *key)
{
    gchar *pat = g_strdup_printf("\"%s\":", key);
    const char *p = strstr(obj, pat);
    g_free(pat);
    if (!p)
        return g_strdup("-");
    p = strchr(p, ':') + 1;
    if (strncmp(p, "null", 4) == 0)
        return g_strdup("-");
    if (*p != '"') {
        size_t n = strcspn(p, ",}");
        return g_strndup(p, n);
    }
    GString *s = g_string_new(NULL);
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        g_string_append_c(s, *p);
    }
    return g_string_free(s, FALSE);
}

void status_table_header(void)
{
    printf("%-28s %-10s %-10s %-14s %-8s %s\n", "MOUNT POINT", "STATE", "AUTH", "LAST ERROR", "STAGE", "CAUSE");
}

void status_table_rows(const char *text)
{
    gchar **lines = g_strsplit(text, "\n", -1);
    for (gchar **l = lines; *l; l++) {
        if (!strstr(*l, "\"key\":"))
            continue;
        gchar *mp = status_json_field(*l, "mountpoint"), *state = status_json_field(*l, "state"), *auth = status_json_field(*l, "auth");
        gchar *err_name = status_json_field(*l, "errno_name"), *stage = status_json_field(*l, "stage"), *detail = status_json_field(*l, "detail");
        gchar *code = status_json_field(*l, "status");
        bool has_code = strcmp(code, "-") != 0;
        printf("%-28s %-10s %-10s %-14s %-8s %s%s%s%s\n", mp, state, auth, err_name, stage, detail,
               has_code ? " [" : "", has_code ? code : "", has_code ? "]" : "");
        g_free(mp), g_free(state), g_free(auth), g_free(err_name), g_free(stage), g_free(detail), g_free(code);
    }
    g_strfreev(lines);
}

int sharesfs_print_status(const char *mountpoint)
{
    gchar *path = g_build_filename(mountpoint, ".sharesfs", "status.json", NULL);
    gchar *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, NULL, &err)) {
        fprintf(stderr, "sharesfs: %s: %s (is sharesfs mounted there?)\n", path, err->message);
        g_error_free(err);
        g_free(path);
        return 1;
    }
    status_table_header();
    status_table_rows(text);
    g_free(text);
    g_free(path);
    return 0;
}
