/* Catalog commands: FPGetFileDirParms, FPSetFileDirParms (and the older
 * FPSetFileParms / FPSetDirParms), FPEnumerateExt2 / FPEnumerateExt,
 * FPCreateFile, FPCreateDir, FPDelete, FPRename, FPMoveAndRename. */
#include "afpsim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* u8 cmd, u8 flag, u16 volume, u32 directory: the head of most requests.
 * flag may be NULL. */
static int32_t read_head(struct session *s, struct afp_reader *r, uint8_t *flag,
                         const struct volume **v, uint32_t *dir)
{
    int32_t err;
    if (!(*v = vol_head(s, r, flag, &err)))
        return err;
    if (afp_read_u32(r, dir) || *dir == 0)
        return kFPParamErr;
    return kFPNoErr;
}

/* The common head and the path it names: the node (which may not exist;
 * n->vol is the volume).  flag may be NULL. */
static int32_t read_head_node(struct session *s, struct afp_reader *r, uint8_t *flag, struct node *n)
{
    const struct volume *v;
    uint32_t dir;
    int32_t rc = read_head(s, r, flag, &v, &dir);
    return rc ? rc : node_resolve(s, v, dir, r, n);
}

/* lstat of the directory that holds n. */
static int32_t parent_stat(const struct node *n, struct stat *st)
{
    char path[4096];
    if (n->parent == CNID_ROOT_PARENT)
        return kFPAccessDenied;        /* nothing can be done to the root itself */
    if (!node_dir_path(n->vol, n->parent, path, sizeof(path)))
        return kFPObjectNotFound;
    if (lstat(path, st))
        return errno_to_afp(errno);
    return kFPNoErr;
}

static int32_t check_parent_write(struct session *s, const struct node *n)
{
    struct stat pst;
    int32_t rc = parent_stat(n, &pst);
    return rc ? rc : check_write(s, n->vol, &pst);
}

/* 0 when this session may delete or rename n (an existing node that is
 * not the root: root_err), else why not. */
static int32_t check_unlink(struct session *s, const struct node *n, int32_t root_err)
{
    if (!n->exists)
        return kFPObjectNotFound;
    if (n->id == CNID_ROOT)
        return root_err;
    return check_parent_write(s, n);
}

static bool fork_open_on(struct session *s, const struct node *n)
{
    for (size_t i = 0; i < AFPSIM_MAX_FORKS; i++)
        if (s->forks[i].used && s->forks[i].vol == n->vol->id && s->forks[i].id == n->id)
            return true;
    return false;
}

int32_t cmd_getfiledirparms(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    const struct volume *v;
    uint32_t dir;
    uint16_t fbm, dbm;
    struct node n;
    int32_t rc = read_head(s, r, NULL, &v, &dir);
    if (rc)
        return rc;
    if (afp_read_u16(r, &fbm) || afp_read_u16(r, &dbm))
        return kFPParamErr;
    if ((rc = node_resolve(s, v, dir, r, &n)))
        return rc;
    if (!n.exists)
        return kFPObjectNotFound;
    bool is_dir = S_ISDIR(n.st.st_mode);
    if (!params_bitmap_ok(false, fbm) || !params_bitmap_ok(true, dbm))
        return kFPBitmapErr;
    afp_write_u16(w, fbm);
    afp_write_u16(w, dbm);
    afp_write_u8(w, is_dir ? 0x80 : 0x00);
    afp_write_u8(w, 0);
    return params_put(s, w, &n, is_dir ? dbm : fbm);
}

/* The contents of a plain file as a link target (no NUL, shorter than
 * PATH_MAX); false when they cannot be one. */
static bool file_contents_as_target(const char *path, char *target, size_t cap)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t len = 0;
    ssize_t k;
    while (len < cap && (k = read(fd, target + len, cap - len)) > 0)
        len += (size_t)k;
    close(fd);
    if (len == 0 || len >= cap || memchr(target, 0, len))
        return false;
    target[len] = '\0';
    return true;
}

/* As netatalk does: Finder info 'slnk'/'rhap' set on a plain file turns
 * it into a symbolic link to the file's contents.  The link replaces the
 * file by rename, so a failure leaves the file as it was. */
