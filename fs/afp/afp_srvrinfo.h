/* FPGetSrvrInfo / DSIGetStatus reply: what a server says about itself
 * before any login (name, machine type, AFP versions, UAMs, flags,
 * signature, addresses, Kerberos principal). */
#ifndef SHARESFS_AFP_SRVRINFO_H
#define SHARESFS_AFP_SRVRINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"

#define AFP_SRVRINFO_MAX_LIST 32      /* versions, UAMs; more are counted, not kept */
#define AFP_SRVRINFO_MAX_ADDRS 16
#define AFP_SRVRINFO_MAX_DIRNAMES 8
#define AFP_SRVRINFO_STR 256          /* any Pascal string fits */
#define AFP_SIGNATURE_LEN 16
#define AFP_ICON_LEN 256              /* 32x32 1-bit icon + mask */

/* Leniencies that were needed to parse a reply (bitmask in quirks). */
enum afp_srvrinfo_quirk {
    /* An offset pointed one byte before or after a valid structure. */
    AFP_SI_QUIRK_OFFSET_SHORT = 0x01,   /* structure was at offset + 1 */
    AFP_SI_QUIRK_OFFSET_LONG = 0x02,    /* structure was at offset - 1 */
    /* The UTF-8 server name's length counted a trailing NUL. */
    AFP_SI_QUIRK_UTF8_NAME_NUL = 0x04,
    /* Lists longer than AFP_SRVRINFO_MAX_* were cut (see n_*_total). */
    AFP_SI_QUIRK_LIST_CUT = 0x08,
};

struct afp_net_addr {
    uint8_t tag;                  /* enum afp_addr_tag; unknown tags are kept raw */
    uint8_t len;                  /* bytes in raw */
    uint8_t raw[253];             /* the address bytes after the tag */
    uint8_t ip[16];               /* IPv4 in ip[0..3], IPv6 in ip[0..15] */
    uint16_t port;                /* 0 when the tag carries no port */
    uint16_t ddp_net;
    uint8_t ddp_node, ddp_socket;
    char dns[AFP_SRVRINFO_STR];   /* AFP_ADDR_DNS */
};

struct afp_srvrinfo {
    uint16_t flags;                         /* enum afp_server_flag */
    char server_name[AFP_SRVRINFO_STR];     /* Mac Roman (as sent) */
    char machine_type[AFP_SRVRINFO_STR];
    size_t n_versions, n_versions_total;
    char versions[AFP_SRVRINFO_MAX_LIST][AFP_SRVRINFO_STR];
    size_t n_uams, n_uams_total;
    char uams[AFP_SRVRINFO_MAX_LIST][AFP_SRVRINFO_STR];
    uint16_t icon_offset;                   /* 0 when absent */
    bool has_icon;
    bool has_signature;
    uint8_t signature[AFP_SIGNATURE_LEN];
    size_t n_addrs, n_addrs_total;
    struct afp_net_addr addrs[AFP_SRVRINFO_MAX_ADDRS];
    size_t n_dirnames, n_dirnames_total;
    char dirnames[AFP_SRVRINFO_MAX_DIRNAMES][AFP_SRVRINFO_STR];  /* e.g. Kerberos principal */
    bool has_utf8_name;
    char utf8_name[AFP_SRVRINFO_STR];
    unsigned quirks;                        /* enum afp_srvrinfo_quirk */
};

/* The DSIGetStatus request payload / FPGetSrvrInfo request. */
int afp_encode_getsrvrinfo(struct afp_writer *w);

/* Parses the reply payload (what follows the DSI header).  0, or -EPROTO
 * when anything is out of bounds or malformed (see docs/afp.md for the one
 * documented leniency: offsets one byte off). */
int afp_srvrinfo_parse(const uint8_t *buf, size_t len, struct afp_srvrinfo *si);

/* Case-insensitive membership tests ("dhx2" matches "DHX2"). */
bool afp_srvrinfo_has_uam(const struct afp_srvrinfo *si, const char *uam);
bool afp_srvrinfo_has_version(const struct afp_srvrinfo *si, const char *version);

/* "IPv4", "DNS", ... */
const char *afp_addr_tag_name(uint8_t tag);
/* Human form of an address: "127.0.0.1", "[::1]:548", "localhost". */
void afp_net_addr_format(const struct afp_net_addr *a, char *buf, size_t len);

#endif
