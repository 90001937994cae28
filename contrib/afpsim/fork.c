/* Fork commands: FPOpenFork, FPCloseFork, FPFlushFork, FPGetForkParms,
 * FPSetForkParms, FPRead / FPReadExt, FPWrite / FPWriteExt.
 *
 * Reads stream the data after the DSI header (no buffering of the whole
 * reply).  As netatalk does (a21), a read that reaches the end of the file
 * before the requested count returns the bytes it got together with
 * kFPEOFErr (-5009); a read of exactly the bytes left returns kFPNoErr (p02).
 * Resource forks are empty and read-only here. */
#include "afpsim.h"

#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)

static struct fork *fork_get(struct session *s, uint16_t ref)
{
    if (ref < s->p->first_fork)
        return NULL;
    size_t i = (size_t)(ref - s->p->first_fork);
    if (i >= AFPSIM_MAX_FORKS || !s->forks[i].used)
        return NULL;
    return &s->forks[i];
}

static void fork_release(struct fork *f)
{
    if (f->fd >= 0)
        close(f->fd);
    g_free(f->name);
    memset(f, 0, sizeof(*f));
    f->fd = -1;
}

void forks_close(struct session *s, uint16_t vol)
{
    for (size_t i = 0; i < AFPSIM_MAX_FORKS; i++)
        if (s->forks[i].used && (!vol || s->forks[i].vol == vol))
            fork_release(&s->forks[i]);
}

/* The node a fork was opened on, where it is now (it may have moved). */
static int32_t fork_node(struct session *s, const struct fork *f, struct node *n)
{
    const struct volume *v = &s->srv->vols[f->vol - 1];
    uint32_t parent = f->parent;
    char name[AFPSIM_NAME_MAX + 1];
    if (cnid_lookup(f->vol, f->id, &parent, name, sizeof(name)))
        return node_from(v, parent, name, n);
    return node_from(v, f->parent, f->name, n);
}

/* A read-only fd whose contents are the link's target. */
static int symlink_as_fd(const char *path)
{
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof(target));
    if (n < 0)
        return -1;
    int fd = memfd_create("afpsim-symlink", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (write(fd, target, (size_t)n) != n) {
        close(fd);
        errno = EIO;
        return -1;
    }
    return fd;
}

