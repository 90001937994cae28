/* libsmbclient loaded on first use (smb_lib.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "smb_lib.h"

struct smb_lib smb_lib;

/* The soname of Debian 12's libsmbclient0 (and of every release since
 * Samba 3.2). */
#define SMB_LIB_SONAME "libsmbclient.so.0"

static pthread_once_t smb_lib_once = PTHREAD_ONCE_INIT;
static const char *smb_lib_error;   /* why it did not load; NULL once loaded */
static char smb_lib_error_buf[256];

static void smb_lib_load(void)
{
    /* RTLD_GLOBAL: Samba's own modules (gensec, charsets) and afptest's
     * preinit look up symbols of the libraries it brought in. */
    void *h = dlopen(SMB_LIB_SONAME, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(smb_lib_error_buf, sizeof(smb_lib_error_buf), "%s", e ? e : "dlopen failed");
        smb_lib_error = smb_lib_error_buf;
        return;
    }
    struct smb_lib lib;
#define SMB_LIB_RESOLVE(name)                                                                            \
    *(void **)&lib.name = dlsym(h, #name);                                                               \
    if (!lib.name) {                                                                                     \
        snprintf(smb_lib_error_buf, sizeof(smb_lib_error_buf), "%s has no %s", SMB_LIB_SONAME, #name);   \
        smb_lib_error = smb_lib_error_buf;                                                               \
        return;                                                                                          \
    }
    SMB_LIB_FUNCTIONS(SMB_LIB_RESOLVE)
#undef SMB_LIB_RESOLVE
    smb_lib = lib;
}

int smb_lib_open(enum sfs_stage stage, struct sfs_status *st)
{
    pthread_once(&smb_lib_once, smb_lib_load);
    if (!smb_lib_error)
        return 0;
    return sfs_status_set(st, stage, ELIBACC, SFS_DOMAIN_SYS, ELIBACC, "cannot load libsmbclient: %s",
                          smb_lib_error);
}
