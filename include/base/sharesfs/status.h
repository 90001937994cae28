/* The one status model: where a mount failed, the errno the user saw, and why.
 * Every errno sharesfs or afptest returns is decided by sfs_errno_for() and its
 * tables (fs/base/errno_table.c, docs/errno.md); nothing else picks an errno. */
#ifndef SHARESFS_STATUS_H
#define SHARESFS_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sfs_stage {
    SFS_STAGE_NONE = 0,
    SFS_STAGE_PARSE,
    SFS_STAGE_MAP,        /* reading a map from a directory service: connect, bind, search */
    SFS_STAGE_RESOLVE,
    SFS_STAGE_CONNECT,
    SFS_STAGE_NEGOTIATE,
    SFS_STAGE_AUTHENTICATE,
    SFS_STAGE_MOUNT,
    SFS_STAGE_LIST,
    SFS_STAGE_READ,
    SFS_STAGE_WRITE,
    SFS_STAGE_COUNT
};

enum sfs_domain {
    SFS_DOMAIN_NONE = 0,
    SFS_DOMAIN_SYS,   /* code is an errno */
    SFS_DOMAIN_AFP,   /* code is an AFP result code, e.g. -5023 */
    SFS_DOMAIN_SMB,   /* code is an NTSTATUS, e.g. 0xc000006d */
    SFS_DOMAIN_KRB5,  /* code is a krb5_error_code */
    SFS_DOMAIN_GSS,   /* code is a GSS major status */
    SFS_DOMAIN_DNS,   /* code is a getaddrinfo EAI_* value */
    SFS_DOMAIN_MAP,   /* code unused; detail names file:line:col */
    SFS_DOMAIN_URL,
    SFS_DOMAIN_CONFIG,
    SFS_DOMAIN_LDAP,  /* code is an LDAP result code (RFC 4511, >= 0) or a libldap client code (< 0) */
};

#define SFS_DETAIL_MAX 512

struct sfs_status {
    enum sfs_stage stage;
    int err;                 /* positive errno; 0 means success */
    enum sfs_domain domain;
    long code;
    char detail[SFS_DETAIL_MAX];
};

const char *sfs_stage_name(enum sfs_stage stage);
const char *sfs_domain_name(enum sfs_domain domain);
/* "EACCES" for 13; NULL when unknown. */
const char *sfs_errno_name(int err);

void sfs_status_clear(struct sfs_status *st);
/* Sets every field; returns -err so callers can `return sfs_status_set(...)`. */
int sfs_status_set(struct sfs_status *st, enum sfs_stage stage, int err,
                   enum sfs_domain domain, long code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Puts the formatted text before the detail (say, the entry or server a
 * lower layer did not know); stage, errno and domain are kept.  Returns
 * -err like sfs_status_set. */
int sfs_status_prefix(struct sfs_status *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The failure of a write already acknowledged to its caller (write-behind,
 * docs/architecture.md "Writes"): the first one is kept, returned by every
 * later write and by fsync and close, which also forget it. */
struct sfs_write_error {
    int err;                 /* negative errno; 0: none */
    struct sfs_status st;
};
void sfs_write_error_keep(struct sfs_write_error *we, int err, const struct sfs_status *st);
/* WE's error (0: none) with *ST its status; FORGET once it was reported. */
int sfs_write_error_report(struct sfs_write_error *we, bool forget, struct sfs_status *st);

/* Protocol status -> errno.  Unknown codes give EIO. */
int sfs_errno_for_ntstatus(uint32_t ntstatus);
int sfs_errno_for_afp(int32_t afp_result);
/* The stage an SMB connection failure belongs to, judged from its NTSTATUS
 * when libsmbclient does connect+negotiate+auth+tree connect in one call. */
enum sfs_stage sfs_stage_for_ntstatus(uint32_t ntstatus, enum sfs_stage fallback);

/* Names: "NT_STATUS_LOGON_FAILURE", "kFPUserNotAuth"; NULL when unknown.
 * Each status has one row: its code, its name and its errno. */
const char *sfs_ntstatus_name(uint32_t ntstatus);
const char *sfs_afp_result_name(int32_t afp_result);
/* "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN" for a krb5_error_code; NULL when unknown. */
const char *sfs_krb5_error_name(long code);
/* LDAP: an RFC 4511 result code (49) or a libldap client code (LDAP_SERVER_DOWN
 * -1, LDAP_TIMEOUT -5, ...): "invalidCredentials", "LDAP_SERVER_DOWN"; NULL
 * when unknown.  Unknown codes give EIO. */
int sfs_errno_for_ldap(int code);
const char *sfs_ldap_result_name(int code);
/* NT_STATUS name -> code; false when unknown. */
bool sfs_ntstatus_from_name(const char *name, uint32_t *out);

/* What macOS's automounter would have reported for the same failure
 * ("EAUTH (80)"), or NULL when it is the same errno as ours. */
const char *sfs_macos_equivalent(const struct sfs_status *st);

/* Human text of the protocol code: "NT_STATUS_LOGON_FAILURE (0xc000006d)",
 * "kFPUserNotAuth (-5023)", "invalidCredentials (49)"; empty string when domain has no code. */
void sfs_status_code_text(const struct sfs_status *st, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
