#include "smb_negotiate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sharesfs/net.h"

#define NBT_HDR 4
#define SMB2_HDR 64
#define SMB1_HDR 32
#define SMB_MAX_PDU (64 * 1024)

static void le16(uint8_t *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void le32(uint8_t *p, uint32_t v) { le16(p, v & 0xffff); le16(p + 2, v >> 16); }
static void le64(uint8_t *p, uint64_t v) { le32(p, (uint32_t)v); le32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }

static void nbt_header(uint8_t *buf, size_t pdu_len)
{
    buf[0] = 0;
    buf[1] = (pdu_len >> 16) & 0xff;
    buf[2] = (pdu_len >> 8) & 0xff;
    buf[3] = pdu_len & 0xff;
}

int smb1_negprot_encode(uint8_t *buf, size_t cap, enum smb_dialect min, enum smb_dialect max)
{
    static const char *const smb2_names[] = {"SMB 2.002", "SMB 2.???"};
    size_t need = NBT_HDR + SMB1_HDR + 3 + 64;
    if (cap < need)
        return -EMSGSIZE;
    memset(buf, 0, need);
    uint8_t *h = buf + NBT_HDR;
    memcpy(h, "\xffSMB", 4);
    h[4] = 0x72;               /* SMB_COM_NEGOTIATE */
    h[9] = 0x18;               /* canonical paths, case-insensitive */
    le16(h + 10, 0xc853);      /* unicode, NT status, extended security, long names */
    uint8_t *p = h + SMB1_HDR + 3;
    size_t n = 0;
    if (min <= SMB_DIALECT_NT1) {
        p[n++] = 0x02;
        memcpy(p + n, "NT LM 0.12", 11);
        n += 11;
    }
    if (max >= SMB_DIALECT_SMB2_02) {
        for (size_t i = 0; i < 2; i++) {
            size_t l = strlen(smb2_names[i]) + 1;
            p[n++] = 0x02;
            memcpy(p + n, smb2_names[i], l);
            n += l;
        }
    }
    h[SMB1_HDR] = 0;                   /* WordCount */
    le16(h + SMB1_HDR + 1, (uint16_t)n);
    size_t pdu = SMB1_HDR + 3 + n;
    nbt_header(buf, pdu);
    return (int)(NBT_HDR + pdu);
}

int smb2_negotiate_encode(uint8_t *buf, size_t cap, enum smb_dialect min, enum smb_dialect max,
                          uint64_t message_id, const uint8_t client_guid[16])
{
    if (cap < 256)
        return -EMSGSIZE;
    memset(buf, 0, 256);
    uint8_t *h = buf + NBT_HDR;
    memcpy(h, "\xfeSMB", 4);
    le16(h + 4, 64);           /* StructureSize */
    le16(h + 14, 1);           /* CreditRequest */
    le64(h + 24, message_id);
    uint8_t *b = h + SMB2_HDR;
    le16(b, 36);
    le16(b + 4, 0x0001);       /* signing enabled */
    le32(b + 8, 0x40);         /* encryption capable (SMB3.0/3.02) */
    memcpy(b + 12, client_guid, 16);
    uint16_t count = 0;
    bool smb311 = false;
    for (enum smb_dialect d = SMB_DIALECT_SMB2_02; d <= SMB_DIALECT_SMB3_11; d++) {
        if (d < min || d > max)
            continue;
        le16(b + 36 + 2 * count, smb_dialect_wire(d));
        count++;
        if (d == SMB_DIALECT_SMB3_11)
            smb311 = true;
    }
    if (count == 0)
        return -EPROTONOSUPPORT;
    le16(b + 2, count);
    size_t off = SMB2_HDR + 36 + 2 * count;   /* from the SMB2 header */
    if (smb311) {
        /* 3.1.1 requires a preauth-integrity context; we also offer ciphers. */
        off = (off + 7) & ~(size_t)7;
        le32(b + 28, (uint32_t)off);
        le16(b + 32, 2);
        uint8_t *c = h + off;
        le16(c, 1);                /* PREAUTH_INTEGRITY_CAPABILITIES */
        le16(c + 2, 38);
        le16(c + 8, 1);            /* one hash */
        le16(c + 10, 32);          /* salt length */
        le16(c + 12, 1);           /* SHA-512 */
        for (int i = 0; i < 32; i++)
            c[14 + i] = (uint8_t)rand();
        off += 8 + 38;
        off = (off + 7) & ~(size_t)7;
        c = h + off;
        le16(c, 2);                /* ENCRYPTION_CAPABILITIES */
        le16(c + 2, 6);
        le16(c + 8, 2);
        le16(c + 10, 0x0002);      /* AES-128-GCM */
        le16(c + 12, 0x0001);      /* AES-128-CCM */
        off += 8 + 6;
    }
    nbt_header(buf, off);
    return (int)(NBT_HDR + off);
}

int smb_negotiate_decode(const uint8_t *pdu, size_t len, const char *offered_nt1, struct smb_negotiate_result *out)
{
    (void)offered_nt1;
    memset(out, 0, sizeof(*out));
    if (len >= SMB1_HDR + 3 && memcmp(pdu, "\xffSMB", 4) == 0) {
        if (pdu[4] != 0x72)
            return -EPROTO;
        out->status = rd32(pdu + 5);
        if (out->status != 0)
            return 0;
        if (pdu[SMB1_HDR] < 1)
            return -EPROTO;
        uint16_t idx = rd16(pdu + SMB1_HDR + 1);
        out->dialect = idx == 0xffff ? SMB_DIALECT_NONE : SMB_DIALECT_NT1;
        return 0;
    }
    if (len >= SMB2_HDR && memcmp(pdu, "\xfeSMB", 4) == 0) {
        if (rd16(pdu + 12) != 0)   /* Command must be NEGOTIATE */
            return -EPROTO;
        out->status = rd32(pdu + 8);
        if (out->status != 0)
            return 0;
        if (len < SMB2_HDR + 64)
            return -EPROTO;
        const uint8_t *b = pdu + SMB2_HDR;
        if (rd16(b) != 65)
            return -EPROTO;
        out->security_mode = rd16(b + 2);
        uint16_t rev = rd16(b + 4);
        memcpy(out->server_guid, b + 8, 16);
        out->capabilities = rd32(b + 24);
        if (rev == 0x02ff) {
            out->smb2_wildcard = true;
            return 0;
        }
        out->dialect = smb_dialect_from_wire(rev);
        return out->dialect == SMB_DIALECT_NONE ? -EPROTO : 0;
    }
    return -EPROTO;
}

static int read_pdu(int fd, uint8_t **pdu, size_t *len, int timeout_ms)
{
    uint8_t nbt[NBT_HDR];
    int rc = sfs_net_read_all(fd, nbt, sizeof(nbt), timeout_ms);
    if (rc < 0)
        return rc;
    size_t n = (size_t)nbt[1] << 16 | (size_t)nbt[2] << 8 | nbt[3];
    if (nbt[0] != 0 || n == 0 || n > SMB_MAX_PDU)
        return -EPROTO;
    *pdu = malloc(n);
    if (!*pdu)
        return -ENOMEM;
    rc = sfs_net_read_all(fd, *pdu, n, timeout_ms);
    if (rc < 0) {
        free(*pdu);
        *pdu = NULL;
        return rc;
    }
    *len = n;
    return 0;
}

static int exchange(int fd, const uint8_t *req, size_t req_len, int timeout_ms,
                    struct smb_negotiate_result *out)
{
    int rc = sfs_net_write_all(fd, req, req_len, timeout_ms);
    if (rc < 0)
        return rc;
    uint8_t *pdu = NULL;
    size_t len = 0;
    rc = read_pdu(fd, &pdu, &len, timeout_ms);
    if (rc < 0)
        return rc;
    rc = smb_negotiate_decode(pdu, len, NULL, out);
    free(pdu);
    return rc;
}

static int fail(struct sfs_status *st, int rc, enum smb_dialect min, enum smb_dialect max)
{
    const char *range_min = smb_dialect_name(min), *range_max = smb_dialect_name(max);
    switch (-rc) {
    case ECONNRESET:
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, EPROTONOSUPPORT, SFS_DOMAIN_SMB, 0xc000020c,
                              "server closed the connection on NEGOTIATE: it speaks none of %s..%s",
                              range_min, range_max);
    case ETIMEDOUT:
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, ETIMEDOUT, SFS_DOMAIN_SMB, 0xc00000b5,
                              "no NEGOTIATE reply before the timeout");
    case EPROTO:
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, EPROTO, SFS_DOMAIN_SMB, 0xc00000c3,
                              "malformed NEGOTIATE reply");
    default:
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, -rc, SFS_DOMAIN_SYS, -rc,
                              "NEGOTIATE failed: %s", strerror(-rc));
    }
}