static int32_t file_to_symlink(struct node *n)
{
    char target[PATH_MAX], tmp[4096 + 64];
    if (!file_contents_as_target(n->path, target, sizeof(target)))
        return kFPBitmapErr;    /* netatalk's answer when it cannot make the link */
    const char *slash = strrchr(n->path, '/');
    int dlen = slash ? (int)(slash - n->path) : 0;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s/.afpsim-link-%d", dlen, n->path, (int)getpid()) >= sizeof(tmp))
        return kFPParamErr;
    unlink(tmp);
    if (symlink(target, tmp))
        return errno_to_afp(errno);
    if (rename(tmp, n->path)) {
        int e = errno;
        unlink(tmp);
        return errno_to_afp(e);
    }
    if (lstat(n->path, &n->st))
        return errno_to_afp(errno);
    return kFPNoErr;
}

int32_t cmd_setfiledirparms(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    const struct volume *v;
    uint32_t dir;
    uint16_t bm;
    struct node n;
    (void)w;
    int32_t rc = read_head(s, r, NULL, &v, &dir);
    if (rc)
        return rc;
    if (afp_read_u16(r, &bm))
        return kFPParamErr;
    if ((rc = node_resolve(s, v, dir, r, &n)))
        return rc;
    if (afp_read_align2(r))
        return kFPParamErr;
    if (!n.exists)
        return kFPObjectNotFound;
    bool is_dir = S_ISDIR(n.st.st_mode);
    uint16_t allowed = kFPAttributeBit | kFPCreateDateBit | kFPModDateBit | kFPBackupDateBit |
                       kFPFinderInfoBit | kFPUnixPrivsBit;
    if (is_dir)
        allowed |= kFPOwnerIDBit | kFPGroupIDBit | kFPAccessRightsBit;
    if (bm & ~allowed)
        return kFPBitmapErr;

    uint16_t attr = 0;
    uint32_t cdate = 0, mdate = 0, bdate = 0, owner = 0, group = 0, rights = 0;
    uint8_t finfo[32];
    struct afp_unix_privs up = { 0 };
    bool ok = true;
    if (bm & kFPAttributeBit) ok &= !afp_read_u16(r, &attr);
    if (bm & kFPCreateDateBit) ok &= !afp_read_u32(r, &cdate);
    if (bm & kFPModDateBit) ok &= !afp_read_u32(r, &mdate);
    if (bm & kFPBackupDateBit) ok &= !afp_read_u32(r, &bdate);
    if (bm & kFPFinderInfoBit) ok &= !afp_read_bytes(r, finfo, 32);
    if (is_dir && (bm & kFPOwnerIDBit)) ok &= !afp_read_u32(r, &owner);
    if (is_dir && (bm & kFPGroupIDBit)) ok &= !afp_read_u32(r, &group);
    if (is_dir && (bm & kFPAccessRightsBit)) ok &= !afp_read_u32(r, &rights);
    if (bm & kFPUnixPrivsBit)
        ok &= !afp_read_u32(r, &up.uid) && !afp_read_u32(r, &up.gid) &&
              !afp_read_u32(r, &up.mode) && !afp_read_u32(r, &up.ua_rights);
    if (!ok)
        return kFPParamErr;
    if ((rc = check_write(s, v, &n.st)))
        return rc;
    if ((bm & kFPFinderInfoBit) && S_ISREG(n.st.st_mode) && !memcmp(finfo, AFPSIM_SYMLINK_FINFO, 8) &&
        (rc = file_to_symlink(&n)))
        return rc;

    /* A link's Finder info is implied, and Linux keeps no user xattrs on links. */
    if (!S_ISLNK(n.st.st_mode) &&
        (bm & (kFPAttributeBit | kFPCreateDateBit | kFPBackupDateBit | kFPFinderInfoBit))) {
        struct meta m;
        meta_get(n.path, &m);
        if (bm & kFPAttributeBit) {
            if (attr & kFPSetClearBit)
                m.attr |= attr & (uint16_t)~kFPSetClearBit;
            else
                m.attr &= (uint16_t)~attr;
        }
        if (bm & kFPCreateDateBit) {
            m.has_cdate = true;
            m.cdate = (int32_t)cdate;
        }
        if (bm & kFPBackupDateBit) {
            m.has_bdate = true;
            m.bdate = (int32_t)bdate;
        }
        if (bm & kFPFinderInfoBit) {
            m.has_finfo = true;
            memcpy(m.finfo, finfo, 32);
        }
        int e = meta_set(n.path, &m);
        if (e)
            log_msg(LOG_DEBUG, "%s: cannot keep metadata of %s: %s", s->peer, n.path, strerror(-e));
    }
    if (bm & kFPUnixPrivsBit) {
        mode_t mode = up.mode & 07777;
        /* netatalk's setdirunixmode() adds S_ISGID (DIRBITS) on disk */
        if (is_dir && s->p->dir_setgid)
            mode |= S_ISGID;
        if (!S_ISLNK(n.st.st_mode) && chmod(n.path, mode))
            return errno_to_afp(errno);
        if ((up.uid != (uint32_t)n.st.st_uid || up.gid != (uint32_t)n.st.st_gid) &&
            lchown(n.path, (uid_t)up.uid, (gid_t)up.gid))
            return kFPAccessDenied;
    }
    if (is_dir && (bm & (kFPOwnerIDBit | kFPGroupIDBit))) {
        uid_t u = (bm & kFPOwnerIDBit) ? (uid_t)owner : (uid_t)-1;
        gid_t g = (bm & kFPGroupIDBit) ? (gid_t)group : (gid_t)-1;
        if (lchown(n.path, u, g))
            return kFPAccessDenied;
    }
    if (bm & kFPModDateBit) {
        struct timespec ts[2] = {
            { .tv_nsec = UTIME_OMIT },
            { .tv_sec = (time_t)(int32_t)mdate + AFP_DATE_EPOCH_DELTA, .tv_nsec = 0 },
        };
        if (utimensat(AT_FDCWD, n.path, ts, AT_SYMLINK_NOFOLLOW))
            return errno_to_afp(errno);
    }
    return kFPNoErr;
}

