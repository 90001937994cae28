/* FPGetSrvrInfo reply parser.
 *
 * Layout (all offsets are from the start of the reply block):
 *   u16 machine type offset, u16 AFP versions offset, u16 UAMs offset,
 *   u16 volume icon offset (0 = none), u16 flags, pstring server name,
 *   pad to even, then - as far as the fixed header reaches - u16 server
 *   signature offset, u16 network addresses offset, u16 directory names
 *   offset, u16 UTF-8 server name offset (0 = absent for these four).
 * The fixed header ends where the first offset-addressed structure starts,
 * so an AFP 2.x server that stops after the server name parses too.
 *
 * Leniency: each offset-addressed structure is first looked for at its
 * offset; when no valid structure is there, at offset + 1 and offset - 1
 * (recorded in si->quirks).  afpfs-ng carries a workaround for a netatalk
 * release that put the UTF-8 server name one byte after its advertised
 * offset ("when the server hostname is used as server name"); we could not
 * pin the release down, so the same tolerance is applied to every
 * offset-addressed structure, with validity checks strict enough that a
 * shifted read of a correct reply does not validate. */
#include "afp_srvrinfo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "afp_proto.h"

int afp_encode_getsrvrinfo(struct afp_writer *w)
{
    afp_write_u8(w, kFPGetSrvrInfo);
    afp_write_u8(w, 0);
    return afp_writer_error(w);
}

enum str_kind {
    STR_ASCII,      /* printable ASCII: versions, UAM names */
    STR_TEXT,       /* no control characters (bytes >= 0x80 allowed) */
};

static bool str_ok(const uint8_t *p, size_t n, enum str_kind kind)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
        if (kind == STR_ASCII && p[i] > 0x7e)
            return false;
    }
    return true;
}

