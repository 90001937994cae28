/* libFuzzer target for sfs_map_parse_text and sfs_map_lookup.  Besides "no
 * crash, no hang, no leak", it checks that errors name a line and column,
 * that display strings never hold a URL's password, and that every entry can
 * be copied and looked up. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharesfs/map.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The ":password@" of the userinfo must not survive into a display string.
 * The same text may stand elsewhere in the location (a path can spell it):
 * the display must hold it fewer times than the raw location. */
static void check_display(const struct sfs_map_entry *e)
{
    const char *pw = e->url_ok ? e->url.password : NULL;
    /* With '&' the parsed URL is of the substituted text, which the raw
     * location does not show: the counts below would not compare. */
    if (!pw || strlen(pw) < 4 || !e->location_display || strchr(e->location, '&'))
        return;
    size_t n = strlen(pw) + 3;
    char *needle = malloc(n);
    if (!needle)
        return;
    snprintf(needle, n, ":%s@", pw);
    if (count(e->location_display, needle) >= count(e->location, needle) && strstr(e->location_display, needle)) {
        fprintf(stderr, "location_display holds the password\n");
        abort();
    }
    free(needle);
}

static void check_entry(const struct sfs_map *m, const struct sfs_map_entry *e)
{
    struct sfs_map_entry copy, found;
    struct sfs_parse_error err;

    if (!e->key || !e->location || !e->location_display || e->line < 1)
        abort();
    if (!e->wildcard && !e->mountpoint)
        abort();
    check_display(e);
    if (sfs_map_entry_copy(&copy, e) != 0)
        abort();
    sfs_map_entry_free(&copy);
    int rc = sfs_map_lookup(m, e->root, e->wildcard ? "fuzzkey" : e->key, &found, &err);
    if (rc == 0)
        sfs_map_entry_free(&found);
    else if (rc != -ENOENT && rc != -EINVAL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct sfs_map m;
    struct sfs_parse_error err;
    char buf[600];

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int rc = sfs_map_parse_text(text, "fuzz.map", "/fuzz", &m, &err);
    if (rc == 0) {
        for (size_t i = 0; i < m.n_entries; i++)
            check_entry(&m, &m.entries[i]);
        sfs_map_free(&m);
    } else {
        if (m.n_entries || m.n_warnings || err.message[0] == '\0')
            abort();
        /* Errors in the text itself name a line and a column. */
        if (strcmp(err.file, "fuzz.map") == 0 && rc == -EINVAL && (err.line < 1 || err.column < 1))
            abort();
        sfs_parse_error_format(&err, buf, sizeof(buf));
    }
    free(text);
    return 0;
}