static GPtrArray *list_dir(const char *path, int *err)
{
    DIR *d = opendir(path);
    if (!d) {
        *err = errno;
        return NULL;
    }
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (strlen(de->d_name) > AFPSIM_NAME_MAX)
            continue;
        g_ptr_array_add(a, g_strdup(de->d_name));
    }
    closedir(d);
    return a;
}

int32_t cmd_enumerate(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    const struct volume *v;
    uint32_t dir;
    uint64_t start, maxreply;
    uint16_t fbm, dbm, reqcount;
    struct node n;
    int32_t rc = read_head(s, r, NULL, &v, &dir);
    if (rc)
        return rc;
    /* start index and reply size: u32 in FPEnumerateExt2, else u16 */
    size_t width = s->afp_cmd == kFPEnumerateExt2 ? 4 : 2;
    if (afp_read_u16(r, &fbm) || afp_read_u16(r, &dbm) || afp_read_u16(r, &reqcount) ||
        afp_read_uint(r, width, &start) || afp_read_uint(r, width, &maxreply))
        return kFPParamErr;
    if ((rc = node_resolve(s, v, dir, r, &n)))
        return rc;
    if (!n.exists)
        return kFPObjectNotFound;
    if (!S_ISDIR(n.st.st_mode))
        return kFPObjectTypeErr;
    if (!fbm && !dbm)
        return kFPBitmapErr;
    if (!params_bitmap_ok(false, fbm) || !params_bitmap_ok(true, dbm))
        return kFPBitmapErr;
    if (start == 0 || reqcount == 0)
        return kFPParamErr;
    if (!(node_rights(s, &n.st) & 0x02))
        return kFPAccessDenied;

    /* The listing is kept between calls, so that continuation indexes
     * refer to the same order. */
    if (!s->ecache.names || s->ecache.vol != v->id || s->ecache.dir != n.id || start == 1) {
        int err = 0;
        enum_cache_drop(s);
        s->ecache.names = list_dir(n.path, &err);
        if (!s->ecache.names)
            return errno_to_afp(err);
        s->ecache.vol = v->id;
        s->ecache.dir = n.id;
    }
    GPtrArray *names = s->ecache.names;
    if (start > names->len)
        return kFPObjectNotFound;

    if (maxreply > s->p->server_quantum)
        maxreply = s->p->server_quantum;
    afp_write_u16(w, fbm);
    afp_write_u16(w, dbm);
    size_t count_at = w->len;
    afp_write_u16(w, 0);
    uint16_t count = 0;
    struct afp_writer e;
    afp_writer_init(&e);
    for (uint32_t i = (uint32_t)start - 1; i < names->len && count < reqcount; i++) {
        struct node c;
        const char *name = g_ptr_array_index(names, i);
        if (node_from(v, n.id, name, &c) || !c.exists)
            continue;       /* vanished since the listing */
        bool cdir = S_ISDIR(c.st.st_mode);
        afp_writer_reset(&e);
        afp_write_u16(&e, 0);
        afp_write_u8(&e, cdir ? 0x80 : 0x00);
        afp_write_u8(&e, 0);
        /* Offsets in the block are relative to the block, which starts
         * after the 4-byte entry header: build it in a writer of its own. */
        struct afp_writer blk;
        afp_writer_init(&blk);
        rc = params_put(s, &blk, &c, cdir ? dbm : fbm);
        if (rc) {
            afp_writer_free(&blk);
            afp_writer_free(&e);
            return rc;
        }
        afp_write_bytes(&e, blk.buf, blk.len);
        afp_writer_free(&blk);
        afp_write_pad_even(&e);
        if (afp_writer_error(&e) || e.len > 0xffff) {
            afp_writer_free(&e);
            return kFPMiscErr;
        }
        uint16_t elen = (uint16_t)e.len;
        if (session_hostile(s, H_BADOFFSET) && count == 0)
            elen = (uint16_t)(e.len + 4096);    /* entry longer than the reply */
        e.buf[0] = (uint8_t)(elen >> 8);
        e.buf[1] = (uint8_t)elen;
        if (w->len + e.len > maxreply)
            break;
        afp_write_bytes(w, e.buf, e.len);
        count++;
    }
    afp_writer_free(&e);
    if (count == 0)
        return kFPParamErr;     /* not even one entry fits in maxreply */
    uint16_t wire_count = count;
    if (session_hostile(s, H_BADCOUNT))
        wire_count = (uint16_t)(count + 5);
    afp_writer_patch_u16(w, count_at, wire_count);
    return kFPNoErr;
}

