/* The one place that decides errno from a protocol status (docs/errno.md is
 * the same table in prose; keep both in the same commit). */
#include "sharesfs/status.h"

#include <errno.h>
#include <krb5.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct errno_name { int err; const char *name; int macos; };

/* Linux errno, its name, and the number macOS uses for the same name
 * (0 where macOS has no such errno). */
static const struct errno_name errno_names[] = {
    {EPERM, "EPERM", 1}, {ENOENT, "ENOENT", 2}, {EIO, "EIO", 5}, {EBADF, "EBADF", 9},
    {EAGAIN, "EAGAIN", 35}, {ENOMEM, "ENOMEM", 12}, {EACCES, "EACCES", 13},
    {EBUSY, "EBUSY", 16}, {EEXIST, "EEXIST", 17}, {EXDEV, "EXDEV", 18},
    {ENOTDIR, "ENOTDIR", 20}, {EISDIR, "EISDIR", 21}, {EINVAL, "EINVAL", 22},
    {EMFILE, "EMFILE", 24}, {EFBIG, "EFBIG", 27}, {ENOSPC, "ENOSPC", 28},
    {EROFS, "EROFS", 30}, {ENAMETOOLONG, "ENAMETOOLONG", 63}, {ENOLCK, "ENOLCK", 77},
    {ENOSYS, "ENOSYS", 78}, {ENOTEMPTY, "ENOTEMPTY", 66}, {ENOTSUP, "EOPNOTSUPP", 45},
    {EPROTO, "EPROTO", 100}, {EMSGSIZE, "EMSGSIZE", 40}, {EILSEQ, "EILSEQ", 92},
    {EPROTONOSUPPORT, "EPROTONOSUPPORT", 43}, {EAFNOSUPPORT, "EAFNOSUPPORT", 47},
    {ENETUNREACH, "ENETUNREACH", 51}, {ECONNABORTED, "ECONNABORTED", 53},
    {ECONNRESET, "ECONNRESET", 54}, {ESHUTDOWN, "ESHUTDOWN", 58},
    {ETIMEDOUT, "ETIMEDOUT", 60}, {ECONNREFUSED, "ECONNREFUSED", 61},
    {EHOSTDOWN, "EHOSTDOWN", 64}, {EHOSTUNREACH, "EHOSTUNREACH", 65},
    {EDQUOT, "EDQUOT", 69}, {ENOKEY, "ENOKEY", 0}, {EKEYEXPIRED, "EKEYEXPIRED", 0},
    {EKEYREJECTED, "EKEYREJECTED", 0}, {ELIBACC, "ELIBACC", 0}, {ENODATA, "ENODATA", 96}, {ENOTCONN, "ENOTCONN", 57},
    {ECANCELED, "ECANCELED", 89}, {ENXIO, "ENXIO", 6}, {ENODEV, "ENODEV", 19},
    {ETIME, "ETIME", 101}, {EREMOTE, "EREMOTE", 71}, {EPIPE, "EPIPE", 32},
    {E2BIG, "E2BIG", 7},
};

static const struct errno_name *errno_lookup(int err)
{
    for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (errno_names[i].err == err)
            return &errno_names[i];
    return NULL;
}

const char *sfs_errno_name(int err)
{
    const struct errno_name *e = errno_lookup(err);
    return e ? e->name : NULL;
}

/* NTSTATUS: name, errno, and the stage a connection failure with this status
 * belongs to (SFS_STAGE_NONE: keep the caller's). */
struct ntstatus_row {
    uint32_t code;
    const char *name;
    int err;
    enum sfs_stage stage;
};

