/* Volumes, path resolution, parameter blocks, and the server/volume
 * commands (FPGetSrvrParms, FPGetSrvrMsg, FPOpenVol, FPCloseVol,
 * FPGetVolParms, FPFlush).
 *
 * Access model: afpsim runs with its own (usually root) identity.  A
 * logged-in user acts with the owner permission bits of the backing files,
 * a guest with the "other" bits, so a world-readable volume is readable by
 * guests and a 0700 directory is not; volumes with valid users are hidden
 * from everybody else (netatalk p17: not listed, FPOpenVol -5018). */
#include "afpsim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

int32_t afp_date(time_t t)
{
    long long d = (long long)t - AFP_DATE_EPOCH_DELTA;
    if (d < INT32_MIN + 1)
        d = INT32_MIN + 1;
    if (d > INT32_MAX)
        d = INT32_MAX;
    return (int32_t)d;
}

int32_t afp_now(void)
{
    return afp_date(time(NULL));
}

int32_t errno_to_afp(int e)
{
    switch (e) {
    case 0: return kFPNoErr;
    case ENOENT: return kFPObjectNotFound;
    case EACCES:
    case EPERM: return kFPAccessDenied;
    case EEXIST: return kFPObjectExists;
    case ENOTEMPTY: return kFPDirNotEmpty;
    case ENOSPC: return kFPDiskFull;
    case EDQUOT: return kFPDiskQuotaExceeded;
    case EROFS: return kFPVolLocked;
    case EISDIR:
    case ENOTDIR: return kFPObjectTypeErr;
    case ENAMETOOLONG:
    case EINVAL: return kFPParamErr;
    case EBUSY: return kFPFileBusy;
    case EMFILE:
    case ENFILE: return kFPTooManyFilesOpen;
    case EXDEV: return kFPCantMove;
    default: return kFPMiscErr;
    }
}

bool vol_visible(const struct session *s, const struct volume *v)
{
    if (!v->valid)
        return true;
    if (s->guest || !*s->user)
        return false;
    for (size_t i = 0; v->valid[i]; i++)
        if (!strcmp(v->valid[i], s->user))
            return true;
    return false;
}

const struct volume *vol_head(struct session *s, struct afp_reader *r, uint8_t *flag, int32_t *err)
{
    uint16_t vid;
    if (afp_read_head(r, NULL, flag, &vid) || vid == 0 || vid > s->srv->n_vols ||
        !s->vol_open[vid - 1]) {
        *err = kFPParamErr;
        return NULL;
    }
    return &s->srv->vols[vid - 1];
}

/* ------------------------------------------------------------ rights */

static uint8_t map_rwx(unsigned bits)
{
    return (uint8_t)(((bits & 4) ? 0x02 : 0) | ((bits & 2) ? 0x04 : 0) | ((bits & 1) ? 0x01 : 0));
}

uint8_t node_rights(const struct session *s, const struct stat *st)
{
    unsigned bits = s->guest ? (st->st_mode & 7) : ((st->st_mode >> 6) & 7);
    return map_rwx(bits);
}

int32_t check_write(const struct session *s, const struct volume *v, const struct stat *st)
{
    if (v->ro)
        return kFPVolLocked;
    if (!(node_rights(s, st) & 0x04))
        return kFPAccessDenied;
    return kFPNoErr;
}

static uint32_t ua_rights(const struct session *s, const struct stat *st)
{
    uint8_t user = node_rights(s, st);
    if (!s->guest || s->p->guest_uaowner)
        user |= 0x80;
    return (uint32_t)user << 24 | (uint32_t)map_rwx(st->st_mode & 7) << 16 |
           (uint32_t)map_rwx((st->st_mode >> 3) & 7) << 8 | map_rwx((st->st_mode >> 6) & 7);
}

/* -------------------------------------------------------------- meta */

#define META_XATTR "user.afpsim.meta"
#define META_LEN 48

