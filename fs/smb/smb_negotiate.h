/* Our own SMB NEGOTIATE exchange for the probe's `negotiate` stage:
 * libsmbclient does negotiate, session setup and tree connect in one call and
 * exposes neither the dialect nor where it failed, so we negotiate once
 * ourselves, on our own connection, with the entry's dialect range. */
#ifndef SHARESFS_SMB_NEGOTIATE_H
#define SHARESFS_SMB_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharesfs/status.h"
#include "smb_dialect.h"

struct smb_negotiate_result {
    enum smb_dialect dialect;
    uint16_t security_mode;     /* bit 0 signing enabled, bit 1 signing required */
    uint32_t capabilities;      /* SMB2 capabilities (0x40 = encryption) */
    uint8_t server_guid[16];
    bool smb2_wildcard;         /* server answered an SMB1 negprot with 0x02FF */
    uint32_t status;            /* NTSTATUS of the reply */
};

/* Encoders return the number of bytes written into BUF (including the 4-byte
 * NetBIOS session header), or -EMSGSIZE. */
int smb1_negprot_encode(uint8_t *buf, size_t cap, enum smb_dialect min, enum smb_dialect max);
int smb2_negotiate_encode(uint8_t *buf, size_t cap, enum smb_dialect min, enum smb_dialect max,
                          uint64_t message_id, const uint8_t client_guid[16]);
/* Decodes one reply PDU (without the NetBIOS header).  SMB1 replies give
 * dialect NT1 or NONE (no common dialect); SMB2 replies give the revision. */
int smb_negotiate_decode(const uint8_t *pdu, size_t len, const char *offered_nt1_dialects,
                         struct smb_negotiate_result *out);

/* Runs the exchange on a connected socket.  Fails with stage NEGOTIATE. */
int smb_negotiate_probe(int fd, enum smb_dialect min, enum smb_dialect max, int timeout_ms,
                        struct smb_negotiate_result *out, struct sfs_status *st);

#endif