static const struct ntstatus_row ntstatus_rows[] = {
    {0x00000000, "NT_STATUS_OK", 0, SFS_STAGE_NONE},
    {0x80000006, "NT_STATUS_NO_MORE_FILES", 0, SFS_STAGE_NONE},
    {0xc0000001, "NT_STATUS_UNSUCCESSFUL", EIO, SFS_STAGE_NONE},
    {0xc0000002, "NT_STATUS_NOT_IMPLEMENTED", ENOSYS, SFS_STAGE_NONE},
    {0xc0000008, "NT_STATUS_INVALID_HANDLE", EBADF, SFS_STAGE_NONE},
    {0xc000000d, "NT_STATUS_INVALID_PARAMETER", EINVAL, SFS_STAGE_NONE},
    {0xc000000e, "NT_STATUS_NO_SUCH_DEVICE", ENODEV, SFS_STAGE_NONE},
    {0xc000000f, "NT_STATUS_NO_SUCH_FILE", ENOENT, SFS_STAGE_NONE},
    {0xc0000010, "NT_STATUS_INVALID_DEVICE_REQUEST", EINVAL, SFS_STAGE_NONE},
    {0xc0000011, "NT_STATUS_END_OF_FILE", 0, SFS_STAGE_NONE},
    {0xc0000017, "NT_STATUS_NO_MEMORY", ENOMEM, SFS_STAGE_NONE},
    {0xc0000022, "NT_STATUS_ACCESS_DENIED", EACCES, SFS_STAGE_NONE},
    {0xc0000033, "NT_STATUS_OBJECT_NAME_INVALID", EINVAL, SFS_STAGE_NONE},
    {0xc0000034, "NT_STATUS_OBJECT_NAME_NOT_FOUND", ENOENT, SFS_STAGE_NONE},
    {0xc0000035, "NT_STATUS_OBJECT_NAME_COLLISION", EEXIST, SFS_STAGE_NONE},
    {0xc000003a, "NT_STATUS_OBJECT_PATH_NOT_FOUND", ENOENT, SFS_STAGE_NONE},
    {0xc0000043, "NT_STATUS_SHARING_VIOLATION", EBUSY, SFS_STAGE_NONE},
    {0xc0000056, "NT_STATUS_DELETE_PENDING", EBUSY, SFS_STAGE_NONE},
    {0xc000005e, "NT_STATUS_NO_LOGON_SERVERS", EHOSTUNREACH, SFS_STAGE_AUTHENTICATE},
    {0xc0000064, "NT_STATUS_NO_SUCH_USER", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc000006a, "NT_STATUS_WRONG_PASSWORD", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc000006d, "NT_STATUS_LOGON_FAILURE", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc000006e, "NT_STATUS_ACCOUNT_RESTRICTION", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc000006f, "NT_STATUS_INVALID_LOGON_HOURS", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc0000070, "NT_STATUS_INVALID_WORKSTATION", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc0000071, "NT_STATUS_PASSWORD_EXPIRED", EKEYEXPIRED, SFS_STAGE_AUTHENTICATE},
    {0xc0000072, "NT_STATUS_ACCOUNT_DISABLED", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc000007f, "NT_STATUS_DISK_FULL", ENOSPC, SFS_STAGE_NONE},
    {0xc000009a, "NT_STATUS_INSUFFICIENT_RESOURCES", ENOMEM, SFS_STAGE_NONE},
    {0xc00000a2, "NT_STATUS_MEDIA_WRITE_PROTECTED", EROFS, SFS_STAGE_NONE},
    {0xc00000a8, "NT_STATUS_BAD_TOKEN_TYPE", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc00000b5, "NT_STATUS_IO_TIMEOUT", ETIMEDOUT, SFS_STAGE_NONE},
    {0xc00000ba, "NT_STATUS_FILE_IS_A_DIRECTORY", EISDIR, SFS_STAGE_NONE},
    {0xc00000bb, "NT_STATUS_NOT_SUPPORTED", EPROTONOSUPPORT, SFS_STAGE_NEGOTIATE},
    {0xc00000be, "NT_STATUS_BAD_NETWORK_PATH", ENOENT, SFS_STAGE_MOUNT},
    {0xc00000c3, "NT_STATUS_INVALID_NETWORK_RESPONSE", EPROTONOSUPPORT, SFS_STAGE_NEGOTIATE},
    {0xc00000c9, "NT_STATUS_NETWORK_NAME_DELETED", ECONNRESET, SFS_STAGE_NONE},
    {0xc00000ca, "NT_STATUS_NETWORK_ACCESS_DENIED", EACCES, SFS_STAGE_MOUNT},
    {0xc00000cc, "NT_STATUS_BAD_NETWORK_NAME", ENOENT, SFS_STAGE_MOUNT},
    {0xc00000e5, "NT_STATUS_INTERNAL_ERROR", EIO, SFS_STAGE_NONE},
    {0xc0000101, "NT_STATUS_DIRECTORY_NOT_EMPTY", ENOTEMPTY, SFS_STAGE_NONE},
    {0xc0000103, "NT_STATUS_NOT_A_DIRECTORY", ENOTDIR, SFS_STAGE_NONE},
    {0xc0000121, "NT_STATUS_CANNOT_DELETE", EACCES, SFS_STAGE_NONE},
    {0xc0000133, "NT_STATUS_TIME_DIFFERENCE_AT_DC", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc000015b, "NT_STATUS_LOGON_TYPE_NOT_GRANTED", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc0000193, "NT_STATUS_ACCOUNT_EXPIRED", EKEYEXPIRED, SFS_STAGE_AUTHENTICATE},
    {0xc0000203, "NT_STATUS_USER_SESSION_DELETED", ECONNRESET, SFS_STAGE_NONE},
    {0xc000020c, "NT_STATUS_CONNECTION_DISCONNECTED", ECONNRESET, SFS_STAGE_NONE},
    {0xc000020d, "NT_STATUS_CONNECTION_RESET", ECONNRESET, SFS_STAGE_NONE},
    {0xc0000224, "NT_STATUS_PASSWORD_MUST_CHANGE", EKEYEXPIRED, SFS_STAGE_AUTHENTICATE},
    {0xc0000225, "NT_STATUS_NOT_FOUND", ENOENT, SFS_STAGE_NONE},
    {0xc0000234, "NT_STATUS_ACCOUNT_LOCKED_OUT", EACCES, SFS_STAGE_AUTHENTICATE},
    {0xc0000236, "NT_STATUS_CONNECTION_REFUSED", ECONNREFUSED, SFS_STAGE_CONNECT},
    {0xc000023c, "NT_STATUS_NETWORK_UNREACHABLE", ENETUNREACH, SFS_STAGE_CONNECT},
    {0xc000023d, "NT_STATUS_HOST_UNREACHABLE", EHOSTUNREACH, SFS_STAGE_CONNECT},
    {0xc000023f, "NT_STATUS_PORT_UNREACHABLE", ECONNREFUSED, SFS_STAGE_CONNECT},
    {0xc000035c, "NT_STATUS_NETWORK_SESSION_EXPIRED", EKEYEXPIRED, SFS_STAGE_NONE},
    {0xc0000388, "NT_STATUS_DOWNGRADE_DETECTED", EPROTO, SFS_STAGE_NEGOTIATE},
    {0xc0000418, "NT_STATUS_NTLM_BLOCKED", EPROTONOSUPPORT, SFS_STAGE_AUTHENTICATE},
};

