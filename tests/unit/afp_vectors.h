/* Loads the recorded AFP/DSI exchanges in tests/data/afp/ (the
 * *.dsi.txt files: one DSI message per line) and the DH keylogs, and the
 * cmocka checks the AFP tests share (the including test has <cmocka.h>).
 *
 * tests/unit/meson.build links afp_vectors.c into every test_afp_* test;
 * the afpsim tests (built from contrib/afpsim/meson.build) include it
 * instead (a unity include). */
#ifndef SHARESFS_TEST_AFP_VECTORS_H
#define SHARESFS_TEST_AFP_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AFPV_DIR TEST_VECTORS "/afp/netatalk-4.0.3dev/"

struct afpv_msg {
    int conn;               /* 1 for "c1" */
    bool from_server;       /* "S>C" */
    bool reply;             /* "rep" (else "req") */
    char dsi_cmd[24];       /* "DSICommand" */
    char afp_op[32];        /* "FPLogin"; empty when the line has none */
    int rid;
    int32_t code;
    uint32_t len;
    uint8_t header[16];
    uint8_t *payload;
    size_t payload_len;
    int line;
};

struct afpv_file {
    struct afpv_msg *msgs;
    size_t n;
};

/* 0, or -errno (missing file, malformed line: the test should fail). */
int afpv_load(const char *path, struct afpv_file *f);
void afpv_free(struct afpv_file *f);
/* The nth (0-based) message with this AFP operation and direction; NULL
 * when there is none. */
const struct afpv_msg *afpv_find(const struct afpv_file *f, const char *afp_op, bool reply, int nth);
/* Same, by DSI command name ("DSIGetStatus"). */
const struct afpv_msg *afpv_find_dsi(const struct afpv_file *f, const char *dsi_cmd, bool reply, int nth);

/* A value from a keylog (*.keylog.jsonl): hex strings are decoded into
 * buf (returns the byte count), integers are written as big-endian bytes
 * of minimal length.  -ENOENT when the key is absent. */
int afpv_keylog_get(const char *path, const char *key, uint8_t *buf, size_t bufsz);

/* Hex string -> bytes; -EINVAL on odd length or bad digit. */
int afpv_unhex(const char *hex, size_t hexlen, uint8_t *out, size_t outsz);

/* ---- checks (they fail the running cmocka test) ---- */

struct afp_writer;

/* Loads AFPV_DIR NAME.dsi.txt. */
void afpv_open(const char *name, struct afpv_file *f);
/* afpv_find, and the message must be there. */
const struct afpv_msg *afpv_get(const struct afpv_file *f, const char *afp_op, bool reply, int nth);
/* w holds exactly m's payload. */
void afpv_assert_payload(const struct afp_writer *w, const struct afpv_msg *m);

/* The recordings a group of tests shares: a table ending in { NULL, NULL }
 * of files and their names (as for afpv_open). */
struct afpv_named {
    struct afpv_file *f;
    const char *name;
};
/* Entries for the four plain sessions most codec tests read: netatalk's
 * guest and cleartext logins (p02, p03), afpfs-ng's (a21, a22). */
#define AFPV_SESSIONS(p02, p03, a21, a22)                                                         \
    { &p02, "p02-guest-public-enum-read" }, { &p03, "p03-clrtxt-private-enum-read" },             \
    { &a21, "a21-afpfsng-guest-public" }, { &a22, "a22-afpfsng-clrtxt-private" }
int afpv_load_all(const struct afpv_named *set);
void afpv_free_all(const struct afpv_named *set);
/* Defines the cmocka group fixtures afpv_setup and afpv_teardown for SET. */
#define AFPV_GROUP_FIXTURES(set)                                                                  \
    static int afpv_setup(void **state) { (void)state; return afpv_load_all(set); }              \
    static int afpv_teardown(void **state) { (void)state; afpv_free_all(set); return 0; }

/* A decoder under test: its result for buf[0, len). */
typedef int (*afpv_decode_fn)(const uint8_t *buf, size_t len, const void *arg);
/* Every proper prefix of m's payload (copied to the heap, so that the
 * sanitizers see a read past the payload) is refused with -EPROTO. */
void afpv_check_prefixes(const struct afpv_msg *m, afpv_decode_fn fn, const void *arg);
/* Each byte of m's payload set in turn to 0, step, 2 * step, ... (below
 * 256): the decoder returns 0 or -EPROTO (and never crashes). */
void afpv_check_corruptions(const struct afpv_msg *m, unsigned step, afpv_decode_fn fn, const void *arg);

#endif
