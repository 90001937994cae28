/* SMB dialect names as Samba spells them ("NT1" .. "SMB3_11") and their order. */
#ifndef SHARESFS_SMB_DIALECT_H
#define SHARESFS_SMB_DIALECT_H

#include <stdbool.h>
#include <stdint.h>

enum smb_dialect {
    SMB_DIALECT_NONE = 0,
    SMB_DIALECT_NT1,
    SMB_DIALECT_SMB2_02,
    SMB_DIALECT_SMB2_10,
    SMB_DIALECT_SMB3_00,
    SMB_DIALECT_SMB3_02,
    SMB_DIALECT_SMB3_11,
};

/* "NT1", "SMB2_02", ...; also accepts Samba's aliases "SMB2" (= SMB2_10),
 * "SMB3" (= SMB3_11) and "CORE".."LANMAN2" (treated as NT1). */
enum smb_dialect smb_dialect_from_name(const char *name);
const char *smb_dialect_name(enum smb_dialect d);
uint16_t smb_dialect_wire(enum smb_dialect d);          /* 0x0202 ...; 0 for NT1 */
enum smb_dialect smb_dialect_from_wire(uint16_t revision);

/* cifs vers= ("1.0", "2.0", "2.1", "3.0", "3.02", "3.1.1", "3", "default")
 * -> dialect range.  false for an unknown value. */
bool smb_dialect_range_from_vers(const char *vers, enum smb_dialect *min, enum smb_dialect *max);

#endif
