/* Logging in, server side: FPLogin, FPLoginExt, FPLoginCont and the UAMs
 * "No User Authent", "Cleartxt Passwrd", "DHCAST128", "DHX2" and
 * "Client Krb v2" (GSSAPI, krb.c; without --keytab a refusing stand-in).
 *
 * Behaviour imitated from netatalk 4.0.3dev captures (p02-p18):
 *  - an AFP version the server does not offer: kFPBadVersNum (-5003);
 *  - a UAM it does not offer (or does not know): kFPBadUAM (-5002);
 *  - DHX2 and DHCAST128 refuse an unknown user at the first step (-5023),
 *    a wrong password only at the last step (-5023);
 *  - every refusal ends the session (session.c sends the attention).
 * Message layouts (same captures):
 *  DHCAST128  FPLogin: user, pad, Ma(16) -> -5001: id, Mb(16), E(nonce, 16 zero bytes)
 *             FPLoginCont: id, E(nonce+1, password(64)) -> 0
 *  DHX2       FPLogin: user, pad -> -5001: id, g(u32), len(u16), p, Mb
 *             FPLoginCont: id, Ma, E(client nonce) -> -5001: id+1, E(client nonce+1, server nonce)
 *             FPLoginCont: id+1, E(server nonce+1, password(256)) -> 0
 *  Krb v2     FPLoginExt (or FPLogin) -> -5001: id (1)
 *             FPLoginCont: 0, id, user NUL, pad, len(u16), AP-REQ -> 0: len(u16), AP-REP
 *             (token rejected: -5014; principal's user not in the users file: -5023)
 *  E() is CAST5-CBC with IV "LWallace" (client to server) or "CJalbert"
 *  (server to client); the DHCAST128 key is the 16-byte shared secret, the
 *  DHX2 key the MD5 of the shared secret as len(p) bytes. */
#include "afpsim.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>

#include "afp/afp_uam.h"

enum uam_kind { UAM_GUEST, UAM_CLRTXT, UAM_DHCAST128, UAM_DHX2, UAM_KRB, UAM_OTHER };

struct login {
    enum uam_kind kind;
    unsigned step;
    uint16_t id;
    char user[256];
    uint8_t p[128];
    size_t plen;
    uint8_t priv[64];
    size_t privlen;
    uint8_t key[16];
    uint8_t snonce[16];
};

/* DHCAST128's fixed group (also the p and g in the p09 keylog). */
static const uint8_t dhcast_p[16] = {
    0xba, 0x28, 0x73, 0xdf, 0xb0, 0x60, 0x57, 0xd4,
    0x3f, 0x20, 0x24, 0x74, 0x4c, 0xee, 0xe7, 0x5b,
};
static const uint8_t dhcast_g[1] = { 7 };

/* DHX2 with uams.dhx2_prime = fixed: the 1024-bit MODP group of RFC 2409
 * ("Oakley group 2"), sent with g = 5 like netatalk's fresh primes. */
