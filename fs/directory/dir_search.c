/* The search: BASE's subtree for the automount object classes, in pages of
 * SFS_DIR_PAGE_SIZE (the simple paged results control, RFC 2696: servers cap
 * a plain search, Active Directory at 1000 entries, slapd at 500 by
 * default), referrals not followed, the whole step within the timeout.
 * libldap decodes the BER; what is checked here is what the record set
 * cannot hold (a value with a NUL byte) and what a strange server may send
 * (an attribute without values, an empty or odd DN). */
#include "dir_private.h"

#include "sharesfs/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *const dir_attrs[] = {
    "objectClass", "cn", "ou", "automountMapName", "automountKey", "automountInformation", "nisMapName",
    "nisMapEntry", "mountDirectory", "mountType", "mountOption", NULL,
};

static int bad_value(struct sfs_status *st, const char *dn, const char *attr)
{
    return sfs_status_set(st, SFS_STAGE_MAP, EINVAL, SFS_DOMAIN_MAP, 0,
                          "record %.200s: a value of %.60s contains a NUL byte", dn, attr);
}

static int no_memory(struct sfs_status *st)
{
    return sfs_status_set(st, SFS_STAGE_MAP, ENOMEM, SFS_DOMAIN_SYS, ENOMEM, "out of memory reading records");
}

static int add_attr(LDAP *ld, LDAPMessage *e, const char *name, struct sfs_dir_record *rec,
                    struct sfs_status *st)
{
    struct berval **vals = dir_ldap.ldap_get_values_len(ld, e, name);
    int rc = 0;
    for (size_t i = 0; rc == 0 && vals && vals[i]; i++) {
        const struct berval *v = vals[i];
        if (v->bv_len && memchr(v->bv_val, '\0', v->bv_len)) {
            rc = bad_value(st, rec->dn, name);
            break;
        }
        char *copy = malloc(v->bv_len + 1);
        if (!copy) {
            rc = no_memory(st);
            break;
        }
        if (v->bv_len)
            memcpy(copy, v->bv_val, v->bv_len);
        copy[v->bv_len] = '\0';
        if (sfs_dir_record_add_value(rec, name, copy) < 0)
            rc = no_memory(st);
        free(copy);
    }
    /* No values (a typesOnly answer, a strange server): nothing to add. */
    dir_ldap.ldap_value_free_len(vals);
    return rc;
}

static int add_entry(LDAP *ld, LDAPMessage *e, struct sfs_dir_records *out, struct sfs_status *st)
{
    char *dn = dir_ldap.ldap_get_dn(ld, e);
    struct sfs_dir_record *rec = sfs_dir_records_add(out, dn ? dn : "");
    dir_ldap.ldap_memfree(dn);
    if (!rec)
        return no_memory(st);
    BerElement *ber = NULL;
    int rc = 0;
    for (char *a = dir_ldap.ldap_first_attribute(ld, e, &ber); a; a = dir_ldap.ldap_next_attribute(ld, e, ber)) {
        if (rc == 0)
            rc = add_attr(ld, e, a, rec, st);
        dir_ldap.ldap_memfree(a);
    }
    ber_free(ber, 0);
    return rc;
}

int dir_collect_entries(LDAP *ld, LDAPMessage *res, struct sfs_dir_records *out, struct sfs_status *st)
{
    for (LDAPMessage *m = dir_ldap.ldap_first_message(ld, res); m; m = dir_ldap.ldap_next_message(ld, m)) {
        /* Continuation references (referrals inside the subtree) are not
         * followed: the map is what this server holds. */
        if (dir_ldap.ldap_msgtype(m) != LDAP_RES_SEARCH_ENTRY)
            continue;
        int rc = add_entry(ld, m, out, st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The server's final answer of one page: its code, and the cookie for the
 * next page (empty: the last one). */
static int page_result(struct dir_conn *c, const char *base, LDAPMessage *res, struct berval *cookie,
                       struct sfs_status *st)
{
    int code = LDAP_SUCCESS;
    char *diag = NULL, **refs = NULL;
    LDAPControl **ctrls = NULL;
    int rc = dir_ldap.ldap_parse_result(c->ld, res, &code, NULL, &diag, &refs, &ctrls, 0);
    if (rc != LDAP_SUCCESS)
        code = rc;
    char msg[256] = "";
    if (code == LDAP_REFERRAL && refs && refs[0])
        snprintf(msg, sizeof(msg), "%s%sreferred to %.120s (not followed)", diag && *diag ? diag : "",
                 diag && *diag ? "; " : "", refs[0]);
    else if (diag)
        snprintf(msg, sizeof(msg), "%s", diag);
    ber_memfree(cookie->bv_val);
    cookie->bv_val = NULL;
    cookie->bv_len = 0;
    if (code == LDAP_SUCCESS) {
        LDAPControl *page = dir_ldap.ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
        ber_int_t estimate = 0;
        /* No control back: the server ignored paging and sent everything. */
        if (page && dir_ldap.ldap_parse_pageresponse_control(c->ld, page, &estimate, cookie) != LDAP_SUCCESS)
            code = LDAP_DECODING_ERROR;
    }
    dir_ldap.ldap_memfree(diag);
    dir_ldap.ldap_memvfree((void **)refs);
    dir_ldap.ldap_controls_free(ctrls);
    if (code == LDAP_SUCCESS)
        return 0;
    return dir_fail(st, c->ld, code, msg, "search %.150s on %s", base, c->uri.text);
}

int dir_search(struct dir_conn *c, const char *base, struct sfs_dir_records *out, size_t *pages,
               struct sfs_status *st)
{
    double deadline = sfs_now_ms() + c->timeout_ms;
    struct berval cookie = {0, NULL};
    int rc = 0;
    do {
        int left = (int)(deadline - sfs_now_ms());
        if (left <= 0) {
            rc = dir_fail(st, c->ld, LDAP_TIMEOUT, "the search took longer than the timeout",
                          "search %.150s on %s", base, c->uri.text);
            break;
        }
        dir_conn_set_timeout(c, left);
        LDAPControl *page = NULL;
        int lrc = dir_ldap.ldap_create_page_control(c->ld, SFS_DIR_PAGE_SIZE, &cookie, 0, &page);
        if (lrc != LDAP_SUCCESS) {
            rc = dir_fail(st, c->ld, lrc, NULL, "search %.150s on %s", base, c->uri.text);
            break;
        }
        LDAPControl *sctrls[] = {page, NULL};
        /* The timeout is both the server's time limit (whole seconds) and
         * how long libldap waits for the page. */
        struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
        LDAPMessage *res = NULL;
        lrc = dir_ldap.ldap_search_ext_s(c->ld, base, LDAP_SCOPE_SUBTREE, SFS_DIR_FILTER, (char **)dir_attrs, 0, sctrls,
                                         NULL, &tv, 0, &res);
        dir_ldap.ldap_control_free(page);
        (*pages)++;
        if (res && (lrc == LDAP_SUCCESS || lrc > 0)) {
            /* A result from the server: its entries, then its code. */
            rc = dir_collect_entries(c->ld, res, out, st);
            if (rc == 0)
                rc = page_result(c, base, res, &cookie, st);
        } else if (lrc != LDAP_SUCCESS) {
            rc = dir_fail(st, c->ld, lrc, NULL, "search %.150s on %s", base, c->uri.text);
        }
        dir_ldap.ldap_msgfree(res);
    } while (rc == 0 && cookie.bv_len > 0);
    ber_memfree(cookie.bv_val);
    return rc;
}
