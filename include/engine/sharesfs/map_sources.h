/* A map with its directory sources read: the map file (or ldap:// argument)
 * through the model's loader, then each directory reference it recorded
 * (+auto_master, -fstab, -static, ldap:DN) fetched from the LDAP server of
 * the reference or of sharesfs.conf's [directory], and merged in.  One
 * search per server and base; sharesfs and afptest both load maps here. */
#ifndef SHARESFS_MAP_SOURCES_H
#define SHARESFS_MAP_SOURCES_H

#include "sharesfs/config.h"
#include "sharesfs/map.h"

/* Returns what sfs_map_load returns (a file that cannot be parsed is an
 * error).  A directory that cannot be read is not: its reference is marked
 * resolved with the failure in its status (stage map, resolve or connect;
 * domain ldap, krb5 or map), and the map holds everything else. */
int sfs_engine_map_load(const char *path, const char *root, const struct sfs_config *cfg, struct sfs_map *out,
                        struct sfs_parse_error *err);

/* Number of directory references that failed. */
size_t sfs_map_failed_sources(const struct sfs_map *map);

#endif