static const struct ntstatus_row *ntstatus_lookup(uint32_t code)
{
    for (size_t i = 0; i < sizeof(ntstatus_rows) / sizeof(ntstatus_rows[0]); i++)
        if (ntstatus_rows[i].code == code)
            return &ntstatus_rows[i];
    return NULL;
}

int sfs_errno_for_ntstatus(uint32_t ntstatus)
{
    const struct ntstatus_row *r = ntstatus_lookup(ntstatus);
    return r ? r->err : EIO;
}

enum sfs_stage sfs_stage_for_ntstatus(uint32_t ntstatus, enum sfs_stage fallback)
{
    const struct ntstatus_row *r = ntstatus_lookup(ntstatus);
    return (r && r->stage != SFS_STAGE_NONE) ? r->stage : fallback;
}

const char *sfs_ntstatus_name(uint32_t ntstatus)
{
    const struct ntstatus_row *r = ntstatus_lookup(ntstatus);
    return r ? r->name : NULL;
}

bool sfs_ntstatus_from_name(const char *name, uint32_t *out)
{
    for (size_t i = 0; i < sizeof(ntstatus_rows) / sizeof(ntstatus_rows[0]); i++)
        if (strcmp(ntstatus_rows[i].name, name) == 0) {
            *out = ntstatus_rows[i].code;
            return true;
        }
    return false;
}

