#include "afp_login.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "afp_proto.h"
#include "afp_uam.h"

/* ---- AFP version ---- */

static const struct {
    const char *name;
    int number;
} known_versions[] = {
    { "AFP3.4", 34 }, { "AFP3.3", 33 }, { "AFP3.2", 32 }, { "AFP3.1", 31 }, { "AFPX03", 30 },
    { "AFP2.3", 23 }, { "AFP2.2", 22 }, { "AFPVersion 2.1", 21 }, { "AFPVersion 2.0", 20 },
    { "AFPVersion 1.1", 11 },
};
#define CLIENT_MIN_VERSION 30   /* sharesfs speaks AFP 3.x only */

int afp_version_number(const char *name)
{
    for (size_t i = 0; i < sizeof(known_versions) / sizeof(known_versions[0]); i++)
        if (strcmp(known_versions[i].name, name) == 0)
            return known_versions[i].number;
    return 0;
}

int afp_version_pick(const struct afp_srvrinfo *si, struct afp_version_choice *out,
                     char *detail, size_t detail_len)
{
    int best = 0, best_old = 0;
    size_t n = 0;

    out->name = NULL;
    out->number = 0;
    for (size_t i = 0; i < si->n_versions; i++) {
        int v = afp_version_number(si->versions[i]);
        if (v >= CLIENT_MIN_VERSION && v > best)
            best = v;
        else if (v > 0 && v < CLIENT_MIN_VERSION && v > best_old)
            best_old = v;
    }
    if (best) {
        for (size_t i = 0; i < sizeof(known_versions) / sizeof(known_versions[0]); i++)
            if (known_versions[i].number == best)
                out->name = known_versions[i].name;
        out->number = best;
        if (detail && detail_len)
            detail[0] = '\0';
        return 0;
    }
    if (detail && detail_len) {
        int w = best_old
            ? snprintf(detail, detail_len, "server speaks only AFP %d.%d and older, sharesfs needs AFP 3.x; server offers:",
                       best_old / 10, best_old % 10)
            : snprintf(detail, detail_len, "no AFP version in common (sharesfs needs AFP 3.x); server offers:");
        n = w > 0 ? (size_t)w : 0;
        for (size_t i = 0; i < si->n_versions && n < detail_len; i++) {
            w = snprintf(detail + n, detail_len - n, "%s \"%s\"", i ? "," : "", si->versions[i]);
            if (w < 0)
                break;
            n += (size_t)w;
        }
        if (si->n_versions == 0 && n < detail_len)
            snprintf(detail + n, detail_len - n, " nothing");
    }
    return -EPROTONOSUPPORT;
}

/* ---- requests ---- */

int afp_encode_login(struct afp_writer *w, const char *afp_version, const char *uam)
{
    afp_write_u8(w, kFPLogin);
    afp_write_pstring(w, afp_version);
    afp_write_pstring(w, uam);
    return afp_writer_error(w);
}

int afp_encode_login_ext(struct afp_writer *w, const char *afp_version, const char *uam,
                         const char *user)
{
    size_t ulen = user ? strlen(user) : 0;
    if (ulen > 255)
        return afp_writer_fail(w, -ENAMETOOLONG);
    afp_write_head(w, kFPLoginExt, 0, 0);      /* no flags */
    afp_write_pstring(w, afp_version);
    afp_write_pstring(w, uam);
    afp_write_u8(w, kFPUTF8Name);       /* user name */
    afp_write_u16(w, (uint16_t)ulen);
    afp_write_bytes(w, user, ulen);
    afp_write_u8(w, kFPUTF8Name);       /* directory name: empty */
    afp_write_u16(w, 0);
    afp_write_pad_even(w);
    return afp_writer_error(w);
}

int afp_encode_login_cont(struct afp_writer *w, uint16_t id)
{
    afp_write_head(w, kFPLoginCont, 0, id);
    return afp_writer_error(w);
}

int afp_encode_logout(struct afp_writer *w)
{
    afp_write_u8(w, kFPLogout);
    afp_write_u8(w, 0);
    return afp_writer_error(w);
}

/* ---- UAM registry and helpers ---- */

static const struct afp_uam *const all_uams[] = {
    &afp_uam_guest, &afp_uam_cleartext, &afp_uam_dhcast128, &afp_uam_dhx2,
};

const struct afp_uam *afp_uam_find(const char *name)
{
    for (size_t i = 0; i < sizeof(all_uams) / sizeof(all_uams[0]); i++)
        if (name && strcasecmp(all_uams[i]->name, name) == 0)
            return all_uams[i];
    return NULL;
}

int afp_uam_write_user(struct afp_login *l, struct afp_writer *w)
{
    if (!l->login_ext) {
        afp_write_pstring(w, l->user);
        afp_write_pad_even(w);
    }
    return afp_writer_error(w);
}

int afp_uam_fail(struct afp_login *l, enum afp_login_outcome o, int err, const char *fmt, ...)
{
    va_list ap;
    l->outcome = o;
    l->finished = true;
    va_start(ap, fmt);
    vsnprintf(l->detail, sizeof(l->detail), fmt, ap);
    va_end(ap);
    return err;
}

const char *afp_login_outcome_name(enum afp_login_outcome o)
{
    switch (o) {
    case AFP_LOGIN_PENDING: return "pending";
    case AFP_LOGIN_OK: return "logged in";
    case AFP_LOGIN_UNKNOWN_USER: return "unknown user";
    case AFP_LOGIN_BAD_PASSWORD: return "wrong password";
    case AFP_LOGIN_BAD_CREDENTIALS: return "wrong user name or password";
    case AFP_LOGIN_GUEST_REFUSED: return "guest access refused";
    case AFP_LOGIN_BAD_UAM: return "UAM not offered";
    case AFP_LOGIN_BAD_VERSION: return "AFP version refused";
    case AFP_LOGIN_PASSWORD_EXPIRED: return "password expired";
    case AFP_LOGIN_PASSWORD_MUST_CHANGE: return "password must be changed";
    case AFP_LOGIN_REFUSED: return "login refused";
    case AFP_LOGIN_SERVER_PROOF_FAILED: return "server failed to prove the session key";
    case AFP_LOGIN_MALFORMED_REPLY: return "malformed login reply";
    case AFP_LOGIN_LOCAL_ERROR: return "local error";
    }
    return "?";
}