void meta_get(const char *path, struct meta *m)
{
    uint8_t b[META_LEN];
    memset(m, 0, sizeof(*m));
    if (lgetxattr(path, META_XATTR, b, sizeof(b)) != META_LEN || memcmp(b, "ASM1", 4))
        return;
    m->attr = (uint16_t)(b[4] << 8 | b[5]);
    uint16_t fl = (uint16_t)(b[6] << 8 | b[7]);
    m->has_cdate = fl & 1;
    m->has_bdate = fl & 2;
    m->has_finfo = fl & 4;
    m->cdate = (int32_t)((uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11]);
    m->bdate = (int32_t)((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
    memcpy(m->finfo, b + 16, 32);
}

int meta_set(const char *path, const struct meta *m)
{
    uint8_t b[META_LEN];
    uint16_t fl = (uint16_t)((m->has_cdate ? 1 : 0) | (m->has_bdate ? 2 : 0) | (m->has_finfo ? 4 : 0));
    memcpy(b, "ASM1", 4);
    b[4] = (uint8_t)(m->attr >> 8);
    b[5] = (uint8_t)m->attr;
    b[6] = (uint8_t)(fl >> 8);
    b[7] = (uint8_t)fl;
    for (int i = 0; i < 4; i++) {
        b[8 + i] = (uint8_t)((uint32_t)m->cdate >> (24 - 8 * i));
        b[12 + i] = (uint8_t)((uint32_t)m->bdate >> (24 - 8 * i));
    }
    memcpy(b + 16, m->finfo, 32);
    if (lsetxattr(path, META_XATTR, b, sizeof(b), 0))
        return -errno;
    return 0;
}

/* ------------------------------------------------------------- paths */

bool node_dir_path(const struct volume *v, uint32_t id, char *out, size_t outsz)
{
    char names[64][AFPSIM_NAME_MAX + 1];
    char (*many)[AFPSIM_NAME_MAX + 1] = names;
    size_t n = 0, cap = 64;
    bool ok = true;
    while (id != CNID_ROOT) {
        uint32_t parent;
        if (n == cap) {
            if (cap >= 4096) {
                ok = false;
                break;
            }
            char (*bigger)[AFPSIM_NAME_MAX + 1] = g_malloc(cap * 2 * sizeof(*bigger));
            memcpy(bigger, many, n * sizeof(*bigger));
            if (many != names)
                g_free(many);
            many = bigger;
            cap *= 2;
        }
        if (!cnid_lookup(v->id, id, &parent, many[n], sizeof(many[n]))) {
            ok = false;
            break;
        }
        n++;
        id = parent;
    }
    if (ok) {
        size_t len = strlen(v->path);
        if (len >= outsz)
            ok = false;
        else
            memcpy(out, v->path, len + 1);
        for (size_t i = n; ok && i-- > 0;) {
            size_t l = strlen(many[i]);
            if (len + 1 + l >= outsz) {
                ok = false;
                break;
            }
            out[len++] = '/';
            memcpy(out + len, many[i], l + 1);
            len += l;
        }
    }
    if (many != names)
        g_free(many);
    return ok;
}

int32_t node_from(const struct volume *v, uint32_t parent, const char *name, struct node *n)
{
    memset(n, 0, sizeof(*n));
    n->vol = v;
    if (parent == CNID_ROOT_PARENT) {
        /* the volume root */
        n->parent = CNID_ROOT_PARENT;
        g_strlcpy(n->path, v->path, sizeof(n->path));
        n->name[0] = '\0';
        if (lstat(n->path, &n->st))
            return errno_to_afp(errno);
        n->exists = true;
        n->id = CNID_ROOT;
        return kFPNoErr;
    }
    char dir[4096];
    if (!node_dir_path(v, parent, dir, sizeof(dir)))
        return kFPObjectNotFound;
    n->parent = parent;
    g_strlcpy(n->name, name, sizeof(n->name));
    if ((size_t)snprintf(n->path, sizeof(n->path), "%s/%s", dir, name) >= sizeof(n->path))
        return kFPParamErr;
    if (lstat(n->path, &n->st) == 0) {
        n->exists = true;
        n->id = cnid_get(v->id, parent, name);
        if (!n->id)
            return kFPMiscErr;
    } else if (errno != ENOENT) {
        return errno_to_afp(errno);
    }
    return kFPNoErr;
}

/* One name component: '/' (AFP) becomes ':' (backing); "." and ".." and
 * names with NUL are refused. */
static int32_t map_name(const uint8_t *p, size_t len, char *out, size_t outsz)
{
    if (len > AFPSIM_NAME_MAX || len >= outsz)
        return kFPParamErr;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == 0)
            return kFPParamErr;
        out[i] = p[i] == '/' ? ':' : (char)p[i];
    }
    out[len] = '\0';
    if (!strcmp(out, ".") || !strcmp(out, ".."))
        return kFPObjectNotFound;
    /* Names are kept precomposed (NFC), as netatalk keeps them (seen on
     * 3.1.12 and 4.2.3): a name sent decomposed (NFD, as macOS sends it)
     * finds the same file, and a listing gives a name that opens. */
    if (g_utf8_validate(out, -1, NULL)) {
        gchar *nfc = g_utf8_normalize(out, -1, G_NORMALIZE_NFC);
        if (nfc && strlen(nfc) < outsz)
            memcpy(out, nfc, strlen(nfc) + 1);
        g_free(nfc);
    }
    return kFPNoErr;
}