/* AFP results: the one table of their names (afp_result_name() in
 * fs/afp is this) and errnos.  0: not an error (the caller decides). */
struct afp_row {
    int32_t code;
    const char *name;
    int err;
};

static const struct afp_row afp_rows[] = {
    {0, "kFPNoErr", 0},
    {-5000, "kFPAccessDenied", EACCES},
    {-5001, "kFPAuthContinue", 0},
    {-5002, "kFPBadUAM", EPROTONOSUPPORT},
    {-5003, "kFPBadVersNum", EPROTONOSUPPORT},
    {-5004, "kFPBitmapErr", EINVAL},
    {-5005, "kFPCantMove", EINVAL},
    {-5006, "kFPDenyConflict", EBUSY},
    {-5007, "kFPDirNotEmpty", ENOTEMPTY},
    {-5008, "kFPDiskFull", ENOSPC},
    {-5009, "kFPEOFErr", 0},
    {-5010, "kFPFileBusy", EBUSY},
    {-5011, "kFPFlatVol", EINVAL},
    {-5012, "kFPItemNotFound", ENOENT},
    {-5013, "kFPLockErr", EAGAIN},
    {-5014, "kFPMiscErr", EIO},
    {-5015, "kFPNoMoreLocks", ENOLCK},
    {-5016, "kFPNoServer", EHOSTDOWN},
    {-5017, "kFPObjectExists", EEXIST},
    {-5018, "kFPObjectNotFound", ENOENT},
    {-5019, "kFPParamErr", EINVAL},
    {-5020, "kFPRangeNotLocked", ENOLCK},
    {-5021, "kFPRangeOverlap", EAGAIN},
    {-5022, "kFPSessClosed", ECONNRESET},
    {-5023, "kFPUserNotAuth", EACCES},
    {-5024, "kFPCallNotSupported", ENOTSUP},
    {-5025, "kFPObjectTypeErr", EISDIR},
    {-5026, "kFPTooManyFilesOpen", EMFILE},
    {-5027, "kFPServerGoingDown", ESHUTDOWN},
    {-5028, "kFPCantRename", EINVAL},
    {-5029, "kFPDirNotFound", ENOENT},
    {-5030, "kFPIconTypeError", EINVAL},
    {-5031, "kFPVolLocked", EROFS},
    {-5032, "kFPObjectLocked", EPERM},
    {-5033, "kFPContainsSharedErr", EBUSY},
    {-5034, "kFPIDNotFound", ENOENT},
    {-5035, "kFPIDExists", EEXIST},
    {-5036, "kFPDiffVolErr", EXDEV},
    {-5037, "kFPCatalogChanged", EAGAIN},
    {-5038, "kFPSameObjectErr", EINVAL},
    {-5039, "kFPBadIDErr", EINVAL},
    {-5040, "kFPPwdSameErr", EPERM},
    {-5041, "kFPPwdTooShortErr", EPERM},
    {-5042, "kFPPwdExpiredErr", EKEYEXPIRED},
    {-5043, "kFPInsideSharedErr", EBUSY},
    {-5044, "kFPInsideTrashErr", EBUSY},
    {-5045, "kFPPwdNeedsChangeErr", EKEYEXPIRED},
    {-5046, "kFPPwdPolicyErr", EPERM},
    {-5047, "kFPDiskQuotaExceeded", EDQUOT},
};

static const struct afp_row *afp_lookup(int32_t code)
{
    for (size_t i = 0; i < sizeof(afp_rows) / sizeof(afp_rows[0]); i++)
        if (afp_rows[i].code == code)
            return &afp_rows[i];
    return NULL;
}

int sfs_errno_for_afp(int32_t afp_result)
{
    const struct afp_row *r = afp_lookup(afp_result);
    return r ? r->err : EIO;
}

const char *sfs_afp_result_name(int32_t afp_result)
{
    const struct afp_row *r = afp_lookup(afp_result);
    return r ? r->name : NULL;
}

/* LDAP: RFC 4511 result codes (positive) and OpenLDAP libldap's client
 * codes (negative, ldap.h), one row each.  Numbers rather than ldap.h, so
 * the base layer needs no LDAP headers.  LDAP_CONNECT_ERROR: sharesfs
 * makes the TCP connection itself (net.c), so libldap reports it only for
 * a failed TLS handshake (StartTLS or ldaps): the server's certificate was
 * refused, or no TLS in common. */