static int read_checked_pstring(struct afp_reader *r, char *out, enum str_kind kind)
{
    const uint8_t *p;
    size_t n;
    int rc = afp_read_pstring_view(r, &p, &n);
    if (rc)
        return rc;
    if (!str_ok(p, n, kind))
        return -EPROTO;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* One structure parser: reads at r's position into si, 0 or -EPROTO.
 * shifted: the position is offset +- 1, so be stricter (no empty lists, no
 * unknown address tags), or a shifted read of a good reply could pass. */
typedef int (*struct_parser)(struct afp_reader *r, struct afp_srvrinfo *si, bool shifted);

static int parse_machine(struct afp_reader *r, struct afp_srvrinfo *si, bool shifted)
{
    (void)shifted;
    return read_checked_pstring(r, si->machine_type, STR_TEXT);
}

static int parse_list(struct afp_reader *r, char (*out)[AFP_SRVRINFO_STR], size_t max,
                      size_t *n, size_t *total, enum str_kind kind, bool need_one)
{
    uint8_t count;
    char scratch[AFP_SRVRINFO_STR];
    int rc = afp_read_u8(r, &count);
    if (rc)
        return rc;
    if (need_one && count == 0)
        return -EPROTO;
    for (size_t i = 0; i < count; i++) {
        rc = read_checked_pstring(r, i < max ? out[i] : scratch, kind);
        if (rc)
            return rc;
    }
    *total = count;
    *n = count < max ? count : max;
    return 0;
}

static int parse_versions(struct afp_reader *r, struct afp_srvrinfo *si, bool shifted)
{
    (void)shifted;
    return parse_list(r, si->versions, AFP_SRVRINFO_MAX_LIST, &si->n_versions,
                      &si->n_versions_total, STR_ASCII, true);
}

static int parse_uams(struct afp_reader *r, struct afp_srvrinfo *si, bool shifted)
{
    (void)shifted;
    return parse_list(r, si->uams, AFP_SRVRINFO_MAX_LIST, &si->n_uams,
                      &si->n_uams_total, STR_ASCII, true);
}

static int parse_dirnames(struct afp_reader *r, struct afp_srvrinfo *si, bool shifted)
{
    return parse_list(r, si->dirnames, AFP_SRVRINFO_MAX_DIRNAMES, &si->n_dirnames,
                      &si->n_dirnames_total, STR_TEXT, shifted);
}

/* An IP address entry: the 4- or 16-byte address, then a u16 port for the
 * tags that carry one; nothing else. */
static int parse_ip(struct afp_net_addr *a, const uint8_t *d, size_t dl)
{
    bool v6 = a->tag == AFP_ADDR_IPV6 || a->tag == AFP_ADDR_IPV6_PORT;
    bool port = a->tag == AFP_ADDR_IPV4_PORT || a->tag == AFP_ADDR_SSH_TUNNEL || a->tag == AFP_ADDR_IPV6_PORT;
    size_t iplen = v6 ? 16 : 4;
    if (dl != iplen + (port ? 2 : 0))
        return -EPROTO;
    memcpy(a->ip, d, iplen);
    if (port)
        a->port = (uint16_t)(d[iplen] << 8 | d[iplen + 1]);
    return 0;
}

static int parse_one_addr(struct afp_reader *r, struct afp_net_addr *a, bool shifted)
{
    uint8_t len, tag;
    const uint8_t *d;
    size_t dl;
    int rc = afp_read_u8(r, &len);
    if (rc)
        return rc;
    if (len < 2)
        return -EPROTO;
    if ((rc = afp_read_u8(r, &tag)) || (rc = afp_read_view(r, len - 2u, &d)))
        return rc;
    dl = len - 2u;
    memset(a, 0, sizeof(*a));
    a->tag = tag;
    a->len = (uint8_t)dl;
    memcpy(a->raw, d, dl);
    switch (tag) {
    case AFP_ADDR_IPV4:
    case AFP_ADDR_IPV4_PORT:
    case AFP_ADDR_SSH_TUNNEL:
    case AFP_ADDR_IPV6:
    case AFP_ADDR_IPV6_PORT:
        return parse_ip(a, d, dl);
    case AFP_ADDR_DDP:
        if (dl != 4)
            return -EPROTO;
        a->ddp_net = (uint16_t)(d[0] << 8 | d[1]);
        a->ddp_node = d[2];
        a->ddp_socket = d[3];
        break;
    case AFP_ADDR_DNS:
        if (!str_ok(d, dl, STR_TEXT))
            return -EPROTO;
        memcpy(a->dns, d, dl);
        a->dns[dl] = '\0';
        break;
    case 0:
        return -EPROTO;     /* reserved */
    default:
        if (shifted)
            return -EPROTO;
        break;              /* unknown tag: kept raw */
    }
    return 0;
}

static int parse_addrs(struct afp_reader *r, struct afp_srvrinfo *si, bool shifted)
{
    uint8_t count;
    struct afp_net_addr scratch;
    int rc = afp_read_u8(r, &count);
    if (rc)
        return rc;
    if (shifted && count == 0)
        return -EPROTO;
    for (size_t i = 0; i < count; i++) {
        rc = parse_one_addr(r, i < AFP_SRVRINFO_MAX_ADDRS ? &si->addrs[i] : &scratch, shifted);
        if (rc)
            return rc;
    }
    si->n_addrs_total = count;
    si->n_addrs = count < AFP_SRVRINFO_MAX_ADDRS ? count : AFP_SRVRINFO_MAX_ADDRS;
    return 0;
}

static int parse_utf8_name(struct afp_reader *r, struct afp_srvrinfo *si, bool shifted)
{
    (void)shifted;
    uint16_t len;
    const uint8_t *p;
    bool nul = false;
    int rc = afp_read_u16(r, &len);
    if (rc || (rc = afp_read_view(r, len, &p)))
        return rc;
    if (len > 1 && p[len - 1] == 0) {   /* length counted the C string's NUL */
        len--;
        nul = true;
    }
    if (len == 0 || len >= AFP_SRVRINFO_STR || !afp_utf8_valid(p, len))
        return -EPROTO;
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return -EPROTO;
    memcpy(si->utf8_name, p, len);
    si->utf8_name[len] = '\0';
    if (nul)
        si->quirks |= AFP_SI_QUIRK_UTF8_NAME_NUL;
    else
        si->quirks &= ~(unsigned)AFP_SI_QUIRK_UTF8_NAME_NUL;
    return 0;
}

/* Parses the structure at offset, else offset + 1, else offset - 1, never
 * starting before min_off (the end of the fixed header). */
static int parse_at(const struct afp_reader *whole, uint16_t offset, size_t min_off,
                    struct_parser fn, struct afp_srvrinfo *si)
{
    static const int shift[3] = { 0, 1, -1 };
    static const unsigned quirk[3] = { 0, AFP_SI_QUIRK_OFFSET_SHORT, AFP_SI_QUIRK_OFFSET_LONG };
    for (int i = 0; i < 3; i++) {
        long pos = (long)offset + shift[i];
        struct afp_reader r;
        if (pos < (long)min_off)
            continue;
        if (afp_reader_at(whole, 0, (size_t)pos, &r))
            continue;
        if (fn(&r, si, i != 0) == 0) {
            si->quirks |= quirk[i];
            return 0;
        }
    }
    return -EPROTO;
}

int afp_srvrinfo_parse(const uint8_t *buf, size_t len, struct afp_srvrinfo *si)
{
    struct afp_reader r;
    uint16_t off_machine, off_versions, off_uams, off_icon;
    uint16_t opt[4] = { 0, 0, 0, 0 };  /* signature, addresses, dirnames, utf8 name */
    size_t header_end, table_end;
    int rc;

    memset(si, 0, sizeof(*si));
    afp_reader_init(&r, buf, len);
    if ((rc = afp_read_u16(&r, &off_machine)) || (rc = afp_read_u16(&r, &off_versions)) ||
        (rc = afp_read_u16(&r, &off_uams)) || (rc = afp_read_u16(&r, &off_icon)) ||
        (rc = afp_read_u16(&r, &si->flags)))
        return -EPROTO;
    if (afp_read_pstring(&r, si->server_name, sizeof(si->server_name)))
        return -EPROTO;
    if (!off_machine || !off_versions || !off_uams)
        return -EPROTO;

    /* The fixed header runs up to the first structure it points at. */
    header_end = off_machine;
    if (off_versions < header_end)
        header_end = off_versions;
    if (off_uams < header_end)
        header_end = off_uams;
    if (off_icon && off_icon < header_end)
        header_end = off_icon;
    if (header_end < r.pos)
        return -EPROTO;     /* a structure overlapping the server name */

    if (r.pos < header_end && afp_read_align2(&r))     /* pad after the server name */
        return -EPROTO;
    for (int i = 0; i < 4 && r.pos + 2 <= header_end; i++)
        if (afp_read_u16(&r, &opt[i]))
            return -EPROTO;
    table_end = r.pos;

    if (parse_at(&r, off_machine, table_end, parse_machine, si) ||
        parse_at(&r, off_versions, table_end, parse_versions, si) ||
        parse_at(&r, off_uams, table_end, parse_uams, si))
        return -EPROTO;

    if (off_icon) {
        if (off_icon < table_end || off_icon > len || len - off_icon < AFP_ICON_LEN)
            return -EPROTO;
        si->icon_offset = off_icon;
        si->has_icon = true;
    }
    if (opt[0]) {
        if (opt[0] < table_end || opt[0] > len || len - opt[0] < AFP_SIGNATURE_LEN)
            return -EPROTO;
        memcpy(si->signature, buf + opt[0], AFP_SIGNATURE_LEN);
        si->has_signature = true;
    }
    if (opt[1] && parse_at(&r, opt[1], table_end, parse_addrs, si))
        return -EPROTO;
    if (opt[2] && parse_at(&r, opt[2], table_end, parse_dirnames, si))
        return -EPROTO;
    if (opt[3]) {
        if (parse_at(&r, opt[3], table_end, parse_utf8_name, si))
            return -EPROTO;
        si->has_utf8_name = true;
    }
    if (si->n_versions_total > si->n_versions || si->n_uams_total > si->n_uams ||
        si->n_addrs_total > si->n_addrs || si->n_dirnames_total > si->n_dirnames)
        si->quirks |= AFP_SI_QUIRK_LIST_CUT;
    return 0;
}

static bool in_list(const char (*list)[AFP_SRVRINFO_STR], size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(list[i], s) == 0)
            return true;
    return false;
}