static int read_path_bytes(struct afp_reader *r, const uint8_t **p, size_t *len)
{
    uint8_t type;
    if (afp_read_u8(r, &type))
        return -1;
    if (type == kFPUTF8Name) {
        uint32_t hint;
        uint16_t l;
        if (afp_read_u32(r, &hint) || afp_read_u16(r, &l) || afp_read_view(r, l, p))
            return -1;
        *len = l;
        return 0;
    }
    if (type == kFPShortName || type == kFPLongName)
        return afp_read_pstring_view(r, p, len);
    return -1;
}

int32_t read_afp_name(struct afp_reader *r, char *out, size_t outsz, bool allow_empty)
{
    const uint8_t *p;
    size_t len;
    if (read_path_bytes(r, &p, &len))
        return kFPParamErr;
    if (len == 0) {
        if (!allow_empty)
            return kFPParamErr;
        out[0] = '\0';
        return kFPNoErr;
    }
    int32_t rc = map_name(p, len, out, outsz);
    return rc == kFPObjectNotFound ? kFPParamErr : rc;
}

enum tok { T_NAME, T_UP };

int32_t node_resolve(struct session *s, const struct volume *v, uint32_t dir_id,
                     struct afp_reader *r, struct node *out)
{
    const uint8_t *p;
    size_t len;
    if (read_path_bytes(r, &p, &len))
        return kFPParamErr;

    /* Tokens: a name, or "up" for a NUL that follows a separator NUL. */
    struct { enum tok t; size_t off, len; } toks[256];
    size_t nt = 0;
    enum { S_START, S_NAME, S_SEP } st = S_START;
    for (size_t i = 0; i < len;) {
        if (nt == G_N_ELEMENTS(toks))
            return kFPParamErr;
        if (p[i] == 0) {
            if (st == S_SEP)
                toks[nt++] = (typeof(toks[0])){ T_UP, 0, 0 };
            st = S_SEP;
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && p[j])
            j++;
        toks[nt++] = (typeof(toks[0])){ T_NAME, i, j - i };
        st = S_NAME;
        i = j;
    }