/* ---- the state machine ---- */

int afp_login_init(struct afp_login *l, const struct afp_uam *uam, const char *afp_version,
                   const char *user, const char *password, bool login_ext)
{
    memset(l, 0, sizeof(*l));
    if (!uam || !afp_version)
        return afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, -EINVAL, "no UAM or AFP version");
    l->uam = uam;
    l->login_ext = login_ext;
    if (strlen(afp_version) >= sizeof(l->version))
        return afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, -EINVAL, "AFP version string too long");
    strcpy(l->version, afp_version);
    if (uam->needs_user) {
        if (!user || !*user)
            return afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, -EINVAL, "%s needs a user name", uam->name);
        if (strlen(user) >= sizeof(l->user))
            return afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, -EINVAL, "user name longer than 255 bytes");
        strcpy(l->user, user);
    }
    if (uam->max_password) {
        size_t n = password ? strlen(password) : 0;
        if (n > uam->max_password)
            return afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, -EINVAL,
                                "%s carries at most %zu bytes of password, got %zu",
                                uam->name, uam->max_password, n);
        if (n)
            memcpy(l->password, password, n);
        l->password_len = n;
    }
    return 0;
}

void afp_login_set_random(struct afp_login *l, afp_random_fn fn, void *arg)
{
    l->random = fn;
    l->random_arg = arg;
}

int afp_login_start(struct afp_login *l, struct afp_writer *w)
{
    int rc;
    if (!l->uam || l->finished || l->started)
        return -EINVAL;
    l->started = true;
    if (l->login_ext)
        rc = afp_encode_login_ext(w, l->version, l->uam->name, l->user);
    else
        rc = afp_encode_login(w, l->version, l->uam->name);
    if (rc == 0 && l->uam->state_size && !(l->state = calloc(1, l->uam->state_size)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = l->uam->start(l, w);
    if (rc && l->outcome == AFP_LOGIN_PENDING)
        afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, rc, "could not build the %s request",
                     l->login_ext ? "FPLoginExt" : "FPLogin");
    return rc;
}

static enum afp_login_outcome classify_refusal(const struct afp_login *l, int32_t result)
{
    const struct afp_uam *u = l->uam;
    switch (result) {
    case kFPBadUAM: return AFP_LOGIN_BAD_UAM;
    case kFPBadVersNum: return AFP_LOGIN_BAD_VERSION;
    case kFPPwdExpiredErr: return AFP_LOGIN_PASSWORD_EXPIRED;
    case kFPPwdNeedsChangeErr: return AFP_LOGIN_PASSWORD_MUST_CHANGE;
    case kFPUserNotAuth:
        if (u->max_password == 0)
            return AFP_LOGIN_GUEST_REFUSED;
        if (l->replies == u->user_step && u->user_step != u->password_step)
            return AFP_LOGIN_UNKNOWN_USER;
        if (l->replies == u->password_step)
            return u->user_step == u->password_step ? AFP_LOGIN_BAD_CREDENTIALS
                                                    : AFP_LOGIN_BAD_PASSWORD;
        return AFP_LOGIN_REFUSED;
    default:
        return AFP_LOGIN_REFUSED;
    }
}

int afp_login_continue(struct afp_login *l, int32_t result, const uint8_t *reply, size_t len,
                       struct afp_writer *w)
{
    const struct afp_uam *u = l->uam;
    int rc;

    if (!u || l->finished || !l->started)
        return -EINVAL;
    l->result = result;
    if (result == kFPNoErr) {
        if (l->replies + 1 != u->replies)
            return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, -EPROTO,
                                "server accepted the %s login after %u of %u steps",
                                u->name, l->replies + 1, u->replies);
        l->replies++;
        l->outcome = AFP_LOGIN_OK;
        l->finished = true;
        return AFP_LOGIN_DONE;
    }
    if (result == kFPAuthContinue) {
        if (l->replies + 1 >= u->replies || !u->step)
            return afp_uam_fail(l, AFP_LOGIN_MALFORMED_REPLY, -EPROTO,
                                "server asked for step %u of a %u-step %s login",
                                l->replies + 2, u->replies, u->name);
        rc = u->step(l, reply, len, w);
        if (rc) {
            if (l->outcome == AFP_LOGIN_PENDING)
                afp_uam_fail(l, AFP_LOGIN_LOCAL_ERROR, rc, "%s step %u failed", u->name, l->replies + 1);
            l->finished = true;
            return rc;
        }
        l->replies++;
        return AFP_LOGIN_MORE;
    }
    l->outcome = classify_refusal(l, result);
    l->finished = true;
    const char *name = afp_result_name(result);
    snprintf(l->detail, sizeof(l->detail), "%s refused at step %u of %u: %s (%d)", u->name,
             l->replies + 1, u->replies, name ? name : "unknown result", (int)result);
    l->replies++;
    return AFP_LOGIN_SERVER_REFUSED;
}

void afp_login_cleanup(struct afp_login *l)
{
    if (l->state) {
        explicit_bzero(l->state, l->uam->state_size);
        free(l->state);
        l->state = NULL;
    }
    explicit_bzero(l->password, sizeof(l->password));
    l->password_len = 0;
}
