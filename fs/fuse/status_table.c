#include "fuse/status_table.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

/* The few fields printed, read from status.json without a JSON library:
 * the file is ours, one mount object per line. */
static gchar *field(const char *obj, const char *key)
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
    printf("%-28s %-10s %-10s %-14s %-8s %s\n", "MOUNT POINT", "STATE", "AUTH", "LAST ERROR", "STAGE", "CAUSE");
    gchar **lines = g_strsplit(text, "\n", -1);
    for (gchar **l = lines; *l; l++) {
        if (!strstr(*l, "\"key\":"))
            continue;
        gchar *mp = field(*l, "mountpoint"), *state = field(*l, "state"), *auth = field(*l, "auth");
        gchar *err_name = field(*l, "errno_name"), *stage = field(*l, "stage"), *detail = field(*l, "detail");
        gchar *code = field(*l, "status");
        printf("%-28s %-10s %-10s %-14s %-8s %s%s%s%s\n", mp, state, auth, err_name, stage, detail,
               strcmp(code, "-") ? " [" : "", strcmp(code, "-") ? code : "", strcmp(code, "-") ? "]" : "");
        g_free(mp), g_free(state), g_free(auth), g_free(err_name), g_free(stage), g_free(detail), g_free(code);
    }
    g_strfreev(lines);
    g_free(text);
    g_free(path);
    return 0;
}
