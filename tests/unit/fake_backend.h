/* A fake backend for unit tests of the engine and the FUSE layer: an
 * in-memory share with every operation of struct sfs_backend_ops, and
 * knobs a test turns (failed connects, lost connections, delays, an
 * operation that blocks until released).
 *
 * It answers for two protocols once fake_backend_setup() has run:
 *   afp://...  the fake in process (flags 0);
 *   smb://...  the same fake flagged SFS_BACKEND_ISOLATE, so the engine's
 *              isolation wrapper runs each connection in a worker process
 *              (the test binary re-executed with --worker).
 * Knobs, counters and the gate live in files of a directory shared with
 * those workers (SHARESFS_FAKE_DIR, made by the first setup), so they
 * act the same in and out of process.
 *
 * Every connection starts from the same tree:
 *   /hello.txt   "hello, world\n", with user.color = "blue"
 *   /dir/        /dir/a.txt "a\n", /dir/sub/
 *   /big.bin     FAKE_BIG_SIZE bytes of fake_big_byte()
 *   /pid         the pid of the process that connected, in decimal
 *   /link        a symbolic link to "hello.txt"
 *   /block.txt   "blocked\n": operations on "/block*" paths wait at the gate
 * A connect to a host whose name starts with "block" waits at the gate too. */
#ifndef SHARESFS_TESTS_FAKE_BACKEND_H
#define SHARESFS_TESTS_FAKE_BACKEND_H

#include <stdbool.h>
#include <sys/types.h>

#include "sharesfs/backend.h"

#define FAKE_BIG_SIZE ((5u << 20) + 12345u)
#define FAKE_HELLO "hello, world\n"

extern const struct sfs_backend_ops fake_backend;          /* in process */
extern const struct sfs_backend_ops fake_backend_isolated; /* SFS_BACKEND_ISOLATE */

/* Makes (or, in a worker, finds) the shared directory and installs the
 * fake for AFP and SMB with sfs_backend_override.  First thing in main(),
 * before `--worker` is handled.  0 or -errno. */
int fake_backend_setup(void);
/* The start of main() in a test over the fake: the debugging overrides
 * of isolation unset (isolation is what some tests are about),
 * fake_backend_setup(), `--worker` handed to sfs_worker_main(), and GLib's
 * log quiet unless SFS_TEST_LOG is set.  -1 to go on with the tests, or
 * the status main() returns. */
int fake_test_main(int argc, char **argv);
/* Removes the shared directory if this process made it. */
void fake_backend_cleanup(void);
/* Back to no knobs, zero counters, the gate open. */
void fake_reset(void);

struct fake_knobs {
    int connect_err;              /* nonzero: connect fails with this errno ... */
    enum sfs_stage connect_stage; /* ... at this stage (NONE: CONNECT) ... */
    char connect_detail[128];     /* ... saying this (empty: a default text) */
    bool connect_no_status;       /* fail without filling the status (a careless backend) */
    unsigned connect_delay_ms;
    unsigned op_delay_ms;         /* before every path or file operation */
    unsigned kill_gen;            /* see fake_kill_connections */
    bool busy_while_open;         /* renaming or removing an open file: EBUSY (SMB's sharing violation) */
    unsigned release_delay_ms;    /* a release takes this long before the file is closed */
};
void fake_knobs_get(struct fake_knobs *k);
void fake_knobs_set(const struct fake_knobs *k);
/* Connect failures in one call. */
void fake_fail_connect(int err, enum sfs_stage stage, const char *detail);
/* Every connection made so far is lost: alive() says false, operations fail with EIO. */
void fake_kill_connections(void);

/* Counters, across processes. */
enum fake_counter {
    FAKE_CONNECT_CALLS,   /* connect called */
    FAKE_CONNECTS,        /* connect succeeded */
    FAKE_DISCONNECTS,
    FAKE_BLOCKED,         /* callers that reached the closed gate */
    FAKE_RELEASES,        /* releases begun */
    FAKE_COUNTER_COUNT
};
unsigned fake_count(enum fake_counter c);
/* Waits until counter C reaches N, at most TIMEOUT_MS; true if it did. */
bool fake_wait_count(enum fake_counter c, unsigned n, int timeout_ms);

/* While closed, "/block*" operations and "block*" hosts wait (polling;
 * they give up with ETIMEDOUT after a minute, so a failed test cannot hang). */
void fake_gate_close(void);
void fake_gate_open(void);

/* A listing as the text "name,name,...," in TEXT (SIZE bytes, NUL-terminated):
 * NAME appended (cut short when TEXT is full), or whether NAME is in it. */
void fake_names_add(char *text, size_t size, const char *name);
bool fake_names_has(const char *text, const char *name);

/* The byte of /big.bin at OFF. */
unsigned char fake_big_byte(off_t off);

#endif
