/* Frames between sharesfs and its own helper processes (the SMB worker):
 * a 32-bit length, then fields written and read in the same order.  Both
 * ends are the same binary, so fixed structures (struct stat) travel as
 * their bytes; a reader still checks every length, so a worker that died
 * mid-frame or wrote garbage gives an error, never a crash. */
#ifndef SHARESFS_WIRE_H
#define SHARESFS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SFS_WIRE_MAX_FRAME (16u << 20)

struct sfs_wire_out {
    char *p;
    size_t len, cap;
    bool oom;
};

void sfs_wire_out_init(struct sfs_wire_out *w);
/* Wipes (frames may carry a password) and frees. */
void sfs_wire_out_free(struct sfs_wire_out *w);
void sfs_wire_put_u32(struct sfs_wire_out *w, uint32_t v);
void sfs_wire_put_i64(struct sfs_wire_out *w, int64_t v);
void sfs_wire_put_f64(struct sfs_wire_out *w, double v);
void sfs_wire_put_bytes(struct sfs_wire_out *w, const void *p, size_t n);
/* NULL travels as NULL. */
void sfs_wire_put_str(struct sfs_wire_out *w, const char *s);

/* Sends W's fields as one frame; 0 or -errno (EPIPE: the peer is gone). */
int sfs_wire_send(int fd, const struct sfs_wire_out *w);

struct sfs_wire_in {
    char *buf;          /* the whole frame (owned) */
    size_t len, pos;
    bool bad;           /* a read ran past the end or met a wrong length */
};

/* Receives one frame, waiting at most TIMEOUT_MS (< 0: forever).
 * 0, -ETIMEDOUT, -EPIPE (peer closed), -EPROTO (bad length), -errno. */
int sfs_wire_recv(int fd, struct sfs_wire_in *r, int timeout_ms);
void sfs_wire_in_free(struct sfs_wire_in *r);
uint32_t sfs_wire_get_u32(struct sfs_wire_in *r);
int64_t sfs_wire_get_i64(struct sfs_wire_in *r);
double sfs_wire_get_f64(struct sfs_wire_in *r);
/* Copies exactly N bytes into P; a field of another length marks R bad. */
void sfs_wire_get_fixed(struct sfs_wire_in *r, void *p, size_t n);
/* A malloc'd copy, NUL-terminated, or NULL (sent as NULL, or bad). */
char *sfs_wire_get_str(struct sfs_wire_in *r);
/* Into a fixed buffer, truncated to fit. */
void sfs_wire_get_str_into(struct sfs_wire_in *r, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
