/* libldap on first use (dir_ldap_lib.h). */
#include "dir_ldap_lib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "sharesfs/dynlib.h"

/* The soname of the libldap whose headers we were built with: OpenLDAP
 * 2.4 and 2.5 versioned the library's name (Debian 12: libldap-2.5.so.0),
 * 2.6 dropped that (Debian 13: libldap.so.2). */
#if LDAP_VENDOR_VERSION_MAJOR == 2 && LDAP_VENDOR_VERSION_MINOR == 4
#define DIR_LDAP_SONAME "libldap-2.4.so.2"
#elif LDAP_VENDOR_VERSION_MAJOR == 2 && LDAP_VENDOR_VERSION_MINOR == 5
#define DIR_LDAP_SONAME "libldap-2.5.so.0"
#elif LDAP_VENDOR_VERSION_MAJOR == 2 && LDAP_VENDOR_VERSION_MINOR >= 6
#define DIR_LDAP_SONAME "libldap.so.2"
#else
#error "unknown OpenLDAP version: which soname does its libldap have?"
#endif

struct dir_ldap_lib dir_ldap;

static pthread_once_t dir_ldap_once = PTHREAD_ONCE_INIT;
static const char *dir_ldap_error;   /* why it did not load; NULL once loaded */
static char dir_ldap_error_buf[256];

static void dir_ldap_load(void)
{
    static const char *const names[] = {DIR_LDAP_FUNCTIONS(SFS_DYNLIB_NAME)};
    void *syms[sizeof(names) / sizeof(names[0])];
    /* RTLD_LOCAL: nothing else looks up libldap's symbols by name; its own
     * dependencies (liblber, SASL, GnuTLS) come with it. */
    dir_ldap_error = sfs_dynlib_load(DIR_LDAP_SONAME, RTLD_NOW | RTLD_LOCAL, names, syms,
                                     sizeof(names) / sizeof(names[0]), dir_ldap_error_buf, sizeof(dir_ldap_error_buf));
    if (dir_ldap_error)
        return;
    size_t i = 0;
#define DIR_LDAP_ASSIGN(name) *(void **)&dir_ldap.name = syms[i++];
    DIR_LDAP_FUNCTIONS(DIR_LDAP_ASSIGN)
#undef DIR_LDAP_ASSIGN
}

int dir_ldap_lib_open(struct sfs_status *st)
{
    pthread_once(&dir_ldap_once, dir_ldap_load);
    if (!dir_ldap_error)
        return 0;
    return sfs_status_set(st, SFS_STAGE_MAP, ELIBACC, SFS_DOMAIN_SYS, ELIBACC, "cannot load libldap: %s",
                          dir_ldap_error);
}
