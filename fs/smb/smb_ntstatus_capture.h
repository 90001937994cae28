/* libsmbclient returns only errno; the NTSTATUS behind it appears solely in
 * its debug log ("map_errno_from_nt_status: 32 bit codes: code=c000006d").
 * The log callback runs in the thread that made the call, so each thread
 * keeps its own capture: concurrent probes never see each other's status. */
#ifndef SHARESFS_SMB_NTSTATUS_CAPTURE_H
#define SHARESFS_SMB_NTSTATUS_CAPTURE_H

#include <libsmbclient.h>
#include <stdbool.h>
#include <stdint.h>

struct smb_capture {
    bool have_status;
    uint32_t status;           /* last non-OK NTSTATUS seen */
    bool connecting;           /* "Connecting to ... at port" seen */
    bool session_started;      /* session setup was sent (negotiate succeeded) */
    bool session_ok;           /* "session setup ok" */
    double session_ok_at;      /* sfs_now_ms() when it was seen: splits authenticate from mount */
    bool tcon_ok;              /* "tconx ok" */
    char last_error[160];      /* last log line naming an NT_STATUS, trimmed */
};

/* Installs the callback on CTX (debug level 10). */
void smb_capture_attach(SMBCCTX *ctx);
/* Resets and returns this thread's capture. */
struct smb_capture *smb_capture_begin(void);
struct smb_capture *smb_capture_current(void);
/* Sessions this thread has seen set up ("session setup ok"), never reset:
 * a change across a call on a connected share is libsmbclient logging in
 * again by itself. */
uint64_t smb_capture_sessions(void);

#endif
