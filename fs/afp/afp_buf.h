/* Bounds-checked big-endian reader and growable writer for AFP messages.
 *
 * Every read either succeeds completely or fails with -EPROTO and leaves the
 * output untouched as far as the caller can rely on; nothing ever reads
 * outside [buf, buf + len).  A hostile or broken server gets an error, never
 * an out-of-bounds access.
 *
 * Writers grow on the heap.  The first failure is sticky (w->err), so a
 * sequence of writes can be checked once at the end. */
#ifndef SHARESFS_AFP_BUF_H
#define SHARESFS_AFP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct afp_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;     /* next byte to read, 0 <= pos <= len */
};

void afp_reader_init(struct afp_reader *r, const void *buf, size_t len);
size_t afp_reader_remaining(const struct afp_reader *r);

/* A reader over the same buffer, positioned at base + offset, where base is a
 * position in r (AFP offsets are relative to the start of a block).  Its end is
 * r's end.  -EPROTO when base + offset is past the end. */
int afp_reader_at(const struct afp_reader *r, size_t base, size_t offset, struct afp_reader *out);
/* A reader over r's next n bytes only (r advances by n). */
int afp_reader_sub(struct afp_reader *r, size_t n, struct afp_reader *out);

/* The head of most AFP requests: u8 command, u8 flag (or pad), u16 volume
 * ID, fork reference or login ID.  cmd and flag may be NULL. */
int afp_read_head(struct afp_reader *r, uint8_t *cmd, uint8_t *flag, uint16_t *ref);

int afp_read_u8(struct afp_reader *r, uint8_t *v);
int afp_read_u16(struct afp_reader *r, uint16_t *v);
int afp_read_u32(struct afp_reader *r, uint32_t *v);
int afp_read_i32(struct afp_reader *r, int32_t *v);
int afp_read_u64(struct afp_reader *r, uint64_t *v);
/* The next n (at most 8) bytes as a big-endian number: for fields whose
 * width depends on the command (FPRead's u32 offset, FPReadExt's u64). */
int afp_read_uint(struct afp_reader *r, size_t n, uint64_t *v);
int afp_read_bytes(struct afp_reader *r, void *out, size_t n);
/* Points *p at the next n bytes without copying. */
int afp_read_view(struct afp_reader *r, size_t n, const uint8_t **p);
int afp_read_skip(struct afp_reader *r, size_t n);
/* Skips one pad byte when pos is odd (AFP aligns some fields to even
 * offsets from the start of the block). */
int afp_read_align2(struct afp_reader *r);

/* Pascal string: 1-byte length, bytes.  Copied NUL-terminated into out
 * (outsz >= 256 always suffices).  An embedded NUL is -EPROTO: it would
 * silently truncate the C string.  -ENAMETOOLONG when outsz is too small. */
int afp_read_pstring(struct afp_reader *r, char *out, size_t outsz);
int afp_read_pstring_view(struct afp_reader *r, const uint8_t **p, size_t *n);

/* AFPName of type 3 as found in file/dir parameters: 4-byte text encoding
 * hint, 2-byte length, UTF-8 bytes.  Same rules as afp_read_pstring. */
int afp_read_utf8name(struct afp_reader *r, uint32_t *hint, char *out, size_t outsz, size_t *outlen);

/* True when [p, p+n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF) and contains no NUL. */
bool afp_utf8_valid(const uint8_t *p, size_t n);

struct afp_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int err;        /* first error, sticky; 0 when all writes succeeded */
};

void afp_writer_init(struct afp_writer *w);
/* Wipes (the buffer may hold a password) and frees. */
void afp_writer_free(struct afp_writer *w);
/* Forgets the content but keeps the allocation. Clears err. */
void afp_writer_reset(struct afp_writer *w);
int afp_writer_error(const struct afp_writer *w);
/* Records err as the writer's sticky error unless one is set already;
 * returns the sticky error (the first one). */
int afp_writer_fail(struct afp_writer *w, int err);

/* The request head afp_read_head reads. */
int afp_write_head(struct afp_writer *w, uint8_t cmd, uint8_t flag, uint16_t ref);
/* The head of a request on a catalog node: that head with the volume ID,
 * then the u32 directory ID its path is relative to. */
int afp_write_dir_head(struct afp_writer *w, uint8_t cmd, uint8_t flag, uint16_t vol_id, uint32_t dir_id);

int afp_write_u8(struct afp_writer *w, uint8_t v);
int afp_write_u16(struct afp_writer *w, uint16_t v);
/* Overwrites two bytes already written at AT (a count or an offset known
 * only later); nothing once the writer has failed or AT is past the end. */
void afp_writer_patch_u16(struct afp_writer *w, size_t at, uint16_t v);
int afp_write_u32(struct afp_writer *w, uint32_t v);
int afp_write_u64(struct afp_writer *w, uint64_t v);
int afp_write_bytes(struct afp_writer *w, const void *p, size_t n);
int afp_write_zeros(struct afp_writer *w, size_t n);
/* Pascal string; -ENAMETOOLONG above 255 bytes. */
int afp_write_pstring(struct afp_writer *w, const char *s);
int afp_write_pstring_n(struct afp_writer *w, const void *s, size_t n);
/* One zero byte when len is odd. */
int afp_write_pad_even(struct afp_writer *w);
/* Reserves n bytes, returns a pointer to them (valid until the next write). */
int afp_write_reserve(struct afp_writer *w, size_t n, uint8_t **p);

#endif