    uint32_t cur = dir_id;
    size_t first = 0;
    if (dir_id == CNID_ROOT_PARENT) {
        /* Relative to the parent of the root: the first name is the volume's. */
        char vname[AFPSIM_NAME_MAX + 1];
        if (nt == 0 || toks[0].t != T_NAME ||
            map_name(p + toks[0].off, toks[0].len, vname, sizeof(vname)) != kFPNoErr ||
            g_ascii_strcasecmp(vname, v->name))
            return kFPObjectNotFound;
        cur = CNID_ROOT;
        first = 1;
    }
    char path[4096];
    if (!node_dir_path(v, cur, path, sizeof(path)))
        return kFPObjectNotFound;
    struct stat sb;
    if (lstat(path, &sb) || !S_ISDIR(sb.st_mode))
        return kFPObjectNotFound;

    for (size_t i = first; i < nt; i++) {
        bool last = i + 1 == nt;
        if (toks[i].t == T_UP) {
            uint32_t parent;
            char dummy[AFPSIM_NAME_MAX + 1];
            if (cur == CNID_ROOT || !cnid_lookup(v->id, cur, &parent, dummy, sizeof(dummy)))
                return kFPObjectNotFound;
            cur = parent;
            continue;
        }
        char name[AFPSIM_NAME_MAX + 1];
        int32_t rc = map_name(p + toks[i].off, toks[i].len, name, sizeof(name));
        if (rc)
            return rc;
        if (last)
            return node_from(v, cur, name, out);
        struct node d;
        rc = node_from(v, cur, name, &d);
        if (rc)
            return rc;
        if (!d.exists)
            return kFPObjectNotFound;
        /* "file/x": netatalk 3.1.12 and 4.2.3 answer kFPParamErr */
        if (S_ISREG(d.st.st_mode))
            return s->p->through_file_error;
        if (!S_ISDIR(d.st.st_mode))
            return kFPObjectNotFound;
        cur = d.id;
    }
    /* The path named a directory itself (empty, or ending in "up"). */
    if (cur == CNID_ROOT)
        return node_from(v, CNID_ROOT_PARENT, "", out);
    uint32_t parent;
    char name[AFPSIM_NAME_MAX + 1];
    if (!cnid_lookup(v->id, cur, &parent, name, sizeof(name)))
        return kFPObjectNotFound;
    int32_t rc = node_from(v, parent, name, out);
    if (rc == kFPNoErr && !out->exists)
        return kFPObjectNotFound;
    return rc;
}

/* --------------------------------------------------------- parameters */

bool params_bitmap_ok(bool is_dir, uint16_t bitmap)
{
    if (is_dir)
        return !(bitmap & 0x4000);
    return !(bitmap & kFPLaunchLimitBit);
}

static unsigned offspring(const char *path)
{
    DIR *d = opendir(path);
    unsigned n = 0;
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n > 0xffff ? 0xffff : n;
}

/* Mac Roman "long name" (31 bytes) or short name (12): ASCII names that
 * fit are kept; others become a readable prefix, '#' and the node ID. */
static void legacy_name(const char *afpname, uint32_t id, size_t max, char *out)
{
    size_t len = strlen(afpname);
    bool ascii = true;
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)afpname[i] < 0x20 || (uint8_t)afpname[i] > 0x7e)
            ascii = false;
    if (ascii && len <= max) {
        memcpy(out, afpname, len + 1);
        return;
    }
    char tag[16];
    int tl = snprintf(tag, sizeof(tag), "#%X", id);
    size_t keep = max - (size_t)tl, o = 0;
    for (size_t i = 0; i < len && o < keep; i++) {
        uint8_t c = (uint8_t)afpname[i];
        if (c >= 0x20 && c <= 0x7e)
            out[o++] = (char)c;
    }
    memcpy(out + o, tag, (size_t)tl + 1);
}

/* A u16 offset field, 0 until patch_offset_here fills it in; returns where
 * it is. */
static size_t reserve_offset(struct afp_writer *w)
{
    size_t at = w->len;
    afp_write_u16(w, 0);
    return at;
}