int smb_negotiate_probe(int fd, enum smb_dialect min, enum smb_dialect max, int timeout_ms,
                        struct smb_negotiate_result *out, struct sfs_status *st)
{
    uint8_t req[512];
    uint8_t guid[16];
    for (int i = 0; i < 16; i++)
        guid[i] = (uint8_t)rand();
    int n;
    bool smb1_first = min <= SMB_DIALECT_NT1;
    if (smb1_first)
        n = smb1_negprot_encode(req, sizeof(req), min, max);
    else
        n = smb2_negotiate_encode(req, sizeof(req), min, max, 0, guid);
    if (n < 0)
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, -n, SFS_DOMAIN_SYS, -n,
                              "cannot build NEGOTIATE for %s..%s", smb_dialect_name(min), smb_dialect_name(max));
    int rc = exchange(fd, req, (size_t)n, timeout_ms, out);
    if (rc == 0 && out->smb2_wildcard) {
        n = smb2_negotiate_encode(req, sizeof(req), SMB_DIALECT_SMB2_02 > min ? SMB_DIALECT_SMB2_02 : min,
                                  max, 1, guid);
        rc = n < 0 ? n : exchange(fd, req, (size_t)n, timeout_ms, out);
    }
    if (rc < 0)
        return fail(st, rc, min, max);
    if (out->status != 0) {
        uint32_t s = out->status;
        const char *name = sfs_ntstatus_name(s);
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, EPROTONOSUPPORT, SFS_DOMAIN_SMB, s,
                              "server refused NEGOTIATE for %s..%s: %s", smb_dialect_name(min),
                              smb_dialect_name(max), name ? name : "unknown status");
    }
    if (out->dialect == SMB_DIALECT_NONE)
        return sfs_status_set(st, SFS_STAGE_NEGOTIATE, EPROTONOSUPPORT, SFS_DOMAIN_SMB, 0xc00000bb,
                              "no common dialect: client offered %s..%s", smb_dialect_name(min),
                              smb_dialect_name(max));
    return 0;
}