static const char oakley2_hex[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";
static const uint8_t dhx2_g[4] = { 0, 0, 0, 5 };

static enum uam_kind uam_kind_of(const char *name)
{
    if (!strcasecmp(name, "No User Authent"))
        return UAM_GUEST;
    if (!strcasecmp(name, "Cleartxt Passwrd"))
        return UAM_CLRTXT;
    if (!strcasecmp(name, "DHCAST128"))
        return UAM_DHCAST128;
    if (!strcasecmp(name, "DHX2"))
        return UAM_DHX2;
    if (!strcasecmp(name, "Client Krb v2"))
        return UAM_KRB;
    return UAM_OTHER;
}

void login_free(struct session *s)
{
    if (s->login) {
        explicit_bzero(s->login, sizeof(*s->login));
        g_free(s->login);
        s->login = NULL;
    }
}

static int32_t refuse(struct session *s, int32_t rc, const char *fmt, const char *arg)
{
    char why[768];
    snprintf(why, sizeof(why), fmt, arg ? arg : "");
    log_msg(LOG_INFO, "%s: login refused (%d): %s", s->peer, rc, why);
    login_free(s);
    s->login_failed = true;
    return rc;
}

static const char *uam_label(const struct login *l)
{
    static const char *const names[] = {
        [UAM_GUEST] = "No User Authent", [UAM_CLRTXT] = "Cleartxt Passwrd",
        [UAM_DHCAST128] = "DHCAST128", [UAM_DHX2] = "DHX2", [UAM_KRB] = "Client Krb v2",
        [UAM_OTHER] = "?",
    };
    return l ? names[l->kind] : "?";
}

/* The account new files and directories are given to, as netatalk's afpd
 * runs the session as the user (a guest as "guest account", nobody by
 * default).  A user without a system account keeps afpsim's identity. */
static void session_ids(struct session *s)
{
    const struct passwd *pw = getpwnam(s->guest ? "nobody" : s->user);
    s->has_ids = pw != NULL;
    if (pw) {
        s->uid = pw->pw_uid;
        s->gid = pw->pw_gid;
    }
}

/* A known user's wrong password: netatalk asks PAM, and pam_unix fails
 * after a delay (1.4-2.2 s measured on netatalk 3.1.12 and 4.2.3); an
 * unknown user is refused at once.  uams.auth_fail_delay_ms. */
static void wrong_password_delay(const struct session *s)
{
    unsigned ms = s->p->auth_fail_delay_ms;
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (ms && nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

static void succeed(struct session *s, const char *user, bool guest)
{
    s->logged_in = true;
    s->guest = guest;
    g_strlcpy(s->user, guest ? "" : user, sizeof(s->user));
    session_ids(s);
    log_msg(LOG_INFO, "%s: logged in as %s with %s (AFP %d.%d)", s->peer, guest ? "guest" : user,
            uam_label(s->login), s->afp_version / 10, s->afp_version % 10);
    login_free(s);
}

/* The stored password equals the NUL-padded field (no longer than it). */
static bool password_ok(struct session *s, const char *user, const uint8_t *field, size_t flen)
{
    const char *pw = g_hash_table_lookup(s->srv->users, user);
    if (!pw)
        return false;
    size_t n = strlen(pw);
    if (n > flen)
        return false;
    unsigned diff = 0;
    for (size_t i = 0; i < flen; i++)
        diff |= (unsigned)(field[i] ^ (i < n ? (uint8_t)pw[i] : 0));
    return diff == 0;
}

static bool user_known(struct session *s, const char *user)
{
    return *user && g_hash_table_contains(s->srv->users, user);
}

static int read_user_pstring(struct afp_reader *r, char *user, size_t sz)
{
    if (afp_read_pstring(r, user, sz))
        return -1;
    return afp_read_align2(r);
}

/* AFPName in FPLoginExt: u8 type; 3: u16 length + UTF-8; 1, 2: Pascal. */
static int read_ext_name(struct afp_reader *r, char *out, size_t sz)
{
    uint8_t type;
    if (afp_read_u8(r, &type))
        return -1;
    if (type == kFPUTF8Name) {
        uint16_t len;
        const uint8_t *p;
        if (afp_read_u16(r, &len) || afp_read_view(r, len, &p) || len >= sz || memchr(p, 0, len))
            return -1;
        memcpy(out, p, len);
        out[len] = '\0';
        return 0;
    }
    if (type == kFPShortName || type == kFPLongName)
        return afp_read_pstring(r, out, sz);
    return -1;
}

static void random_bytes(uint8_t *p, size_t n)
{
    gcry_randomize(p, n, GCRY_STRONG_RANDOM);
}

static int dhx2_prime(const struct persona *p, uint8_t out[128])
{
    gcry_mpi_t prime = NULL;
    if (p->dhx2_prime == DHX2_PRIME_FIXED) {
        for (size_t i = 0; i < 128; i++)
            out[i] = (uint8_t)(g_ascii_xdigit_value(oakley2_hex[2 * i]) << 4 |
                               g_ascii_xdigit_value(oakley2_hex[2 * i + 1]));
        return 0;
    }
    /* A fresh 1024-bit prime for every login, as netatalk does. */
    if (gcry_prime_generate(&prime, 1024, 0, NULL, NULL, NULL, GCRY_WEAK_RANDOM, 0))
        return -1;
    size_t n = 0;
    int rc = -1;
    if (!gcry_mpi_print(GCRYMPI_FMT_USG, out, 128, &n, prime) && n == 128)
        rc = 0;
    gcry_mpi_release(prime);
    return rc;
}

static int32_t start_dhcast128(struct session *s, struct login *l, struct afp_reader *r,
                               struct afp_writer *w)
{
    uint8_t ma[16], mb[16], shared[16], block[32];
    if (afp_read_bytes(r, ma, 16))
        return refuse(s, kFPParamErr, "DHCAST128: short FPLogin", NULL);
    if (!user_known(s, l->user))
        return refuse(s, kFPUserNotAuth, "DHCAST128: unknown user %s", l->user);
    if (afp_dh_check_range(dhcast_p, 16, ma, 16))
        return refuse(s, kFPParamErr, "DHCAST128: client value out of range", NULL);
    l->privlen = 16;
    random_bytes(l->priv, l->privlen);
    if (afp_dh_public(dhcast_p, 16, dhcast_g, 1, l->priv, l->privlen, mb) ||
        afp_dh_shared(dhcast_p, 16, ma, 16, l->priv, l->privlen, shared))
        return refuse(s, kFPMiscErr, "DHCAST128: crypto failure", NULL);
    memcpy(l->key, shared, 16);
    random_bytes(l->snonce, 16);
    memcpy(block, l->snonce, 16);
    memset(block + 16, 0, 16);
    if (afp_cast5_cbc(true, l->key, AFP_IV_SERVER, block, 32))
        return refuse(s, kFPMiscErr, "DHCAST128: crypto failure", NULL);
    if (session_hostile(s, H_BAD_DH)) {
        memset(mb, 0, 16);
        mb[15] = 1;
    }
    afp_write_u16(w, l->id);
    afp_write_bytes(w, mb, 16);
    afp_write_bytes(w, block, 32);
    l->step = 1;
    explicit_bzero(shared, sizeof(shared));
    return kFPAuthContinue;
}

static int32_t start_dhx2(struct session *s, struct login *l, struct afp_writer *w)
{
    uint8_t mb[128];
    if (!user_known(s, l->user))
        return refuse(s, kFPUserNotAuth, "DHX2: unknown user %s", l->user);
    if (dhx2_prime(s->p, l->p))
        return refuse(s, kFPMiscErr, "DHX2: no prime", NULL);
    l->plen = 128;
    l->privlen = 64;
    random_bytes(l->priv, l->privlen);
    if (afp_dh_public(l->p, l->plen, dhx2_g, 4, l->priv, l->privlen, mb))
        return refuse(s, kFPMiscErr, "DHX2: crypto failure", NULL);
    if (session_hostile(s, H_BAD_DH)) {
        memset(mb, 0, sizeof(mb));
        mb[127] = 1;
    }
    afp_write_u16(w, l->id);
    afp_write_bytes(w, dhx2_g, 4);
    afp_write_u16(w, (uint16_t)l->plen);
    afp_write_bytes(w, l->p, l->plen);
    afp_write_bytes(w, mb, l->plen);
    l->step = 1;
    return kFPAuthContinue;
}

/* After the header of FPLogin (ext = false: auth info starts with the user
 * name) or FPLoginExt (ext_user set, auth info after the padding). */
static int32_t login_start(struct session *s, const char *version, const char *uam,
                           const char *ext_user, struct afp_reader *r, struct afp_writer *w)
{
    if (s->logged_in)
        return kFPMiscErr;
    login_free(s);
    int vnum = afp_version_num(version);
    if (!vnum || !persona_offers_version(s->p, version))
        return refuse(s, kFPBadVersNum, "AFP version \"%s\" not offered", version);
    s->afp_version = vnum;
    if (!persona_offers_uam(s->p, uam))
        return refuse(s, kFPBadUAM, "UAM \"%s\" not offered", uam);

    struct login *l = g_new0(struct login, 1);
    s->login = l;
    l->kind = uam_kind_of(uam);
    gcry_create_nonce(&l->id, sizeof(l->id));

    if (l->kind != UAM_GUEST && l->kind != UAM_KRB && l->kind != UAM_OTHER) {
        if (ext_user) {
            g_strlcpy(l->user, ext_user, sizeof(l->user));
        } else if (read_user_pstring(r, l->user, sizeof(l->user))) {
            return refuse(s, kFPParamErr, "malformed user name", NULL);
        }
    }

    switch (l->kind) {
    case UAM_GUEST:
        succeed(s, NULL, true);
        return kFPNoErr;
    case UAM_CLRTXT: {
        uint8_t pw[8];
        if (afp_read_bytes(r, pw, 8))
            return refuse(s, kFPParamErr, "Cleartxt Passwrd: no password", NULL);
        /* Cleartext carries 8 bytes: a longer stored password cannot match
         * (as with netatalk on a system with modern password hashes). */
        bool ok = password_ok(s, l->user, pw, 8);
        explicit_bzero(pw, sizeof(pw));
        if (!ok) {
            if (g_hash_table_contains(s->srv->users, l->user))
                wrong_password_delay(s);
            return refuse(s, kFPUserNotAuth, "Cleartxt Passwrd: bad user or password for %s", l->user);
        }
        succeed(s, l->user, false);
        return kFPNoErr;
    }
    case UAM_DHCAST128:
        return start_dhcast128(s, l, r, w);
    case UAM_DHX2:
        return start_dhx2(s, l, w);
    case UAM_KRB:
        if (!s->srv->keytab && s->p->krb_refusal == KRB_REFUSE_BAD_UAM)
            return refuse(s, kFPBadUAM, "Client Krb v2: no --keytab (uams.krb_refusal = bad-uam)", NULL);
        /* The user name of FPLoginExt (FPLogin: a Pascal string, if any) is
         * only logged; the user is the one of the client's principal. */
        if (ext_user)
            g_strlcpy(l->user, ext_user, sizeof(l->user));
        else if (read_user_pstring(r, l->user, sizeof(l->user)))
            l->user[0] = '\0';
        /* As netatalk (p06): a 2-byte ID, then the client sends its token. */
        l->id = 1;
        l->step = 1;
        afp_write_u16(w, l->id);
        return kFPAuthContinue;
    case UAM_OTHER:
    default:
        return refuse(s, kFPMiscErr, "UAM \"%s\" is advertised but not implemented in afpsim", uam);
    }
}

int32_t cmd_login(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    char version[256], uam[256];
    uint8_t cmd;
    if (afp_read_u8(r, &cmd) || afp_read_pstring(r, version, sizeof(version)) ||
        afp_read_pstring(r, uam, sizeof(uam)))
        return refuse(s, kFPParamErr, "malformed FPLogin", NULL);
    return login_start(s, version, uam, NULL, r, w);
}

int32_t cmd_login_ext(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    char version[256], uam[256], user[256], dir[256];
    uint8_t cmd, pad;
    uint16_t flags;
    if (afp_read_u8(r, &cmd) || afp_read_u8(r, &pad) || afp_read_u16(r, &flags) ||
        afp_read_pstring(r, version, sizeof(version)) || afp_read_pstring(r, uam, sizeof(uam)) ||
        read_ext_name(r, user, sizeof(user)) || read_ext_name(r, dir, sizeof(dir)) ||
        afp_read_align2(r))
        return refuse(s, kFPParamErr, "malformed FPLoginExt", NULL);
    return login_start(s, version, uam, user, r, w);
}

/* Client Krb v2, FPLoginCont: accept the AP-REQ, answer the AP-REP. */
static int32_t krb_cont(struct session *s, struct login *l, struct afp_reader *r,
                        struct afp_writer *w)
{
    if (!s->srv->keytab)
        /* What netatalk answers for a token it cannot accept (p18). */
        return refuse(s, kFPMiscErr, "Client Krb v2: no --keytab, Kerberos is not configured", NULL);
    struct krb_cont c;
    if (krb_parse_logincont(r->buf, r->len, &c))
        return refuse(s, kFPParamErr, "Client Krb v2: malformed FPLoginCont", NULL);
    if (c.id != l->id)
        return refuse(s, kFPParamErr, "Client Krb v2: FPLoginCont with a wrong ID", NULL);
    char client[512], user[256];
    GByteArray *rep = g_byte_array_new();
    int rc = krb_accept(s->srv->keytab, s->p->krb_principal, s->peer, c.token, c.token_len, client,
                        sizeof(client), rep);
    int32_t res;
    if (rc) {
        /* p18: a token the acceptor rejects is kFPMiscErr. */
        res = refuse(s, kFPMiscErr, "Client Krb v2: token not accepted (GSS status above)", NULL);
    } else if (krb_principal_user(client, user, sizeof(user)) || !user_known(s, user)) {
        res = refuse(s, kFPUserNotAuth, "Client Krb v2: the user of %s is not in the users file",
                     client);
    } else if (rep->len > 0xffff) {
        res = refuse(s, kFPMiscErr, "Client Krb v2: reply token too long", NULL);
    } else {
        if (*c.user && strcmp(c.user, user))
            log_msg(LOG_INFO, "%s: Client Krb v2: the client named itself \"%s\", the ticket is %s's",
                    s->peer, c.user, client);
        if (rep->len && session_hostile(s, H_BAD_APREP)) {
            rep->data[rep->len - 1] ^= 0x01;
            log_msg(LOG_INFO, "%s: hostile: AP-REP damaged", s->peer);
        }
        afp_write_u16(w, (uint16_t)rep->len);
        afp_write_bytes(w, rep->data, rep->len);
        log_msg(LOG_INFO, "%s: Client Krb v2: principal %s is user %s", s->peer, client, user);
        succeed(s, user, false);
        res = kFPNoErr;
    }
    g_byte_array_free(rep, TRUE);
    return res;
}

int32_t cmd_login_cont(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    struct login *l = s->login;
    uint8_t cmd, pad;
    uint16_t id;
    /* Client Krb v2 puts its ID one byte later than the other UAMs. */
    if (l && l->kind == UAM_KRB && l->step == 1)
        return krb_cont(s, l, r, w);
    if (afp_read_u8(r, &cmd) || afp_read_u8(r, &pad) || afp_read_u16(r, &id))
        return refuse(s, kFPParamErr, "malformed FPLoginCont", NULL);
    if (!l || !l->step)
        return refuse(s, kFPParamErr, "FPLoginCont without a login in progress", NULL);
    if (id != l->id)
        return refuse(s, kFPParamErr, "FPLoginCont with a wrong ID", NULL);

    if (l->kind == UAM_DHCAST128 && l->step == 1) {
        uint8_t block[80], expect[16];
        if (afp_read_bytes(r, block, 80))
            return refuse(s, kFPParamErr, "DHCAST128: short FPLoginCont", NULL);
        afp_cast5_cbc(false, l->key, AFP_IV_CLIENT, block, 80);
        memcpy(expect, l->snonce, 16);
        afp_nonce_increment(expect);
        bool nonce_ok = memcmp(block, expect, 16) == 0;
        bool ok = nonce_ok && password_ok(s, l->user, block + 16, 64);
        explicit_bzero(block, sizeof(block));
        if (!ok) {
            if (nonce_ok)
                wrong_password_delay(s);
            return refuse(s, kFPUserNotAuth, "DHCAST128: bad password for %s", l->user);
        }
        char user[256];
        g_strlcpy(user, l->user, sizeof(user));
        succeed(s, user, false);
        return kFPNoErr;
    }
    if (l->kind == UAM_DHX2 && l->step == 1) {
        uint8_t ma[128], shared[128], cnonce[16], block[32];
        if (afp_read_bytes(r, ma, l->plen) || afp_read_bytes(r, cnonce, 16))
            return refuse(s, kFPParamErr, "DHX2: short FPLoginCont", NULL);
        if (afp_dh_shared(l->p, l->plen, ma, l->plen, l->priv, l->privlen, shared))
            return refuse(s, kFPParamErr, "DHX2: client value out of range", NULL);
        afp_md5(shared, l->plen, l->key);
        explicit_bzero(shared, sizeof(shared));
        afp_cast5_cbc(false, l->key, AFP_IV_CLIENT, cnonce, 16);
        afp_nonce_increment(cnonce);
        random_bytes(l->snonce, 16);
        memcpy(block, cnonce, 16);
        memcpy(block + 16, l->snonce, 16);
        afp_cast5_cbc(true, l->key, AFP_IV_SERVER, block, 32);
        l->id = (uint16_t)(l->id + 1);
        afp_write_u16(w, l->id);
        afp_write_bytes(w, block, 32);
        l->step = 2;
        return kFPAuthContinue;
    }
    if (l->kind == UAM_DHX2 && l->step == 2) {
        uint8_t block[272], expect[16];
        if (afp_read_bytes(r, block, sizeof(block)))
            return refuse(s, kFPParamErr, "DHX2: short FPLoginCont", NULL);
        afp_cast5_cbc(false, l->key, AFP_IV_CLIENT, block, sizeof(block));
        memcpy(expect, l->snonce, 16);
        afp_nonce_increment(expect);
        bool nonce_ok = memcmp(block, expect, 16) == 0;
        bool ok = nonce_ok && password_ok(s, l->user, block + 16, 256);
        explicit_bzero(block, sizeof(block));
        if (!ok) {
            if (nonce_ok)
                wrong_password_delay(s);
            return refuse(s, kFPUserNotAuth,
                          nonce_ok ? "DHX2: bad password for %s" : "DHX2: bad nonce from %s", l->user);
        }
        char user[256];
        g_strlcpy(user, l->user, sizeof(user));
        succeed(s, user, false);
        return kFPNoErr;
    }
    (void)w;
    return refuse(s, kFPParamErr, "unexpected FPLoginCont", NULL);
}

/* ------------------------------------------------------- FPGetUserInfo */

/* FPGetUserInfo (37): u8 command, u8 flags (bit 0 ThisUser), u32 user ID,
 * u16 bitmap (bit 0 user ID, bit 1 primary group ID, bit 2 UUID).  Reply:
 * the bitmap, then the IDs in bit order (u32, u32, 16-byte UUID).
 *
 * Behaviour of netatalk's afp_getuserinfo (auth.c, 2.2 to 4.x; read in its
 * source: no capture has this command):
 *  - ThisUser clear -> kFPParamErr (the user ID field is never looked at);
 *  - a bit outside the three -> kFPBitmapErr;
 *  - the IDs are those afpd runs with after login (effective uid/gid): the
 *    user's account, the guest account's ("nobody") for a guest;
 *  - the UUID, when the server advertises UUIDs (FPGetSrvrInfo flag 0x0400,
 *    set from the same option), is netatalk's local one: ffffeeee ddddcccc
 *    bbbbaaaa followed by the uid (libatalk/acl/uuid.c); without the flag
 *    the UUID bit is cleared in the reply bitmap and no UUID is sent.
 * The Apple personalities answer the same way [I]: Mac OS X derives the UUID
 * of an account without a GeneratedUID by that same pattern, a real account
 * has a random one.
 * afpsim reports the account login.c found for the session (session_ids:
 * the user's system account, "nobody" for a guest), and where there is none
 * afpsim's own identity for a user (its files are the user's: README,
 * "Access model") and 65534 for a guest (only the "other" bits apply to
 * guests).  gvfs uses these IDs to pick the owner, group or other bits of
 * the Unix privileges. */
#define USERINFO_UID 0x0001
#define USERINFO_GID 0x0002
#define USERINFO_UUID 0x0004
#define SRVRINFO_UUIDS 0x0400

/* netatalk's local UUIDs (libatalk/acl/uuid.c): 12 fixed bytes, then the
 * uid or gid, big-endian. */
static const uint8_t local_user_uuid[12] = {
    0xff, 0xff, 0xee, 0xee, 0xdd, 0xdd, 0xcc, 0xcc, 0xbb, 0xbb, 0xaa, 0xaa,
};
static const uint8_t local_group_uuid[12] = {
    0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef,
};

int32_t cmd_getuserinfo(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint8_t flags;
    uint32_t user_id;
    uint16_t bitmap;
    if (afp_read_skip(r, 1) || afp_read_u8(r, &flags) || afp_read_u32(r, &user_id) ||
        afp_read_u16(r, &bitmap))
        return kFPParamErr;
    (void)user_id;
    if (!(flags & 0x01))
        return kFPParamErr;
    if (bitmap & ~(USERINFO_UID | USERINFO_GID | USERINFO_UUID))
        return kFPBitmapErr;

    uint32_t uid, gid;
    if (s->has_ids) {
        uid = (uint32_t)s->uid;
        gid = (uint32_t)s->gid;
    } else if (s->guest) {
        uid = gid = 65534u;
    } else {
        uid = (uint32_t)geteuid();
        gid = (uint32_t)getegid();
    }
    uint16_t reply_bitmap = bitmap;
    if (!(s->p->flags & SRVRINFO_UUIDS))
        reply_bitmap &= (uint16_t)~USERINFO_UUID;
    afp_write_u16(w, reply_bitmap);
    if (reply_bitmap & USERINFO_UID)
        afp_write_u32(w, uid);
    if (reply_bitmap & USERINFO_GID)
        afp_write_u32(w, gid);
    if (reply_bitmap & USERINFO_UUID) {
        afp_write_bytes(w, local_user_uuid, sizeof(local_user_uuid));
        afp_write_u32(w, uid);
    }
    return kFPNoErr;
}

/* ------------------------------------------------------------- FPMapID */

/* FPMapID (21): u8 command, u8 subfunction, then the ID.  Subfunctions:
 * 1 user ID -> name, 2 group ID -> name (Pascal string reply), 3 and 4 the
 * same with a UTF-8 name (u16 length, no hint), 5 user UUID and 6 group
 * UUID -> u32 type (1 user, 2 group), u32 ID, UTF-8 name.
 *
 * Behaviour of netatalk's afp_mapid (directory.c; read in its source, no
 * capture has the command), which afpsim follows for every personality
 * (Apple's server: [I]):
 *  - the ID is the first 4 bytes after the subfunction, for 3 and 4 too:
 *    gvfs sends those with a 64-bit ID, so netatalk reads its high half,
 *    0 for any real uid, and answers with an empty name;
 *  - ID 0 -> an empty name (root is never named);
 *  - names come from the server's own account database (afpsim reports
 *    the backing files' real owners, so getpwuid/getgrgid are the right
 *    database here); an unknown ID -> kFPItemNotFound;
 *  - 3 and 4 before AFP 3.0 -> kFPParamErr; 5 and 6 before AFP 3.2 or
 *    without the UUIDs server flag -> kFPParamErr; a UUID that is not one
 *    of netatalk's local ones (no LDAP here) -> kFPItemNotFound;
 *  - any other subfunction -> kFPParamErr. */
int32_t cmd_mapid(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint8_t sfunc;
    if (afp_read_skip(r, 1) || afp_read_u8(r, &sfunc))
        return kFPParamErr;
    bool utf8 = sfunc >= 3 && sfunc <= 6;
    if (utf8 && s->afp_version < 30)
        return kFPParamErr;
    const char *name = NULL;
    switch (sfunc) {
    case 1:
    case 2:
    case 3:
    case 4: {
        uint32_t id;
        if (afp_read_u32(r, &id))
            return kFPParamErr;
        if (id == 0)
            break;
        if (sfunc == 1 || sfunc == 3) {
            const struct passwd *pw = getpwuid((uid_t)id);
            if (!pw)
                return kFPItemNotFound;
            name = pw->pw_name;
        } else {
            const struct group *gr = getgrgid((gid_t)id);
            if (!gr)
                return kFPItemNotFound;
            name = gr->gr_name;
        }
        break;
    }
    case 5:
    case 6: {
        uint8_t uuid[16];
        if (s->afp_version < 32 || !(s->p->flags & SRVRINFO_UUIDS))
            return kFPParamErr;
        if (afp_read_bytes(r, uuid, sizeof(uuid)))
            return kFPParamErr;
        uint32_t id = (uint32_t)uuid[12] << 24 | (uint32_t)uuid[13] << 16 |
                      (uint32_t)uuid[14] << 8 | uuid[15];
        /* The UUID says what it is; the subfunction does not matter (netatalk). */
        if (!memcmp(uuid, local_user_uuid, 12)) {
            const struct passwd *pw = getpwuid((uid_t)id);
            if (!pw)
                return kFPItemNotFound;
            afp_write_u32(w, 1);
            afp_write_u32(w, id);
            name = pw->pw_name;
        } else if (!memcmp(uuid, local_group_uuid, 12)) {
            const struct group *gr = getgrgid((gid_t)id);
            if (!gr)
                return kFPItemNotFound;
            afp_write_u32(w, 2);
            afp_write_u32(w, id);
            name = gr->gr_name;
        } else {
            return kFPItemNotFound;
        }
        break;
    }
    default:
        return kFPParamErr;
    }
    size_t len = name ? strlen(name) : 0;
    if (utf8) {
        if (len > UINT16_MAX)
            return kFPItemNotFound;
        afp_write_u16(w, (uint16_t)len);
        afp_write_bytes(w, name ? name : "", len);
    } else {
        if (len > 255)
            return kFPItemNotFound;
        afp_write_pstring_n(w, name ? name : "", len);
    }
    return kFPNoErr;
}