/* Points the u16 offset field at `at` to the end of w: a variable-length
 * field follows there (offsets count from `start`, where the block began). */
static void patch_offset_here(struct afp_writer *w, size_t at, size_t start)
{
    afp_writer_patch_u16(w, at, (uint16_t)(w->len - start));
}

/* The long (max 31) or short (max 12) name after the block, for the offset
 * field at `at`. */
static void put_legacy_name(struct afp_writer *w, size_t at, size_t start, const char *afpname,
                            uint32_t id, size_t max)
{
    char name[32];
    legacy_name(afpname, id, max, name);
    patch_offset_here(w, at, start);
    afp_write_pstring(w, name);
}

int32_t params_put(struct session *s, struct afp_writer *w, const struct node *n, uint16_t bitmap)
{
    bool dir = S_ISDIR(n->st.st_mode);
    if (!params_bitmap_ok(dir, bitmap))
        return kFPBitmapErr;
    struct meta m;
    meta_get(n->path, &m);
    char afpname[AFPSIM_NAME_MAX + 1];
    if (n->id == CNID_ROOT)
        g_strlcpy(afpname, n->vol->name, sizeof(afpname));
    else
        for (size_t i = 0;; i++) {
            afpname[i] = n->name[i] == ':' ? '/' : n->name[i];
            if (!n->name[i])
                break;
        }
    size_t start = w->len;
    size_t off_long = 0, off_short = 0, off_utf8 = 0;

    for (unsigned bit = 0; bit < 16; bit++) {
        uint16_t b = (uint16_t)(1u << bit);
        if (!(bitmap & b))
            continue;
        switch (b) {
        case kFPAttributeBit:
            afp_write_u16(w, m.attr & (uint16_t)~kFPSetClearBit);
            break;
        case kFPParentDirIDBit:
            afp_write_u32(w, n->parent);
            break;
        case kFPCreateDateBit:
            afp_write_u32(w, (uint32_t)(m.has_cdate ? m.cdate : afp_date(n->st.st_mtime)));
            break;
        case kFPModDateBit:
            afp_write_u32(w, (uint32_t)afp_date(n->st.st_mtime));
            break;
        case kFPBackupDateBit:
            afp_write_u32(w, (uint32_t)(m.has_bdate ? m.bdate : AFP_DATE_NEVER));
            break;
        case kFPFinderInfoBit: {
            uint8_t fi[32] = { 0 };
            if (S_ISLNK(n->st.st_mode))
                memcpy(fi, AFPSIM_SYMLINK_FINFO, 8);    /* type and creator, as netatalk reports links */
            else if (m.has_finfo)
                memcpy(fi, m.finfo, 32);
            else if (!dir)
                fi[8] = 0x01;   /* fdFlags kHasBeenInited, as netatalk reports (a21) */
            afp_write_bytes(w, fi, 32);
            break;
        }
        case kFPLongNameBit:
            off_long = reserve_offset(w);
            break;
        case kFPShortNameBit:
            off_short = reserve_offset(w);
            break;
        case kFPNodeIDBit:
            afp_write_u32(w, n->id);
            break;
        case 0x0200:    /* files: data fork length; dirs: offspring count */
            if (dir)
                afp_write_u16(w, (uint16_t)offspring(n->path));
            else
                afp_write_u32(w, n->st.st_size > (off_t)UINT32_MAX ? UINT32_MAX : (uint32_t)n->st.st_size);
            break;
        case 0x0400:    /* files: resource fork length; dirs: owner ID */
            afp_write_u32(w, dir ? (uint32_t)n->st.st_uid : 0);
            break;
        case 0x0800:    /* files: ext data fork length; dirs: group ID */
            if (dir)
                afp_write_u32(w, (uint32_t)n->st.st_gid);
            else
                afp_write_u64(w, (uint64_t)n->st.st_size);
            break;
        case 0x1000:    /* dirs: access rights (files: refused above) */
            afp_write_u32(w, ua_rights(s, &n->st));
            break;
        case kFPUTF8NameBit:
            off_utf8 = reserve_offset(w);
            afp_write_u32(w, 0);
            break;
        case kFPExtRsrcForkLenBit:  /* files only (dirs refused above) */
            afp_write_u64(w, 0);
            break;
        case kFPUnixPrivsBit:
            afp_write_u32(w, (uint32_t)n->st.st_uid);
            afp_write_u32(w, (uint32_t)n->st.st_gid);
            /* netatalk never reports a directory's S_ISGID (it sets it itself) */
            afp_write_u32(w, (uint32_t)(dir && s->p->dir_setgid ? n->st.st_mode & ~(mode_t)S_ISGID
                                                                : n->st.st_mode));
            afp_write_u32(w, ua_rights(s, &n->st));
            break;
        }
    }
    if (afp_writer_error(w))
        return kFPMiscErr;
    bool bad = session_hostile(s, H_BADOFFSET);
    if (off_long)
        put_legacy_name(w, off_long, start, afpname, n->id, 31);
    /* AFP 3.x has no short names: netatalk (3.1.12, 4.2.3 with AFP 3.4)
     * leaves the offset 0 */
    if (off_short && s->afp_version < 30)
        put_legacy_name(w, off_short, start, afpname, n->id, 12);
    if (off_utf8) {
        afp_writer_patch_u16(w, off_utf8, bad ? 0xfff0 : (uint16_t)(w->len - start));
        size_t l = strlen(afpname);
        afp_write_u32(w, 0);
        afp_write_u16(w, (uint16_t)l);
        afp_write_bytes(w, afpname, l);
    }
    return afp_writer_error(w) ? kFPMiscErr : kFPNoErr;
}

