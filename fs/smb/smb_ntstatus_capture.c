#include "smb_ntstatus_capture.h"

#include "smb_lib.h"

#include "sharesfs/clock.h"

#include "sharesfs/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread struct smb_capture capture;
static __thread uint64_t sessions_seen;

uint64_t smb_capture_sessions(void)
{
    return sessions_seen;
}

struct smb_capture *smb_capture_begin(void)
{
    memset(&capture, 0, sizeof(capture));
    return &capture;
}

struct smb_capture *smb_capture_current(void)
{
    return &capture;
}

static void note_status_name(const char *msg)
{
    const char *p = strstr(msg, "NT_STATUS_");
    if (!p || strncmp(p, "NT_STATUS_OK", 12) == 0 || strncmp(p, "NT_STATUS_MORE_PROCESSING", 25) == 0)
        return;
    size_t n = strcspn(msg, "\n");
    if (n >= sizeof(capture.last_error))
        n = sizeof(capture.last_error) - 1;
    memcpy(capture.last_error, msg, n);
    capture.last_error[n] = '\0';
}

static void on_log(void *priv, int level, const char *msg)
{
    (void)priv;
    (void)level;
    const char *p;
    if ((p = strstr(msg, "32 bit codes: code=")) != NULL) {
        unsigned long code = strtoul(p + 19, NULL, 16);
        if (code != 0) {
            capture.status = (uint32_t)code;
            capture.have_status = true;
        }
        return;
    }
    if (strstr(msg, "Connecting to ") && strstr(msg, " at port "))
        capture.connecting = true;
    else if (strstr(msg, "cli_session_setup_spnego_send") || strstr(msg, "cli_session_setup_creds"))
        capture.session_started = true;
    else if (strstr(msg, "session setup ok")) {
        sessions_seen++;
        capture.session_ok = true;
        capture.session_ok_at = sfs_now_ms();
    }
    else if (strstr(msg, "tconx ok"))
        capture.tcon_ok = true;
    else
        note_status_name(msg);
}

void smb_capture_attach(SMBCCTX *ctx)
{
    /* Callback first: otherwise raising the level dumps the debug class
     * table to stdout before our callback takes the output. */
    smb_lib.smbc_setLogCallback(ctx, NULL, on_log);
    smb_lib.smbc_setDebug(ctx, 10);
}
