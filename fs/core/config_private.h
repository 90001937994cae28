#ifndef SHARESFS_CORE_CONFIG_PRIVATE_H
#define SHARESFS_CORE_CONFIG_PRIVATE_H

#include <glib.h>
#include <stdbool.h>

#include "sharesfs/config.h"

struct sfs_config {
    GKeyFile *kf;        /* NULL when no file was loaded */
    char *path;
    int timeout_ms;
};

/* A string setting for ENTRY_KEY ("[entry KEY]" first, then [global]); caller frees. */
char *sfs_config_string(const struct sfs_config *cfg, const char *entry_key, const char *name);
/* Boolean setting likewise; DEF when unset. */
bool sfs_config_bool(const struct sfs_config *cfg, const char *entry_key, const char *name, bool def);

#endif
