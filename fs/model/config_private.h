#ifndef SHARESFS_MODEL_CONFIG_PRIVATE_H
#define SHARESFS_MODEL_CONFIG_PRIVATE_H

#include <glib.h>
#include <stdbool.h>

#include "sharesfs/config.h"

struct sfs_config {
    GKeyFile *kf;        /* NULL when no file was loaded */
    char *path;
    int timeout_ms;
};

#endif
