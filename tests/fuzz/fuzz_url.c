/* libFuzzer target for sfs_url_parse and friends.  Besides "no crash", it
 * checks properties: errors carry a column inside the input and a message;
 * a parsed URL survives display -> parse with the same parts and no
 * password; copies are equal. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharesfs/url.h"

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_url(const struct sfs_url *a, const struct sfs_url *b, bool with_password)
{
    return a->proto == b->proto && same(a->user, b->user) && same(a->domain, b->domain) &&
           same(a->auth, b->auth) && same(a->host, b->host) && a->host_is_ipv6 == b->host_is_ipv6 &&
           a->port == b->port && same(a->share, b->share) && same(a->path, b->path) &&
           (!with_password || same(a->password, b->password));
}

static void check_error(const struct sfs_parse_error *err, size_t len)
{
    char buf[600];
    if (err->column < 1 || (size_t)err->column > len + 1 || err->message[0] == '\0')
        abort();
    sfs_parse_error_format(err, buf, sizeof(buf));
}

static void check_url(const struct sfs_url *u)
{
    struct sfs_url again, copy;
    struct sfs_parse_error err;
    char *display = sfs_url_to_display(u);

    if (!display)
        abort();
    if (sfs_url_parse(display, &again, &err) != 0) {
        fprintf(stderr, "display '%s' does not parse: %s\n", display, err.message);
        abort();
    }
    if (!same_url(u, &again, false) || again.password) {
        fprintf(stderr, "display '%s' changes the URL\n", display);
        abort();
    }
    if (sfs_url_copy(&copy, u) != 0 || !same_url(u, &copy, true))
        abort();
    sfs_url_free(&copy);
    sfs_url_free(&again);
    free(display);
    (void)sfs_url_port(u);
    (void)sfs_proto_name(u->proto);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct sfs_url u;
    struct sfs_parse_error err;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (sfs_url_parse(text, &u, &err) == 0) {
        check_url(&u);
        sfs_url_free(&u);
    } else {
        check_error(&err, strlen(text));
    }
    free(text);
    return 0;
}