/* A new file or directory belongs to the session's user, as in netatalk,
 * whose afpd runs as the user: the user's primary group, or the parent's
 * group below a set-group-ID directory (the kernel already chose it). */
static void new_object_owner(struct session *s, const struct node *n, int fd)
{
    if (!s->has_ids)
        return;
    struct stat pst;
    gid_t gid = s->gid;
    if (parent_stat(n, &pst) == kFPNoErr && (pst.st_mode & S_ISGID))
        gid = (gid_t)-1;
    int rc = fd >= 0 ? fchown(fd, s->uid, gid) : lchown(n->path, s->uid, gid);
    if (rc)
        log_msg(LOG_DEBUG, "%s: chown %s: %s", s->peer, n->path, strerror(errno));
}

int32_t cmd_createfile(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint8_t flag;
    struct node n;
    (void)w;
    int32_t rc = read_head_node(s, r, &flag, &n);
    if (rc)
        return rc;
    if (n.id == CNID_ROOT)
        return kFPObjectExists;
    if ((rc = check_parent_write(s, &n)))
        return rc;
    bool hard = flag & AFP_CREATE_HARD;
    if (n.exists) {
        if (!hard)
            return kFPObjectExists;
        if (S_ISDIR(n.st.st_mode))
            return kFPObjectTypeErr;
        if (fork_open_on(s, &n))
            return kFPFileBusy;
    }
    mode_t mode = 0666 & ~(mode_t)s->p->umask;
    int fd = open(n.path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (hard ? O_TRUNC : O_EXCL), mode);
    if (fd < 0)
        return errno_to_afp(errno);
    if (!n.exists) {
        /* Not afpsim's own umask: the volume's (netatalk: "umask", 0000). */
        new_object_owner(s, &n, fd);
        if (fchmod(fd, mode))
            log_msg(LOG_DEBUG, "%s: chmod %s: %s", s->peer, n.path, strerror(errno));
        /* netatalk keeps zero Finder info for a file it creates; only
         * files made outside AFP get the default with kHasBeenInited. */
        struct meta m = { .has_finfo = true };
        int e = meta_set(n.path, &m);
        if (e)
            log_msg(LOG_DEBUG, "%s: cannot keep metadata of %s: %s", s->peer, n.path, strerror(-e));
    }
    close(fd);
    enum_cache_drop(s);
    return cnid_get(n.vol->id, n.parent, n.name) ? kFPNoErr : kFPMiscErr;
}

