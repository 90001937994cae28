/* File, directory and volume parameter blocks, shared by FPGetFileDirParms,
 * FPEnumerateExt2, FPOpenFork, FPSetFileDirParms, FPOpenVol, FPGetVolParms.
 *
 * A parameter block holds the fields its bitmap selects, in bit order.
 * Names are stored elsewhere in the block: the fixed part holds a u16
 * offset, relative to the start of the block (for kFPUTF8NameBit the offset
 * is followed by 4 reserved bytes, and the name there is an AFPName: u32
 * text encoding hint, u16 length, bytes). */
#ifndef SHARESFS_AFP_PARAMS_H
#define SHARESFS_AFP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "afp_buf.h"
#include "afp_path.h"
#include "afp_proto.h"

/* AFP dates are signed seconds since 2000-01-01 00:00 UTC. */
time_t afp_date_to_time(int32_t afp_date);
/* Clamps to the representable range; AFP_DATE_NEVER is never produced. */
int32_t afp_date_from_time(time_t t);

/* A file or directory as described by a parameter block. */
struct afp_node {
    bool is_dir;
    uint16_t bitmap;            /* the fields below that were present */
    uint16_t attributes;
    uint32_t parent_id;
    int32_t create_date, mod_date, backup_date;   /* raw AFP dates */
    uint8_t finder_info[32];
    uint32_t node_id;           /* CNID; the directory ID for directories */
    uint64_t data_fork_len;     /* files: from kFPExtDataForkLenBit or kFPDataForkLenBit */
    uint64_t rsrc_fork_len;
    uint16_t offspring_count;   /* directories */
    uint32_t owner_id, group_id;
    uint32_t access_rights;
    struct afp_unix_privs unix_privs;
    char long_name[256];        /* Mac Roman, as sent */
    char short_name[256];
    uint32_t name_hint;         /* the UTF-8 name's text encoding hint */
    size_t name_len;
    char name[AFP_NAME_MAX + 1];   /* UTF-8 name (AFP form; see afp_name_to_posix) */
};

/* Decodes one file (is_dir false) or directory parameter block of exactly
 * len bytes.  Names pointed at must lie inside the block.  A bit this code
 * cannot size (kFPLaunchLimitBit, bit 14 for directories, any unknown
 * bit) is -EPROTO: the rest of the block could not be found. */
int afp_node_decode(const uint8_t *block, size_t len, bool is_dir, uint16_t bitmap,
                    struct afp_node *out);

/* Size of the fixed part of a block for bitmap, or -EPROTO for a bit that
 * has no known size. */
int afp_node_fixed_size(bool is_dir, uint16_t bitmap);

/* Volume parameters (FPOpenVol, FPGetVolParms). */
struct afp_volparms {
    uint16_t bitmap;
    uint16_t attributes;        /* enum afp_vol_attribute */
    uint16_t signature;         /* 1 flat, 2 fixed directory IDs, 3 variable */
    int32_t create_date, mod_date, backup_date;
    uint16_t vol_id;
    uint32_t bytes_free, bytes_total;
    char name[256];
    uint64_t ext_bytes_free, ext_bytes_total;
    uint32_t block_size;
};

/* Reply of FPOpenVol / FPGetVolParms: u16 bitmap, then the block.
 * Trailing bytes after the last structure are ignored. */
int afp_volparms_decode(const uint8_t *buf, size_t len, struct afp_volparms *out);

/* What FPSetFileDirParms can change.  Only kFPAttributeBit, the three
 * date bits, kFPFinderInfoBit and kFPUnixPrivsBit are allowed. */
struct afp_set_params {
    uint16_t bitmap;
    uint16_t attributes;        /* with kFPSetClearBit to set, without to clear */
    int32_t create_date, mod_date, backup_date;
    uint8_t finder_info[32];
    struct afp_unix_privs unix_privs;
};
#define AFP_SETTABLE_BITS (kFPAttributeBit | kFPCreateDateBit | kFPModDateBit | \
                           kFPBackupDateBit | kFPFinderInfoBit | kFPUnixPrivsBit)

int afp_set_params_encode(struct afp_writer *w, const struct afp_set_params *p);

#endif