void enum_cache_drop(struct session *s)
{
    if (s->ecache.names)
        g_ptr_array_free(s->ecache.names, TRUE);
    s->ecache.names = NULL;
}

/* ---------------------------------------------------- volume commands */

int32_t cmd_getsrvrparms(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    (void)r;
    afp_write_u32(w, (uint32_t)afp_now());
    size_t at = w->len;
    uint8_t n = 0;
    afp_write_u8(w, 0);
    /* netatalk listed its volumes in reverse configuration order (p03). */
    for (size_t i = s->srv->n_vols; i-- > 0;) {
        const struct volume *v = &s->srv->vols[i];
        if (!vol_visible(s, v))
            continue;
        afp_write_u8(w, 0);
        afp_write_pstring(w, v->name);
        n++;
    }
    if (!afp_writer_error(w))
        w->buf[at] = n;
    return kFPNoErr;
}

int32_t cmd_getsrvrmsg(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint16_t type, bitmap;
    if (afp_read_head(r, NULL, NULL, &type) || afp_read_u16(r, &bitmap))
        return kFPParamErr;
    if (type > 1)
        return kFPParamErr;
    const char *msg = type == 0 ? s->p->login_message : s->server_message;
    if (!msg)
        msg = "";
    size_t l = strlen(msg);
    afp_write_u16(w, type);
    afp_write_u16(w, bitmap);
    if (bitmap & 0x0002) {
        afp_write_u16(w, (uint16_t)(l > 199 ? 199 : l));
        afp_write_bytes(w, msg, l > 199 ? 199 : l);
    } else {
        afp_write_pstring_n(w, msg, l > 199 ? 199 : l);
    }
    return kFPNoErr;
}