int32_t cmd_createdir(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    struct node n;
    int32_t rc = read_head_node(s, r, NULL, &n);
    if (rc)
        return rc;
    if (n.exists)
        return kFPObjectExists;
    if ((rc = check_parent_write(s, &n)))
        return rc;
    mode_t mode = 0777 & ~(mode_t)s->p->umask;
    if (mkdir(n.path, mode))
        return errno_to_afp(errno);
    new_object_owner(s, &n, -1);
    struct stat st;
    /* (S_ISGID inherited from the parent stays, as the kernel set it) */
    if (lstat(n.path, &st) == 0 && S_ISDIR(st.st_mode) && chmod(n.path, mode | (st.st_mode & S_ISGID)))
        log_msg(LOG_DEBUG, "%s: chmod %s: %s", s->peer, n.path, strerror(errno));
    enum_cache_drop(s);
    uint32_t id = cnid_get(n.vol->id, n.parent, n.name);
    if (!id)
        return kFPMiscErr;
    afp_write_u32(w, id);
    return kFPNoErr;
}

int32_t cmd_delete(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    struct node n;
    (void)w;
    int32_t rc = read_head_node(s, r, NULL, &n);
    if (rc || (rc = check_unlink(s, &n, kFPAccessDenied)))
        return rc;
    if (S_ISDIR(n.st.st_mode)) {
        if (rmdir(n.path))
            return errno == EEXIST ? kFPDirNotEmpty : errno_to_afp(errno);
    } else {
        if (fork_open_on(s, &n))
            return kFPFileBusy;
        if (unlink(n.path))
            return errno_to_afp(errno);
    }
    cnid_remove(n.vol->id, n.id);
    enum_cache_drop(s);
    return kFPNoErr;
}

static int32_t do_move(struct session *s, const struct node *src, uint32_t dst_dir,
                       const char *dst_dir_path, const char *new_name)
{
    char dst[4096];
    if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", dst_dir_path, new_name) >= sizeof(dst))
        return kFPParamErr;
    if (!strcmp(dst, src->path))
        return kFPNoErr;
    if (renameat2(AT_FDCWD, src->path, AT_FDCWD, dst, RENAME_NOREPLACE)) {
        if (errno == EEXIST)
            return kFPObjectExists;
        if (errno == EINVAL)
            return kFPCantMove;
        return errno_to_afp(errno);
    }
    cnid_move(src->vol->id, src->id, dst_dir, new_name);
    enum_cache_drop(s);
    return kFPNoErr;
}

int32_t cmd_rename(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    struct node n;
    char newname[AFPSIM_NAME_MAX + 1];
    (void)w;
    int32_t rc = read_head_node(s, r, NULL, &n);
    if (rc || (rc = read_afp_name(r, newname, sizeof(newname), false)) ||
        (rc = check_unlink(s, &n, kFPCantRename)))
        return rc;
    char pdir[4096];
    if (!node_dir_path(n.vol, n.parent, pdir, sizeof(pdir)))
        return kFPObjectNotFound;
    return do_move(s, &n, n.parent, pdir, newname);
}

int32_t cmd_moveandrename(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    const struct volume *v;
    uint32_t sdir, ddir;
    struct node src, dst;
    char newname[AFPSIM_NAME_MAX + 1];
    (void)w;
    int32_t rc = read_head(s, r, NULL, &v, &sdir);
    if (rc)
        return rc;
    if (afp_read_u32(r, &ddir) || ddir == 0)
        return kFPParamErr;
    if ((rc = node_resolve(s, v, sdir, r, &src)))
        return rc;
    if ((rc = node_resolve(s, v, ddir, r, &dst)))
        return rc == kFPObjectNotFound ? kFPDirNotFound : rc;
    if ((rc = read_afp_name(r, newname, sizeof(newname), true)))
        return rc;
    if (!src.exists)
        return kFPObjectNotFound;
    if (!dst.exists || !S_ISDIR(dst.st.st_mode))
        return kFPDirNotFound;
    if (src.id == CNID_ROOT)
        return kFPCantMove;
    if (!*newname)
        g_strlcpy(newname, src.name, sizeof(newname));
    if (S_ISDIR(src.st.st_mode)) {
        /* not into itself or below */
        uint32_t cur = dst.id;
        for (int depth = 0; cur != CNID_ROOT && cur != CNID_ROOT_PARENT && depth < 4096; depth++) {
            if (cur == src.id)
                return kFPCantMove;
            uint32_t parent;
            char name[AFPSIM_NAME_MAX + 1];
            if (!cnid_lookup(v->id, cur, &parent, name, sizeof(name)))
                break;
            cur = parent;
        }
        if (dst.id == src.id)
            return kFPCantMove;
    }
    if ((rc = check_parent_write(s, &src)) || (rc = check_write(s, v, &dst.st)))
        return rc;
    return do_move(s, &src, dst.id, dst.path, newname);
}