int32_t cmd_openfork(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint8_t flag;
    uint16_t bitmap, access;
    uint32_t dir;
    int32_t rc;
    struct node n;
    const struct volume *v = vol_head(s, r, &flag, &rc);
    if (!v)
        return rc;
    if (afp_read_u32(r, &dir) || afp_read_u16(r, &bitmap) || afp_read_u16(r, &access))
        return kFPParamErr;
    if ((rc = node_resolve(s, v, dir, r, &n)))
        return rc;
    if (!n.exists)
        return kFPObjectNotFound;
    if (S_ISDIR(n.st.st_mode))
        return kFPObjectTypeErr;
    if (!params_bitmap_ok(false, bitmap))
        return kFPBitmapErr;
    bool rsrc = flag & AFP_FORK_RSRC;
    if ((access & kFPForkRead) && !(node_rights(s, &n.st) & 0x02))
        return kFPAccessDenied;
    if (access & kFPForkWrite) {
        if ((rc = check_write(s, v, &n.st)))
            return rc;
        if (rsrc)
            return kFPAccessDenied;
    }
    size_t i;
    for (i = 0; i < AFPSIM_MAX_FORKS; i++)
        if (!s->forks[i].used)
            break;
    if (i == AFPSIM_MAX_FORKS)
        return kFPTooManyFilesOpen;
    int fd = -1;
    if (!rsrc && S_ISLNK(n.st.st_mode)) {
        /* As netatalk does: a symlink's data fork is its target. */
        if (access & kFPForkWrite)
            return kFPObjectTypeErr;
        if ((fd = symlink_as_fd(n.path)) < 0)
            return errno_to_afp(errno);
    } else if (!rsrc) {
        fd = open(n.path, ((access & kFPForkWrite) ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return errno == ELOOP ? kFPObjectTypeErr : errno_to_afp(errno);
    }
    uint16_t ref = (uint16_t)(s->p->first_fork + i);
    afp_write_u16(w, bitmap);
    afp_write_u16(w, ref);
    rc = params_put(s, w, &n, bitmap);
    if (rc) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    struct fork *f = &s->forks[i];
    f->used = true;
    f->fd = fd;
    f->rsrc = rsrc;
    f->access = access;
    f->vol = v->id;
    f->id = n.id;
    f->parent = n.parent;
    f->name = g_strdup(n.name);
    return kFPNoErr;
}

/* u8 command, u8 flag or pad, u16 fork reference. */
static int32_t read_fork_ref(struct afp_reader *r, uint16_t *ref)
{
    return afp_read_head(r, NULL, NULL, ref) ? kFPParamErr : kFPNoErr;
}

/* Offset and count: u64 each in the Ext commands, else u32. */
static int32_t read_range(struct afp_reader *r, bool ext, uint64_t *off, uint64_t *count)
{
    size_t width = ext ? 8 : 4;
    return afp_read_uint(r, width, off) || afp_read_uint(r, width, count) ? kFPParamErr : kFPNoErr;
}

/* The open fork a request's head names, or NULL (kFPParamErr). */
static struct fork *request_fork(struct session *s, struct afp_reader *r)
{
    uint16_t ref;
    return read_fork_ref(r, &ref) ? NULL : fork_get(s, ref);
}

int32_t cmd_closefork(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    (void)w;
    struct fork *f = request_fork(s, r);
    if (!f)
        return kFPParamErr;
    fork_release(f);
    return kFPNoErr;
}

int32_t cmd_flushfork(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    (void)w;
    struct fork *f = request_fork(s, r);
    if (!f)
        return kFPParamErr;
    if (f->fd >= 0 && (f->access & kFPForkWrite) && fdatasync(f->fd))
        return errno_to_afp(errno);
    return kFPNoErr;
}

int32_t cmd_getforkparms(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint16_t ref, bitmap;
    struct node n;
    int32_t rc;
    if (read_fork_ref(r, &ref) || afp_read_u16(r, &bitmap))
        return kFPParamErr;
    struct fork *f = fork_get(s, ref);
    if (!f)
        return kFPParamErr;
    if (!params_bitmap_ok(false, bitmap))
        return kFPBitmapErr;
    if ((rc = fork_node(s, f, &n)))
        return rc;
    if (!n.exists)
        return kFPObjectNotFound;
    if (f->fd >= 0)
        fstat(f->fd, &n.st);    /* the open file, whatever its name now */
    afp_write_u16(w, bitmap);
    return params_put(s, w, &n, bitmap);
}

int32_t cmd_setforkparms(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint16_t ref, bitmap;
    uint64_t len = 0;
    (void)w;
    if (read_fork_ref(r, &ref) || afp_read_u16(r, &bitmap))
        return kFPParamErr;
    struct fork *f = fork_get(s, ref);
    if (!f)
        return kFPParamErr;
    if (bitmap == kFPDataForkLenBit || bitmap == kFPRsrcForkLenBit) {
        uint32_t l32;
        if (afp_read_u32(r, &l32))
            return kFPParamErr;
        len = l32;
    } else if (bitmap == kFPExtDataForkLenBit || bitmap == kFPExtRsrcForkLenBit) {
        if (afp_read_u64(r, &len))
            return kFPParamErr;
    } else {
        return kFPBitmapErr;
    }
    bool rsrc_bit = bitmap == kFPRsrcForkLenBit || bitmap == kFPExtRsrcForkLenBit;
    if (rsrc_bit != f->rsrc)
        return kFPBitmapErr;
    if (!(f->access & kFPForkWrite))
        return kFPAccessDenied;
    if (f->rsrc)
        return len == 0 ? kFPNoErr : kFPAccessDenied;
    if (len > INT64_MAX)
        return kFPParamErr;
    if (ftruncate(f->fd, (off_t)len))
        return errno == EFBIG ? s->p->efbig_error : errno_to_afp(errno);
    return kFPNoErr;
}

int32_t cmd_read(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint16_t ref;
    uint64_t off, count;
    (void)w;
    if (read_fork_ref(r, &ref) || read_range(r, s->afp_cmd == kFPReadExt, &off, &count))
        return kFPParamErr;
    struct fork *f = fork_get(s, ref);
    if (!f)
        return kFPParamErr;
    if (!(f->access & kFPForkRead))
        return kFPAccessDenied;
    if (off > INT64_MAX || count > INT64_MAX)
        return kFPParamErr;
    uint64_t size = 0;
    if (f->fd >= 0) {
        struct stat st;
        if (fstat(f->fd, &st))
            return errno_to_afp(errno);
        size = (uint64_t)st.st_size;
    }
    if (count == 0)
        return kFPNoErr;
    if (off >= size)
        return kFPEOFErr;
    uint64_t n = size - off < count ? size - off : count;
    int32_t code = n < count ? kFPEOFErr : kFPNoErr;
    uint64_t extra = 0;
    if (session_hostile(s, H_OVERSIZE_READ)) {
        extra = 4096;
        code = kFPNoErr;
    }
    if (s->afp_cmd == kFPRead && n + extra > 0x7fffffff)
        n = 0x7fffffff - extra;

    /* How much may go out before a hostile cut. */
    uint64_t limit = UINT64_MAX;
    bool stall = false, cut = false;
    if (session_hostile(s, H_STALL_READ)) {
        uint64_t left = s->p->hostile.after_bytes > s->read_bytes_sent
                        ? s->p->hostile.after_bytes - s->read_bytes_sent : 0;
        if (left < n + extra) {
            limit = left;
            stall = true;
        }
    }
    if (session_hostile(s, H_TRUNCATE)) {
        uint64_t c = (n + extra) / 2;
        if (s->p->hostile.after_bytes < c)
            c = s->p->hostile.after_bytes;
        if (c < limit) {
            limit = c;
            cut = true;
            stall = false;
        }
    }
    if (!session_reply_stream_begin(s, code, n + extra))
        return AFPSIM_REPLY_SENT;

    static uint8_t *buf;
    if (!buf)
        buf = g_malloc(READ_CHUNK);
    uint64_t sent = 0, total = n + extra;
    while (sent < total) {
        size_t chunk = total - sent < READ_CHUNK ? (size_t)(total - sent) : READ_CHUNK;
        if (sent + chunk > limit)
            chunk = (size_t)(limit - sent);
        if (chunk == 0)
            break;
        size_t got = 0;
        while (got < chunk && f->fd >= 0 && sent + got < n) {
            size_t want = chunk - got;
            if (sent + got + want > n)
                want = (size_t)(n - sent - got);
            ssize_t k = pread(f->fd, buf + got, want, (off_t)(off + sent + got));
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;      /* the file shrank: the promised length is padded */
            got += (size_t)k;
        }
        if (got < chunk)
            memset(buf + got, extra ? 0xa5 : 0, chunk - got);
        session_send_raw(s, buf, chunk);
        sent += chunk;
        s->read_bytes_sent += chunk;
    }
    if (stall && sent < total)
        session_stall(s);
    if (cut && sent < total)
        session_abort(s, "truncated read reply, connection closed");
    return AFPSIM_REPLY_SENT;
}

int32_t cmd_write(struct session *s, struct afp_reader *r, struct afp_writer *w)
{
    uint8_t flag;
    uint16_t ref;
    uint64_t off, count;
    bool ext = s->afp_cmd == kFPWriteExt;
    size_t hdr = ext ? 20 : 12;
    if (afp_read_head(r, NULL, &flag, &ref) || read_range(r, ext, &off, &count))
        return kFPParamErr;
    size_t data_off = (size_t)s->req.code;
    if (data_off < hdr || data_off > s->req.length)
        return kFPParamErr;
    const uint8_t *data = s->in + data_off;
    size_t avail = s->req.length - data_off;
    struct fork *f = fork_get(s, ref);
    if (!f)
        return kFPParamErr;
    if (!(f->access & kFPForkWrite) || f->fd < 0)
        return kFPAccessDenied;
    if (count > avail)
        count = avail;      /* only what came with the request can be written */
    if (session_hostile(s, H_SHORT_WRITE))
        count /= 2;         /* a short write: the reply says where it ended */
    int64_t start = (int64_t)off;
    if (flag & AFP_WRITE_FROM_END) {
        struct stat st;
        if (fstat(f->fd, &st))
            return errno_to_afp(errno);
        start = (int64_t)st.st_size + (int64_t)off;
    } else if (off > INT64_MAX) {
        return kFPParamErr;
    }
    if (start < 0 || (uint64_t)start + count > INT64_MAX)
        return kFPParamErr;
    size_t done = 0;
    while (done < count) {
        ssize_t k = pwrite(f->fd, data + done, (size_t)count - done, (off_t)((uint64_t)start + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return errno_to_afp(k < 0 ? errno : ENOSPC);
        done += (size_t)k;
    }
    uint64_t end = (uint64_t)start + done;
    if (ext)
        afp_write_u64(w, end);
    else
        afp_write_u32(w, end > UINT32_MAX ? UINT32_MAX : (uint32_t)end);
    return kFPNoErr;
}