static int32_t volparms_put(struct session *s, struct afp_writer *w, const struct volume *v,
                            uint16_t bitmap)
{
    struct stat st;
    struct statvfs sv;
    if (bitmap & ~0x0fffu)
        return kFPBitmapErr;
    if (stat(v->path, &st))
        return errno_to_afp(errno);
    if (statvfs(v->path, &sv))
        memset(&sv, 0, sizeof(sv));
    uint64_t bfree = (uint64_t)sv.f_bavail * sv.f_frsize, btotal = (uint64_t)sv.f_blocks * sv.f_frsize;
    size_t start = w->len, off_name = 0;
    afp_write_u16(w, bitmap);
    start = w->len;
    for (unsigned bit = 0; bit < 12; bit++) {
        uint16_t b = (uint16_t)(1u << bit);
        if (!(bitmap & b))
            continue;
        switch (b) {
        case kFPVolAttributeBit:
            afp_write_u16(w, (uint16_t)(s->p->vol_attributes | (v->ro ? kReadOnly : 0)));
            break;
        case kFPVolSignatureBit:
            afp_write_u16(w, 2);        /* fixed directory IDs */
            break;
        case kFPVolCreateDateBit:
        case kFPVolModDateBit:
            afp_write_u32(w, (uint32_t)afp_date(st.st_mtime));
            break;
        case kFPVolBackupDateBit:
            afp_write_u32(w, (uint32_t)AFP_DATE_NEVER);
            break;
        case kFPVolIDBit:
            afp_write_u16(w, v->id);
            break;
        case kFPVolBytesFreeBit:
            afp_write_u32(w, bfree > UINT32_MAX ? UINT32_MAX : (uint32_t)bfree);
            break;
        case kFPVolBytesTotalBit:
            afp_write_u32(w, btotal > UINT32_MAX ? UINT32_MAX : (uint32_t)btotal);
            break;
        case kFPVolNameBit:
            off_name = reserve_offset(w);
            break;
        case kFPVolExtBytesFreeBit:
            afp_write_u64(w, bfree);
            break;
        case kFPVolExtBytesTotalBit:
            afp_write_u64(w, btotal);
            break;
        case kFPVolBlockSizeBit:
            afp_write_u32(w, (uint32_t)(sv.f_bsize ? sv.f_bsize : 4096));
            break;
        }
    }
    if (afp_writer_error(w))
        return kFPMiscErr;
    if (off_name) {
        patch_offset_here(w, off_name, start);
        afp_write_pstring(w, v->name);
    }
    return afp_writer_error(w) ? kFPMiscErr : kFPNoErr;
}

int32_t cmd_openvol(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint16_t bitmap;
    char name[256];
    if (afp_read_head(r, NULL, NULL, &bitmap) || afp_read_pstring(r, name, sizeof(name)))
        return kFPParamErr;
    /* an optional 8-byte volume password may follow; afpsim has none */
    for (size_t i = 0; i < s->srv->n_vols; i++) {
        const struct volume *v = &s->srv->vols[i];
        if (g_ascii_strcasecmp(v->name, name))
            continue;
        if (!vol_visible(s, v)) {
            log_msg(LOG_INFO, "%s: volume %s refused to %s", s->peer, v->name,
                    s->guest ? "guest" : s->user);
            return kFPObjectNotFound;
        }
        int32_t rc = volparms_put(s, w, v, bitmap);
        if (rc == kFPNoErr) {
            s->vol_open[i] = true;
            log_msg(LOG_INFO, "%s: opened volume %s", s->peer, v->name);
        }
        return rc;
    }
    return kFPObjectNotFound;
}

int32_t cmd_closevol(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    int32_t err;
    (void)w;
    const struct volume *v = vol_head(s, r, NULL, &err);
    if (!v)
        return err;
    forks_close(s, v->id);
    s->vol_open[v->id - 1] = false;
    enum_cache_drop(s);
    return kFPNoErr;
}

int32_t cmd_getvolparms(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint16_t bitmap;
    int32_t err;
    const struct volume *v = vol_head(s, r, NULL, &err);
    if (!v)
        return err;
    if (afp_read_u16(r, &bitmap))
        return kFPParamErr;
    return volparms_put(s, w, v, bitmap);
}

int32_t cmd_flush(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    int32_t err;
    (void)w;
    return vol_head(s, r, NULL, &err) ? kFPNoErr : err;
}
