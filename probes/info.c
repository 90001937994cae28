/* afptest info URL: what a server says about itself before any login
 * (the backend's server_info: AFP FPGetSrvrInfo, SMB our NEGOTIATE). */
#include "info.h"

#include <stdio.h>

#include "sharesfs/engine.h"
#include "sharesfs/url.h"

int afptest_info(const char *text, int timeout_ms)
{
    struct sfs_url url;
    struct sfs_parse_error perr = {0};
    if (sfs_url_parse(text, &url, &perr) < 0) {
        char msg[600];
        sfs_parse_error_format(&perr, msg, sizeof(msg));
        fprintf(stderr, "afptest: URL: %s\n", msg);
        return 2;
    }
    struct sfs_server_info info = {0};
    struct sfs_server_facts facts = {0};
    struct sfs_status st = {0};
    int rc = sfs_engine_server_info(&url, timeout_ms, &info, &facts, &st);
    if (rc < 0) {
        fprintf(stderr, "afptest: %s: %s: %s\n", url.host, sfs_stage_name(st.stage), st.detail);
    } else {
        printf("%-20s%s (%s)\n", "address:", info.address, url.host);
        for (size_t i = 0; i < facts.n; i++)
            printf("%-20s%s\n", facts.rows[i].label, facts.rows[i].value);
    }
    sfs_url_free(&url);
    return rc < 0 ? 1 : 0;
}
