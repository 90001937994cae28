/* Loads the recorded AFP/DSI exchanges in tests/data/afp/ (the
 * *.dsi.txt files: one DSI message per line) and the DH keylogs.
 *
 * tests/unit/meson.build builds each test from its own .c file only, so
 * every test that uses this helper includes afp_vectors.c once (a unity
 * include) rather than linking it. */
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

#endif