bool afp_srvrinfo_has_uam(const struct afp_srvrinfo *si, const char *uam)
{
    return in_list(si->uams, si->n_uams, uam);
}

bool afp_srvrinfo_has_version(const struct afp_srvrinfo *si, const char *version)
{
    return in_list(si->versions, si->n_versions, version);
}

const char *afp_addr_tag_name(uint8_t tag)
{
    switch (tag) {
    case AFP_ADDR_IPV4: return "IPv4";
    case AFP_ADDR_IPV4_PORT: return "IPv4+port";
    case AFP_ADDR_DDP: return "DDP";
    case AFP_ADDR_DNS: return "DNS";
    case AFP_ADDR_SSH_TUNNEL: return "SSH tunnel";
    case AFP_ADDR_IPV6: return "IPv6";
    case AFP_ADDR_IPV6_PORT: return "IPv6+port";
    default: return "unknown";
    }
}

static void format_ipv6(const uint8_t *ip, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < 16 && n < len; i += 2) {
        int w = snprintf(buf + n, len - n, "%s%x", i ? ":" : "", (unsigned)(ip[i] << 8 | ip[i + 1]));
        if (w < 0)
            return;
        n += (size_t)w;
    }
}

void afp_net_addr_format(const struct afp_net_addr *a, char *buf, size_t len)
{
    char v6[48];
    if (!len)
        return;
    switch (a->tag) {
    case AFP_ADDR_IPV4:
        snprintf(buf, len, "%u.%u.%u.%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3]);
        break;
    case AFP_ADDR_IPV4_PORT:
    case AFP_ADDR_SSH_TUNNEL:
        snprintf(buf, len, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port);
        break;
    case AFP_ADDR_DDP:
        snprintf(buf, len, "ddp %u.%u:%u", a->ddp_net, a->ddp_node, a->ddp_socket);
        break;
    case AFP_ADDR_DNS:
        snprintf(buf, len, "%s", a->dns);
        break;
    case AFP_ADDR_IPV6:
        format_ipv6(a->ip, v6, sizeof(v6));
        snprintf(buf, len, "%s", v6);
        break;
    case AFP_ADDR_IPV6_PORT:
        format_ipv6(a->ip, v6, sizeof(v6));
        snprintf(buf, len, "[%s]:%u", v6, a->port);
        break;
    default:
        snprintf(buf, len, "tag %u (%u bytes)", a->tag, a->len);
        break;
    }
}