struct ldap_row {
    int code;
    const char *name;
    int err;
};

static const struct ldap_row ldap_rows[] = {
    {0, "success", 0},
    {1, "operationsError", EIO},
    {2, "protocolError", EPROTO},
    {3, "timeLimitExceeded", ETIMEDOUT},
    {4, "sizeLimitExceeded", E2BIG},
    {5, "compareFalse", 0},
    {6, "compareTrue", 0},
    {7, "authMethodNotSupported", EPROTONOSUPPORT},
    {8, "strongerAuthRequired", EACCES},
    {10, "referral", EREMOTE},
    {11, "adminLimitExceeded", E2BIG},
    {12, "unavailableCriticalExtension", EPROTONOSUPPORT},
    {13, "confidentialityRequired", EACCES},
    {14, "saslBindInProgress", EPROTO},
    {16, "noSuchAttribute", ENOENT},
    {17, "undefinedAttributeType", EINVAL},
    {18, "inappropriateMatching", EINVAL},
    {19, "constraintViolation", EINVAL},
    {20, "attributeOrValueExists", EEXIST},
    {21, "invalidAttributeSyntax", EINVAL},
    {32, "noSuchObject", ENOENT},
    {33, "aliasProblem", EIO},
    {34, "invalidDNSyntax", EINVAL},
    {36, "aliasDereferencingProblem", EIO},
    {48, "inappropriateAuthentication", EACCES},
    {49, "invalidCredentials", EACCES},
    {50, "insufficientAccessRights", EACCES},
    {51, "busy", EAGAIN},
    {52, "unavailable", EAGAIN},
    {53, "unwillingToPerform", EPERM},
    {54, "loopDetect", EIO},
    {64, "namingViolation", EINVAL},
    {65, "objectClassViolation", EINVAL},
    {66, "notAllowedOnNonLeaf", ENOTEMPTY},
    {67, "notAllowedOnRDN", EINVAL},
    {68, "entryAlreadyExists", EEXIST},
    {69, "objectClassModsProhibited", EPERM},
    {71, "affectsMultipleDSAs", EIO},
    {80, "other", EIO},
    {118, "canceled", ECANCELED},
    {123, "authorizationDenied", EACCES},
    {-1, "LDAP_SERVER_DOWN", EIO},
    {-2, "LDAP_LOCAL_ERROR", EIO},
    {-3, "LDAP_ENCODING_ERROR", EIO},
    {-4, "LDAP_DECODING_ERROR", EPROTO},
    {-5, "LDAP_TIMEOUT", ETIMEDOUT},
    {-6, "LDAP_AUTH_UNKNOWN", EPROTONOSUPPORT},
    {-7, "LDAP_FILTER_ERROR", EINVAL},
    {-8, "LDAP_USER_CANCELLED", ECANCELED},
    {-9, "LDAP_PARAM_ERROR", EINVAL},
    {-10, "LDAP_NO_MEMORY", ENOMEM},
    {-11, "LDAP_CONNECT_ERROR", EKEYREJECTED},
    {-12, "LDAP_NOT_SUPPORTED", EPROTONOSUPPORT},
    {-13, "LDAP_CONTROL_NOT_FOUND", EPROTO},
    {-14, "LDAP_NO_RESULTS_RETURNED", EPROTO},
    {-15, "LDAP_MORE_RESULTS_TO_RETURN", EPROTO},
    {-16, "LDAP_CLIENT_LOOP", EIO},
    {-17, "LDAP_REFERRAL_LIMIT_EXCEEDED", EIO},
};

static const struct ldap_row *ldap_lookup(int code)
{
    for (size_t i = 0; i < sizeof(ldap_rows) / sizeof(ldap_rows[0]); i++)
        if (ldap_rows[i].code == code)
            return &ldap_rows[i];
    return NULL;
}

int sfs_errno_for_ldap(int code)
{
    const struct ldap_row *r = ldap_lookup(code);
    return r ? r->err : EIO;
}

