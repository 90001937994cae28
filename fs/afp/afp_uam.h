/* The interface a UAM (User Authentication Method) implements, and the
 * crypto helpers the DH UAMs share (libgcrypt). */
#ifndef SHARESFS_AFP_UAM_H
#define SHARESFS_AFP_UAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"
#include "afp_login.h"

#define AFP_UAM_NO_STEP 0xffffu

struct afp_uam {
    const char *name;           /* as the server lists it: "DHX2" */
    bool needs_user;
    size_t max_password;        /* bytes the UAM can carry; 0 = no password */
    unsigned replies;           /* server replies in a successful login */
    unsigned user_step;         /* reply that judges the user name alone, or AFP_UAM_NO_STEP */
    unsigned password_step;     /* reply that judges the password, or AFP_UAM_NO_STEP */
    /* Appends the UserAuthInfo of the first request (after the header
     * afp_login_start wrote). */
    int (*start)(struct afp_login *l, struct afp_writer *w);
    /* Handles a kFPAuthContinue reply (l->replies is its index) and writes
     * the whole next FPLoginCont.  On failure sets l->outcome/detail. */
    int (*step)(struct afp_login *l, const uint8_t *reply, size_t len, struct afp_writer *w);
    /* Bytes of private state (keys, nonces) in l->state: allocated before
     * start, wiped and freed by afp_login_cleanup.  0: none. */
    size_t state_size;
};

extern const struct afp_uam afp_uam_guest;        /* "No User Authent" */
extern const struct afp_uam afp_uam_cleartext;    /* "Cleartxt Passwrd" */
extern const struct afp_uam afp_uam_dhcast128;    /* "DHCAST128" */
extern const struct afp_uam afp_uam_dhx2;         /* "DHX2" */

/* By UAM name, case-insensitive; NULL when sharesfs has no such UAM. */
const struct afp_uam *afp_uam_find(const char *name);

/* Writes user as a Pascal string then pads to even, unless the user name
 * already went into an FPLoginExt header.  Shared by the password UAMs. */
int afp_uam_write_user(struct afp_login *l, struct afp_writer *w);
/* Sets outcome and detail; returns err. */
int afp_uam_fail(struct afp_login *l, enum afp_login_outcome o, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Calls l->random (or libgcrypt's strong random). */
void afp_uam_random(struct afp_login *l, enum afp_random_purpose purpose, uint8_t *buf, size_t len);

/* ---- crypto (uam_crypto.c) ---- */

/* Initialises libgcrypt once if the application has not. 0 or -ENOTSUP. */
int afp_crypto_init(void);
/* pub = g^priv mod p, as len(p) big-endian bytes. */
int afp_dh_public(const uint8_t *p, size_t plen, const uint8_t *g, size_t glen,
                  const uint8_t *priv, size_t privlen, uint8_t *pub);
/* shared = peer^priv mod p, as plen bytes.  -EPROTO unless 1 < peer < p - 1
 * (a peer value of 0, 1 or p - 1 would force a known shared secret). */
int afp_dh_shared(const uint8_t *p, size_t plen, const uint8_t *peer, size_t peerlen,
                  const uint8_t *priv, size_t privlen, uint8_t *shared);
/* -EPROTO unless 1 < x < p - 1. */
int afp_dh_check_range(const uint8_t *p, size_t plen, const uint8_t *x, size_t xlen);
/* CAST5 (CAST-128, 16-byte key) in CBC mode, in place; len % 8 == 0. */
int afp_cast5_cbc(bool encrypt, const uint8_t key[16], const char iv[8], uint8_t *buf, size_t len);
int afp_md5(const void *in, size_t len, uint8_t out[16]);
/* Adds one to a 16-byte big-endian number (mod 2^128). */
void afp_nonce_increment(uint8_t nonce[16]);

/* The fixed CBC IVs of the Apple DH UAMs. */
#define AFP_IV_CLIENT "LWallace"    /* client -> server */
#define AFP_IV_SERVER "CJalbert"    /* server -> client */

#endif
