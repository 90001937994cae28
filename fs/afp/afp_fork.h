/* Fork I/O: FPOpenFork, FPReadExt, FPWriteExt, FPFlushFork, FPCloseFork. */
#ifndef SHARESFS_AFP_FORK_H
#define SHARESFS_AFP_FORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"
#include "afp_params.h"

/* rsrc: open the resource fork instead of the data fork.  bitmap: file
 * parameters wanted in the reply (kFPExtDataForkLenBit gives the size).
 * access: enum afp_fork_access bits. */
int afp_encode_openfork(struct afp_writer *w, bool rsrc, uint16_t vol_id, uint32_t dir_id,
                        uint16_t bitmap, uint16_t access, const char *path);
/* Reply: u16 bitmap, u16 fork reference, file parameter block. */
struct afp_openfork_reply {
    uint16_t bitmap;
    uint16_t fork;
    struct afp_node params;
};
int afp_openfork_decode(const uint8_t *buf, size_t len, struct afp_openfork_reply *out);

int afp_encode_readext(struct afp_writer *w, uint16_t fork, uint64_t offset, uint64_t count);
/* Whether a FPReadExt result carries data: kFPNoErr, and kFPEOFErr, which
 * netatalk sends together with the bytes it could read (seen in a21: -5009
 * with 42 bytes).  Any other result is an error without data. */
bool afp_readext_result_has_data(int32_t result);
/* The data of a FPReadExt reply.  eof is set for kFPEOFErr, or when fewer
 * bytes than requested came back.  -EPROTO when the server sent more than
 * requested; -EINVAL for a result without data. */
int afp_readext_decode(int32_t result, const uint8_t *buf, size_t len, uint64_t requested,
                       const uint8_t **data, size_t *n, bool *eof);

/* The AFP part of a FPWriteExt, 20 bytes; it is sent as a DSIWrite whose
 * header "data offset" field is the length of this part (20) and whose
 * payload continues with the count bytes of data. */
#define AFP_WRITEEXT_HEADER_LEN 20
int afp_encode_writeext(struct afp_writer *w, bool from_end, uint16_t fork, uint64_t offset,
                        uint64_t count);
/* Reply: u64 offset of the last byte written plus one. */
int afp_writeext_decode(const uint8_t *buf, size_t len, uint64_t *written_end);

int afp_encode_flushfork(struct afp_writer *w, uint16_t fork);
/* FPSetForkParms with kFPExtDataForkLenBit: the data fork's new length. */
int afp_encode_setforklen(struct afp_writer *w, uint16_t fork, uint64_t length);
int afp_encode_closefork(struct afp_writer *w, uint16_t fork);

#endif
