/* Libraries loaded on first use (dlopen), not linked, so a process that
 * never needs one does not pay for loading it: libsmbclient
 * (fs/smb/smb_lib.c), libldap (fs/directory/dir_ldap_lib.c).  Each lists
 * its functions once as an X-macro. */
#ifndef SHARESFS_DYNLIB_H
#define SHARESFS_DYNLIB_H

#include <stddef.h>

/* Opens SONAME with FLAGS (RTLD_*) and looks up NAMES[0..N) into SYMS[]:
 * NULL, or why not (dlerror's text, or "SONAME has no NAME"), written to
 * ERR (LEN bytes) and returned.  SYMS is complete only on success. */
const char *sfs_dynlib_load(const char *soname, int flags, const char *const *names, void **syms, size_t n,
                            char *err, size_t len);

/* For an X-macro list of functions: their names as strings. */
#define SFS_DYNLIB_NAME(name) #name,

#endif