const char *sfs_ldap_result_name(int code)
{
    const struct ldap_row *r = ldap_lookup(code);
    return r ? r->name : NULL;
}

const char *sfs_macos_equivalent(const struct sfs_status *st)
{
    static __thread char buf[48];
    if (st->err == 0)
        return NULL;
    /* macOS's automounter reports refused or missing credentials as EAUTH. */
    if (st->stage == SFS_STAGE_AUTHENTICATE &&
        (st->err == EACCES || st->err == ENOKEY || st->err == EKEYEXPIRED || st->err == EKEYREJECTED))
        return "EAUTH (80)";
    /* mount_afp turns kFPParamErr into "error -50" / EINVAL. */
    if (st->domain == SFS_DOMAIN_AFP && (st->code == -5019 || st->code == -50))
        return "EINVAL (22)";
    const struct errno_name *e = errno_lookup(st->err);
    if (!e || e->macos == 0 || e->macos == st->err)
        return NULL;
    snprintf(buf, sizeof(buf), "%s (%d)", e->name, e->macos);
    return buf;
}

static const struct {
    long code;
    const char *name;
} krb5_names[] = {
    {KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN, "KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN"},
    {KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN, "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN"},
    {KRB5KDC_ERR_ETYPE_NOSUPP, "KRB5KDC_ERR_ETYPE_NOSUPP"},
    {KRB5KDC_ERR_PREAUTH_FAILED, "KRB5KDC_ERR_PREAUTH_FAILED"},
    {KRB5KDC_ERR_CLIENT_REVOKED, "KRB5KDC_ERR_CLIENT_REVOKED"},
    {KRB5KDC_ERR_KEY_EXP, "KRB5KDC_ERR_KEY_EXP"},
    {KRB5KDC_ERR_TGT_REVOKED, "KRB5KDC_ERR_TGT_REVOKED"},
    {KRB5KDC_ERR_POLICY, "KRB5KDC_ERR_POLICY"},
    {KRB5KRB_AP_ERR_SKEW, "KRB5KRB_AP_ERR_SKEW"},
    {KRB5KRB_AP_ERR_TKT_EXPIRED, "KRB5KRB_AP_ERR_TKT_EXPIRED"},
    {KRB5KRB_AP_ERR_TKT_NYV, "KRB5KRB_AP_ERR_TKT_NYV"},
    {KRB5KRB_AP_ERR_BAD_INTEGRITY, "KRB5KRB_AP_ERR_BAD_INTEGRITY"},
    {KRB5KRB_AP_ERR_MODIFIED, "KRB5KRB_AP_ERR_MODIFIED"},
    {KRB5KRB_AP_ERR_NOKEY, "KRB5KRB_AP_ERR_NOKEY"},
    {KRB5_KDC_UNREACH, "KRB5_KDC_UNREACH"},
    {KRB5_REALM_UNKNOWN, "KRB5_REALM_UNKNOWN"},
    {KRB5_REALM_CANT_RESOLVE, "KRB5_REALM_CANT_RESOLVE"},
    {KRB5_FCC_NOFILE, "KRB5_FCC_NOFILE"},
    {KRB5_CC_NOTFOUND, "KRB5_CC_NOTFOUND"},
    {KRB5_CC_END, "KRB5_CC_END"},
    {KRB5_CC_FORMAT, "KRB5_CC_FORMAT"},
    {KRB5_CC_NOSUPP, "KRB5_CC_NOSUPP"},
    {KRB5_CONFIG_NODEFREALM, "KRB5_CONFIG_NODEFREALM"},
    {KRB5_NO_TKT_SUPPLIED, "KRB5_NO_TKT_SUPPLIED"},
    {KRB5_KT_NOTFOUND, "KRB5_KT_NOTFOUND"},
    {KRB5_PROG_ETYPE_NOSUPP, "KRB5_PROG_ETYPE_NOSUPP"},
    {KRB5_CC_NOT_KTYPE, "KRB5_CC_NOT_KTYPE"},
};

const char *sfs_krb5_error_name(long code)
{
    for (size_t i = 0; i < sizeof(krb5_names) / sizeof(krb5_names[0]); i++)
        if (krb5_names[i].code == code)
            return krb5_names[i].name;
    return NULL;
}

