/* libsmbclient loaded on first use (smb_lib.h). */
#include <dlfcn.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "smb_lib.h"

#include "sharesfs/dynlib.h"

struct smb_lib smb_lib;

/* smb_lib_warm_caches's converters, never closed. */
static iconv_t smb_lib_kept_charsets[2];

/* libsmbclient's soname in Debian 12 (package libsmbclient; libsmbclient0
 * from trixie on) and in every Samba since 3.2. */
#define SMB_LIB_SONAME "libsmbclient.so.0"

static pthread_once_t smb_lib_once = PTHREAD_ONCE_INIT;
static const char *smb_lib_error;   /* why it did not load; NULL once loaded */
static char smb_lib_error_buf[256];

/* libsmbclient makes a tevent context for every synchronous call (about
 * 20 per probed entry, one per FUSE read or write).  Its default backend,
 * epoll, pays epoll_create, fcntl and an epoll_ctl per fd for each; poll
 * pays nothing until it waits, and each context watches one socket
 * (measured: 110 syscalls and about 0.2 ms of CPU fewer per probed entry,
 * docs/performance.md).  tevent is libsmbclient's own dependency; a
 * Samba without the call keeps epoll. */
static void smb_lib_use_poll_events(void)
{
    void (*set_default_backend)(const char *) =
        (void (*)(const char *))dlsym(RTLD_DEFAULT, "tevent_set_default_backend");
    if (set_default_backend)
        set_default_backend("poll");
}

static void smb_lib_load(void)
{
    static const char *const names[] = {SMB_LIB_FUNCTIONS(SFS_DYNLIB_NAME)};
    void *syms[sizeof(names) / sizeof(names[0])];
    /* RTLD_GLOBAL: Samba's own modules (gensec, charsets) and afptest's
     * preinit look up symbols of the libraries it brought in. */
    smb_lib_error = sfs_dynlib_load(SMB_LIB_SONAME, RTLD_NOW | RTLD_GLOBAL, names, syms,
                                    sizeof(names) / sizeof(names[0]), smb_lib_error_buf, sizeof(smb_lib_error_buf));
    if (smb_lib_error)
        return;
    smb_lib_use_poll_events();
    size_t i = 0;
#define SMB_LIB_ASSIGN(name) *(void **)&smb_lib.name = syms[i++];
    SMB_LIB_FUNCTIONS(SMB_LIB_ASSIGN)
#undef SMB_LIB_ASSIGN
}

int smb_lib_open(enum sfs_stage stage, struct sfs_status *st)
{
    pthread_once(&smb_lib_once, smb_lib_load);
    if (!smb_lib_error)
        return 0;
    return sfs_status_set(st, stage, ELIBACC, SFS_DOMAIN_SYS, ELIBACC, "cannot load libsmbclient: %s",
                          smb_lib_error);
}

/* ---- one-time set-up ahead of a prober's forks (smb_lib.h) ---- */

/* Samba's thread hooks (lib/util/smb_threads.h), filled with pthreads as
 * smbc_thread_posix would: Debian exports only smb_thread_set_functions,
 * of libsamba-util. */
struct smb_thread_fns {
    int (*create_mutex)(const char *name, void **lock, const char *where);
    void (*destroy_mutex)(void *lock, const char *where);
    int (*lock_mutex)(void *lock, int type, const char *where);
    int (*create_tls)(const char *name, void **key, const char *where);
    void (*destroy_tls)(void **key, const char *where);
    int (*set_tls)(void *key, const void *value, const char *where);
    void *(*get_tls)(void *key, const char *where);
};

static int smb_tf_create_mutex(const char *name, void **lock, const char *where)
{
    (void)name;
    (void)where;
    pthread_mutex_t *m = malloc(sizeof(*m));
    if (!m)
        return ENOMEM;
    pthread_mutex_init(m, NULL);
    *lock = m;
    return 0;
}

static void smb_tf_destroy_mutex(void *lock, const char *where)
{
    (void)where;
    pthread_mutex_destroy(lock);
    free(lock);
}

