/* dlopen and dlsym for the libraries loaded on first use (dynlib.h). */
#include "sharesfs/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>

const char *sfs_dynlib_load(const char *soname, int flags, const char *const *names, void **syms, size_t n,
                            char *err, size_t len)
{
    void *h = dlopen(soname, flags);
    if (!h) {
        const char *e = dlerror();
        snprintf(err, len, "%s", e ? e : "dlopen failed");
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        syms[i] = dlsym(h, names[i]);
        if (!syms[i]) {
            snprintf(err, len, "%s has no %s", soname, names[i]);
            return err;   /* the handle stays open: a failed load is not retried */
        }
    }
    return NULL;
}
