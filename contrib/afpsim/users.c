/* The users file: "user:password" lines; '#' starts a comment line; empty
 * lines are ignored.  The password is everything after the first ':'. */
#include "afpsim.h"

#include <string.h>

GHashTable *users_load(const char *file)
{
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(file, &text, NULL, &err)) {
        log_msg(LOG_ERR, "users file %s: %s", file, err->message);
        g_error_free(err);
        return NULL;
    }
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char **lines = g_strsplit(text, "\n", -1);
    bool ok = true;
    for (size_t i = 0; lines[i]; i++) {
        char *l = lines[i];
        size_t n = strlen(l);
        if (n && l[n - 1] == '\r')
            l[--n] = '\0';
        if (!*l || *l == '#')
            continue;
        char *colon = strchr(l, ':');
        if (!colon || colon == l || colon - l > 255 || strlen(colon + 1) > 256) {
            log_msg(LOG_ERR, "users file %s:%zu: expected user:password", file, i + 1);
            ok = false;
            continue;
        }
        g_hash_table_replace(h, g_strndup(l, (size_t)(colon - l)), g_strdup(colon + 1));
    }
    explicit_bzero(text, strlen(text));
    g_free(text);
    g_strfreev(lines);
    if (!ok) {
        g_hash_table_destroy(h);
        return NULL;
    }
    return h;
}