static int smb_tf_lock(void *lock, int type, const char *where)
{
    (void)where;
    return type == 2 ? pthread_mutex_unlock(lock) : pthread_mutex_lock(lock);
}

static int smb_tf_create_tls(const char *name, void **key, const char *where)
{
    (void)name;
    (void)where;
    pthread_key_t *k = malloc(sizeof(*k));
    if (!k)
        return ENOMEM;
    int rc = pthread_key_create(k, NULL);
    if (rc) {
        free(k);
        return rc;
    }
    *key = k;
    return 0;
}

static void smb_tf_destroy_tls(void **key, const char *where)
{
    (void)where;
    pthread_key_delete(*(pthread_key_t *)*key);
    free(*key);
    *key = NULL;
}

static int smb_tf_set_tls(void *key, const void *value, const char *where)
{
    (void)where;
    return pthread_setspecific(*(pthread_key_t *)key, value);
}

/* NULL before the key exists: talloc_stackframe asks before it creates it. */
static void *smb_tf_get_tls(void *key, const char *where)
{
    (void)where;
    return key ? pthread_getspecific(*(pthread_key_t *)key) : NULL;
}

void smb_lib_use_pthreads(void)
{
    static const struct smb_thread_fns tf = {smb_tf_create_mutex, smb_tf_destroy_mutex, smb_tf_lock,
                                             smb_tf_create_tls, smb_tf_destroy_tls, smb_tf_set_tls,
                                             smb_tf_get_tls};
    const void *const *global_tfp = dlsym(RTLD_DEFAULT, "global_tfp");
    int (*set_functions)(const struct smb_thread_fns *) =
        (int (*)(const struct smb_thread_fns *))dlsym(RTLD_DEFAULT, "smb_thread_set_functions");
    if (global_tfp && !*global_tfp && set_functions)
        set_functions(&tf);
}

void smb_lib_warm_caches(void)
{
    uint32_t (*gensec_init)(void) = (uint32_t (*)(void))dlsym(RTLD_DEFAULT, "gensec_init");
    if (gensec_init)
        gensec_init();
    bool (*robust_check)(void) = (bool (*)(void))dlsym(RTLD_DEFAULT, "tdb_runtime_check_for_robust_mutexes");
    if (robust_check)
        robust_check();
    /* gencache.tdb (the name cache a login reads first), opened by the
     * first gencache_get: in a child that opened it alone, the open
     * initialised its 10,000 chain mutexes each time. */
    bool (*gencache_get)(const char *key, void *mem_ctx, char **value, time_t *timeout) =
        (bool (*)(const char *, void *, char **, time_t *))dlsym(RTLD_DEFAULT, "gencache_get");
    if (gencache_get)
        gencache_get("SHARESFS/PREINIT", NULL, NULL, NULL);
    /* The glibc converters libsmbclient opens for its charsets (UTF-16LE on
     * the wire, the default dos charset CP850), kept open so that they stay
     * loaded. */
    smb_lib_kept_charsets[0] = iconv_open("UTF-16LE", "UTF-8");
    smb_lib_kept_charsets[1] = iconv_open("CP850", "UTF-8");
}

/* The smb.conf last applied, as it was on disk then (smb_lib_configure). */
static bool smb_lib_config_kept;
static struct {
    char *path;
    struct stat st;
} smb_lib_config_loaded;

void smb_lib_keep_config(void)
{
    smb_lib_config_kept = true;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int smb_lib_configure(SMBCCTX *ctx, const char *path)
{
    struct stat st;
    bool known = stat(path, &st) == 0;
    if (known && smb_lib_config_kept && smb_lib_config_loaded.path &&
        strcmp(smb_lib_config_loaded.path, path) == 0 && same_file_state(&smb_lib_config_loaded.st, &st))
        return 0;
    free(smb_lib_config_loaded.path);
    smb_lib_config_loaded.path = NULL;
    if (smb_lib.smbc_setConfiguration(ctx, path) < 0)
        return -1;
    if (known) {
        smb_lib_config_loaded.path = strdup(path);
        smb_lib_config_loaded.st = st;
    }
    return 0;
}
