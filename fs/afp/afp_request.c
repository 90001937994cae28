/* One AFP request over the DSI session, and the mapping of everything that
 * can go wrong with it to a struct sfs_status (afp_request.h). */
#include "afp_request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "afp_proto.h"

/* A server that goes away mid-request is seen by whichever thread touches
 * the socket first: the session's reader (end of stream: ECONNRESET) or a
 * thread sending a request (EPIPE once the server's reset is back,
 * ECONNRESET, ENOTCONN).  The first one ends the session with its own
 * errno, so without this the user's errno depended on timing, and EPIPE
 * even had no name in the errno table (a report's "result": null). */
static const char *transport_why(int rc, int err)
{
    switch (-rc) {
    case ESHUTDOWN: return "the server closed the session";
    case ETIMEDOUT: return "no reply before the timeout: the server stopped answering";
    case EMSGSIZE: return "the reply is longer than the request allows";
    default: return strerror(err);
    }
}

int afp_transport_failed(struct sfs_status *st, enum sfs_stage stage, const char *what, int rc)
{
    int err = dsi_errno_for_transport(rc);
    return sfs_status_set(st, stage, err, SFS_DOMAIN_SYS, rc < 0 ? -rc : err, "%s: %s", what,
                          transport_why(rc, err));
}

/* `FPOpenFork "a/b"`, cut to a length that leaves room for what follows it
 * in a detail: a long path gives way, not the reason. */
static void subject_text(char *out, size_t cap, const char *what, const char *path)
{
    if (path)
        snprintf(out, cap, "%s \"%s\"", what, path);
    else
        snprintf(out, cap, "%s", what);
}

int afp_result_failed(struct sfs_status *st, enum sfs_stage stage, const char *what, const char *path,
                      int32_t code)
{
    char subject[300];
    subject_text(subject, sizeof(subject), what, path);
    const char *name = sfs_afp_result_name(code);
    int err = sfs_errno_for_afp(code);   /* 0 for the results that are not errors */
    return sfs_status_set(st, stage, err ? err : EIO, SFS_DOMAIN_AFP, code, "%s: %s (%d)", subject,
                          name ? name : "AFP error", (int)code);
}

static const char *call_what(const struct afp_call *q)
{
    const char *name = afp_command_name(q->command);
    return q->what ? q->what : name ? name : "AFP request";
}

/* Servers resolve a pathname into a path of their own filesystem, and
 * refuse one that is too long for it with kFPParamErr (netatalk: beyond
 * its PATH_MAX, about 4 KiB with the volume's own path; afpsim the same).
 * From this length on that is the likely cause, and ENAMETOOLONG what a
 * local filesystem says; shorter paths keep EINVAL. */
#define AFP_LONG_PATH 1024

int afp_call_refused(const struct afp_call *q, struct sfs_status *st)
{
    if (q->code == kFPParamErr && q->path && strlen(q->path) >= AFP_LONG_PATH)
        return sfs_status_set(st, q->stage, ENAMETOOLONG, SFS_DOMAIN_AFP, q->code,
                              "%s: the server refused a path of %zu bytes (kFPParamErr): longer than it resolves",
                              call_what(q), strlen(q->path));
    return afp_result_failed(st, q->stage, call_what(q), q->path, q->code);
}

int afp_call_malformed(const struct afp_call *q, struct sfs_status *st)
{
    return sfs_status_set(st, q->stage, EPROTO, SFS_DOMAIN_SYS, EPROTO, "%s reply is malformed", call_what(q));
}

/* The writer's error (-ENOMEM, -EINVAL, -ENAMETOOLONG: usually the path). */
static int encode_failed(const struct afp_call *q, int rc, struct sfs_status *st)
{
    char subject[300];
    subject_text(subject, sizeof(subject), call_what(q), q->path);
    int err = rc < 0 ? -rc : EINVAL;
    return sfs_status_set(st, q->stage, err, SFS_DOMAIN_SYS, err, "%s: %s", subject, strerror(err));
}

int afp_exchange(struct dsi_session *dsi, struct afp_writer *w, struct afp_call *q, struct sfs_status *st)
{
    q->command = w->len ? w->buf[0] : 0;
    q->code = 0;
    q->len = 0;
    int rc = afp_writer_error(w);
    if (rc != 0) {
        rc = encode_failed(q, rc, st);
    } else {
        rc = dsi_command(dsi, w->buf, w->len, q->reply, q->cap, &q->len, &q->code);
        if (rc < 0)
            rc = afp_transport_failed(st, q->stage, call_what(q), rc);
    }
    afp_writer_free(w);
    return rc;
}

int afp_request(struct dsi_session *dsi, struct afp_writer *w, struct afp_call *q, struct sfs_status *st)
{
    int rc = afp_exchange(dsi, w, q, st);
    return rc == 0 && q->code != kFPNoErr ? afp_call_refused(q, st) : rc;
}
