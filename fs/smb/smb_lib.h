/* libsmbclient, loaded by the first SMB login of a process (dlopen), not
 * linked: a process that never logs in to SMB itself (the FUSE process,
 * whose SMB keys live in worker processes; afptest with only AFP
 * entries) does not map it and the ~100 Samba libraries it pulls in.
 * Every libsmbclient function the backend calls is listed here once and
 * called as smb_lib.NAME(...); the compiler checks each pointer against
 * libsmbclient.h. */
#ifndef SFS_SMB_LIB_H
#define SFS_SMB_LIB_H

#include <libsmbclient.h>

#include "sharesfs/status.h"

#define SMB_LIB_FUNCTIONS(X)                                                                                     \
    X(smbc_new_context) X(smbc_init_context) X(smbc_free_context) X(smbc_setConfiguration)                      \
    X(smbc_setOptionNoAutoAnonymousLogin) X(smbc_setFunctionAuthDataWithContext) X(smbc_setOptionUserData)      \
    X(smbc_getOptionUserData) X(smbc_setTimeout) X(smbc_setPort) X(smbc_setOptionProtocols)                     \
    X(smbc_setOptionUseKerberos) X(smbc_setOptionFallbackAfterKerberos) X(smbc_setOptionUseCCache)              \
    X(smbc_setLogCallback) X(smbc_setDebug) X(smbc_getFunctionOpen) X(smbc_getFunctionClose)                    \
    X(smbc_getFunctionRead) X(smbc_getFunctionWrite) X(smbc_getFunctionLseek) X(smbc_getFunctionFtruncate)      \
    X(smbc_getFunctionStat) X(smbc_getFunctionFstat) X(smbc_getFunctionStatVFS) X(smbc_getFunctionFstatVFS)    \
    X(smbc_getFunctionOpendir) X(smbc_getFunctionClosedir) X(smbc_getFunctionReaddirPlus2)                     \
    X(smbc_getFunctionMkdir) X(smbc_getFunctionRmdir) X(smbc_getFunctionUnlink) X(smbc_getFunctionRename)      \
    X(smbc_getFunctionChmod) X(smbc_getFunctionUtimes)

struct smb_lib {
#define SMB_LIB_POINTER(name) __typeof__(name) *name;
    SMB_LIB_FUNCTIONS(SMB_LIB_POINTER)
#undef SMB_LIB_POINTER
};

/* Filled by smb_lib_open; NULL pointers before. */
extern struct smb_lib smb_lib;

/* Loads libsmbclient once per process (later calls return at once):
 * 0, or -ELIBACC with *ST (stage STAGE) naming the library and why it
 * did not load.  Thread-safe.  Also makes tevent's poll backend the
 * default, before libsmbclient creates any event context (smb_lib.c). */
int smb_lib_open(enum sfs_stage stage, struct sfs_status *st);

/* For a process that forks a child per connection (the backend's preinit),
 * after smb_lib_open and before any other libsmbclient call; each is
 * skipped where this libsmbclient lacks the Samba symbol it needs.
 * smb_lib_use_pthreads: Samba's thread hooks set to pthreads.  Without
 * them libsmbclient runs its module set-up (smb.conf, the interfaces, the
 * logs, a failing dlopen of libgpfs) in every smbc_new_context, and talloc
 * stack frames stay process-wide.  smb_lib_warm_caches, once a context
 * exists: what a first login would otherwise do in every child (the
 * gensec modules, tdb's robust-mutex test, which forks, gencache, the
 * charset converters). */
void smb_lib_use_pthreads(void);
void smb_lib_warm_caches(void);

/* smbc_setConfiguration(CTX, PATH), which parses PATH into libsmbclient's
 * process-wide settings (measured per probed entry: 0.15 ms of CPU for the
 * lab's 9-line client config, 0.3 ms for Debian's default smb.conf).
 * Once smb_lib_keep_config() has been called, a PATH that is the file
 * loaded last and unchanged on disk (device, inode, size, mtime, ctime)
 * is not parsed again.  A changed file is: libsmbclient then overwrites
 * what it sets and keeps what it no longer sets, as it always did.
 * 0, or -1 when libsmbclient refuses the file (missing, unreadable, or a
 * line its parser stops at).  Callers hold the backend's library lock. */
int smb_lib_configure(SMBCCTX *ctx, const char *path);
/* For a process that keeps one context for its whole life (the backend's
 * preinit): without it the last smbc_free_context ends libsmbclient's
 * module set-up, the next smbc_new_context loads the default smb.conf
 * again, and PATH must then be applied every time. */
void smb_lib_keep_config(void);

#endif
