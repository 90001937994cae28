/* Logging in: AFP version choice, FPLogin / FPLoginExt / FPLoginCont /
 * FPLogout, and the driver that runs a UAM (uam_*.c) as a state machine.
 *
 *   struct afp_login l;
 *   afp_login_init(&l, afp_uam_find("DHX2"), "AFP3.4", user, pw, false);
 *   afp_login_start(&l, &w);                  -> w holds FPLogin
 *   loop: send w, get (result, reply);
 *         rc = afp_login_continue(&l, result, reply, len, &w);
 *         AFP_LOGIN_MORE: w holds the next FPLoginCont, loop
 *         AFP_LOGIN_DONE: logged in
 *         AFP_LOGIN_REFUSED: server said no: l.outcome, l.result
 *         < 0: malformed reply or local failure (-EPROTO...): l.outcome, l.detail
 *   afp_login_cleanup(&l);                    wipes the password and keys
 *
 * Nothing here does I/O; nothing here picks the errno a user sees for a
 * refusal (that is sfs_errno_for_afp(l.result) in fs/core). */
#ifndef SHARESFS_AFP_LOGIN_H
#define SHARESFS_AFP_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"
#include "afp_srvrinfo.h"

/* ---- AFP version ---- */

struct afp_version_choice {
    const char *name;       /* as it goes on the wire: "AFP3.4" */
    int number;             /* 34 */
};

/* "AFP3.4" -> 34, "AFPX03" -> 30, "AFP2.2" -> 22, "AFPVersion 2.1" -> 21,
 * "AFPVersion 1.1" -> 11; 0 when unknown. */
int afp_version_number(const char *name);
/* The highest version both sides speak.  sharesfs speaks AFP 3.x only
 * (AFPX03, AFP3.1 .. AFP3.4).  -EPROTONOSUPPORT with a sentence in detail
 * ("server speaks only AFP 2.2 and older: ...") when there is none. */
int afp_version_pick(const struct afp_srvrinfo *si, struct afp_version_choice *out,
                     char *detail, size_t detail_len);

/* ---- requests ---- */

/* FPLogin header: cmd, version, UAM name; the UAM's auth info follows. */
int afp_encode_login(struct afp_writer *w, const char *afp_version, const char *uam);
/* FPLoginExt header: cmd, pad, u16 flags (0), version, UAM name, user name
 * as a type-3 AFPName without hint (u8 3, u16 length, UTF-8), an empty
 * type-3 directory name, pad to even (seen in p06/p07); auth info follows. */
int afp_encode_login_ext(struct afp_writer *w, const char *afp_version, const char *uam,
                         const char *user);
/* FPLoginCont header: cmd, pad, u16 ID from the previous reply. */
int afp_encode_login_cont(struct afp_writer *w, uint16_t id);
int afp_encode_logout(struct afp_writer *w);

/* ---- the login state machine ---- */

enum afp_login_outcome {
    AFP_LOGIN_PENDING = 0,
    AFP_LOGIN_OK,
    AFP_LOGIN_UNKNOWN_USER,         /* refused before any password proof (DHX2, DHCAST128 first step) */
    AFP_LOGIN_BAD_PASSWORD,         /* refused at the step that checks the password */
    AFP_LOGIN_BAD_CREDENTIALS,      /* user or password, the UAM cannot tell which (cleartext) */
    AFP_LOGIN_GUEST_REFUSED,        /* "No User Authent" refused */
    AFP_LOGIN_BAD_UAM,              /* kFPBadUAM: UAM not offered */
    AFP_LOGIN_BAD_VERSION,          /* kFPBadVersNum */
    AFP_LOGIN_PASSWORD_EXPIRED,     /* kFPPwdExpiredErr */
    AFP_LOGIN_PASSWORD_MUST_CHANGE, /* kFPPwdNeedsChangeErr */
    AFP_LOGIN_REFUSED,              /* any other AFP result */
    AFP_LOGIN_SERVER_PROOF_FAILED,  /* the server could not prove it has the session key */
    AFP_LOGIN_MALFORMED_REPLY,      /* a reply we cannot use (length, DH values, sequence) */
    AFP_LOGIN_LOCAL_ERROR,          /* crypto library or memory failure */
};
const char *afp_login_outcome_name(enum afp_login_outcome o);

/* Return values of afp_login_continue() (negative values are -errno). */
enum {
    AFP_LOGIN_DONE = 0,
    AFP_LOGIN_MORE = 1,
    AFP_LOGIN_SERVER_REFUSED = 2,
};

/* What the random number callback is asked for; tests use it to replay a
 * recorded login (keylog vectors) byte for byte. */
enum afp_random_purpose {
    AFP_RANDOM_DH_PRIVATE,          /* Ra */
    AFP_RANDOM_NONCE,               /* DHX2 client nonce */
};
typedef void (*afp_random_fn)(void *arg, enum afp_random_purpose purpose, uint8_t *buf, size_t len);

struct afp_uam;

struct afp_login {
    const struct afp_uam *uam;
    bool login_ext;                 /* FPLoginExt instead of FPLogin */
    char version[256];
    char user[256];
    char password[257];
    size_t password_len;
    bool started;                   /* afp_login_start() ran */
    unsigned replies;               /* replies handled so far */
    uint16_t id;                    /* ID for the next FPLoginCont */
    bool finished;
    enum afp_login_outcome outcome;
    int32_t result;                 /* last AFP result from the server */
    char detail[256];
    afp_random_fn random;
    void *random_arg;
    void *state;                    /* UAM private (keys, nonces); wiped by cleanup */
};

/* -EINVAL (detail set) for a user or password the UAM cannot carry, e.g. a
 * cleartext password longer than 8 bytes. */
int afp_login_init(struct afp_login *l, const struct afp_uam *uam, const char *afp_version,
                   const char *user, const char *password, bool login_ext);
/* Test hook: replaces libgcrypt's random numbers. */
void afp_login_set_random(struct afp_login *l, afp_random_fn fn, void *arg);
/* Writes the FPLogin (or FPLoginExt) request into w (appended). */
int afp_login_start(struct afp_login *l, struct afp_writer *w);
int afp_login_continue(struct afp_login *l, int32_t result, const uint8_t *reply, size_t len,
                       struct afp_writer *w);
void afp_login_cleanup(struct afp_login *l);

#endif
