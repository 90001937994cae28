/* AFP 3.x protocol constants: command codes, result codes, bitmaps, flags.
 * Names follow Apple's "Apple Filing Protocol Reference" where it has names.
 * Values checked against the netatalk 4.0.3dev captures in
 * tests/data/afp/ where a capture uses them (marked "seen"). */
#ifndef SHARESFS_AFP_PROTO_H
#define SHARESFS_AFP_PROTO_H

#include <stdint.h>

/* AFP command codes: the first byte of a DSICommand/DSIWrite payload. */
enum afp_command {
    kFPByteRangeLock = 1,
    kFPCloseVol = 2,            /* seen */
    kFPCloseDir = 3,
    kFPCloseFork = 4,           /* seen */
    kFPCopyFile = 5,
    kFPCreateDir = 6,
    kFPCreateFile = 7,
    kFPDelete = 8,
    kFPEnumerate = 9,
    kFPFlush = 10,              /* seen (afpfs-ng) */
    kFPFlushFork = 11,
    kFPGetForkParms = 14,
    kFPGetSrvrInfo = 15,        /* seen: DSIGetStatus payload 0x0f 0x00 */
    kFPGetSrvrParms = 16,       /* seen */
    kFPGetVolParms = 17,
    kFPLogin = 18,              /* seen */
    kFPLoginCont = 19,          /* seen */
    kFPLogout = 20,             /* seen */
    kFPMapID = 21,
    kFPMapName = 22,
    kFPMoveAndRename = 23,
    kFPOpenVol = 24,            /* seen */
    kFPOpenDir = 25,
    kFPOpenFork = 26,           /* seen */
    kFPRead = 27,
    kFPRename = 28,
    kFPSetDirParms = 29,
    kFPSetFileParms = 30,
    kFPSetForkParms = 31,
    kFPSetVolParms = 32,
    kFPWrite = 33,
    kFPGetFileDirParms = 34,    /* seen (afpfs-ng) */
    kFPSetFileDirParms = 35,
    kFPChangePassword = 36,
    kFPGetUserInfo = 37,
    kFPGetSrvrMsg = 38,         /* seen (afpfs-ng) */
    kFPCreateID = 39,
    kFPDeleteID = 40,
    kFPResolveID = 41,
    kFPExchangeFiles = 42,
    kFPCatSearch = 43,
    kFPOpenDT = 48,
    kFPCloseDT = 49,
    kFPGetIcon = 51,
    kFPGetIconInfo = 52,
    kFPAddAPPL = 53,
    kFPRemoveAPPL = 54,
    kFPGetAPPL = 55,
    kFPAddComment = 56,
    kFPRemoveComment = 57,
    kFPGetComment = 58,
    kFPByteRangeLockExt = 59,
    kFPReadExt = 60,            /* seen */
    kFPWriteExt = 61,
    kFPGetAuthMethods = 62,
    kFPLoginExt = 63,           /* seen */
    kFPGetSessionToken = 64,
    kFPDisconnectOldSession = 65,
    kFPEnumerateExt = 66,
    kFPCatSearchExt = 67,
    kFPEnumerateExt2 = 68,      /* seen */
    kFPGetExtAttr = 69,
    kFPSetExtAttr = 70,
    kFPRemoveExtAttr = 71,
    kFPListExtAttrs = 72,
    kFPGetACL = 73,
    kFPSetACL = 74,
    kFPAccess = 75,
    kFPSpotlightRPC = 76,
    kFPSyncDir = 78,
    kFPSyncFork = 79,
    kFPZzzzz = 122,
    kFPAddIcon = 192,
};

/* AFP result codes (the DSI error field of a reply, signed).  Their names
 * and errnos are rows of the base errno table (fs/base/errno_table.c);
 * test_afp_login checks each constant here against its row. */
enum afp_result {
    kFPNoErr = 0,
    kFPAccessDenied = -5000,
    kFPAuthContinue = -5001,        /* seen */
    kFPBadUAM = -5002,              /* seen */
    kFPBadVersNum = -5003,          /* seen */
    kFPBitmapErr = -5004,
    kFPCantMove = -5005,
    kFPDenyConflict = -5006,
    kFPDirNotEmpty = -5007,
    kFPDiskFull = -5008,
    kFPEOFErr = -5009,              /* seen, with and without data */
    kFPFileBusy = -5010,
    kFPFlatVol = -5011,
    kFPItemNotFound = -5012,
    kFPLockErr = -5013,
    kFPMiscErr = -5014,             /* seen (corrupt Kerberos token) */
    kFPNoMoreLocks = -5015,
    kFPNoServer = -5016,
    kFPObjectExists = -5017,
    kFPObjectNotFound = -5018,      /* seen: end of enumeration, hidden volume */
    kFPParamErr = -5019,
    kFPRangeNotLocked = -5020,
    kFPRangeOverlap = -5021,
    kFPSessClosed = -5022,
    kFPUserNotAuth = -5023,         /* seen */
    kFPCallNotSupported = -5024,
    kFPObjectTypeErr = -5025,
    kFPTooManyFilesOpen = -5026,
    kFPServerGoingDown = -5027,
    kFPCantRename = -5028,
    kFPDirNotFound = -5029,
    kFPIconTypeError = -5030,
    kFPVolLocked = -5031,
    kFPObjectLocked = -5032,
    kFPContainsSharedErr = -5033,
    kFPIDNotFound = -5034,
    kFPIDExists = -5035,
    kFPDiffVolErr = -5036,
    kFPCatalogChanged = -5037,
    kFPSameObjectErr = -5038,
    kFPBadIDErr = -5039,
    kFPPwdSameErr = -5040,
    kFPPwdTooShortErr = -5041,
    kFPPwdExpiredErr = -5042,
    kFPInsideSharedErr = -5043,
    kFPInsideTrashErr = -5044,
    kFPPwdNeedsChangeErr = -5045,
    kFPPwdPolicyErr = -5046,
    kFPDiskQuotaExceeded = -5047,
};

/* FPGetSrvrInfo flags. */
enum afp_server_flag {
    kSupportsCopyFile = 0x0001,
    kSupportsChgPwd = 0x0002,
    kDontAllowSavePwd = 0x0004,
    kSupportsSrvrMsg = 0x0008,
    kSrvrSig = 0x0010,
    kSupportsTCP = 0x0020,
    kSupportsSrvrNotify = 0x0040,
    kSupportsReconnect = 0x0080,
    kSupportsDirServices = 0x0100,
    kSupportsUTF8SrvrName = 0x0200,
    kSupportsUUIDs = 0x0400,
    kSupportsExtSleep = 0x0800,
    kSupportsSuperClient = 0x8000,
};

/* FPGetSrvrInfo network address tags. */
enum afp_addr_tag {
    AFP_ADDR_IPV4 = 0x01,
    AFP_ADDR_IPV4_PORT = 0x02,
    AFP_ADDR_DDP = 0x03,
    AFP_ADDR_DNS = 0x04,
    AFP_ADDR_SSH_TUNNEL = 0x05,   /* IPv4 + port, tunnel through SSH */
    AFP_ADDR_IPV6 = 0x06,
    AFP_ADDR_IPV6_PORT = 0x07,
};

/* File and directory parameter bitmaps (FPGetFileDirParms, FPEnumerateExt2,
 * FPOpenFork, FPSetFileDirParms).  Bits 0-8 and 13, 15 mean the same for
 * files and directories. */
enum afp_filedir_bit {
    kFPAttributeBit = 0x0001,
    kFPParentDirIDBit = 0x0002,
    kFPCreateDateBit = 0x0004,
    kFPModDateBit = 0x0008,
    kFPBackupDateBit = 0x0010,
    kFPFinderInfoBit = 0x0020,
    kFPLongNameBit = 0x0040,
    kFPShortNameBit = 0x0080,
    kFPNodeIDBit = 0x0100,
    /* files */
    kFPDataForkLenBit = 0x0200,
    kFPRsrcForkLenBit = 0x0400,
    kFPExtDataForkLenBit = 0x0800,
    kFPLaunchLimitBit = 0x1000,
    kFPExtRsrcForkLenBit = 0x4000,
    /* directories */
    kFPOffspringCountBit = 0x0200,
    kFPOwnerIDBit = 0x0400,
    kFPGroupIDBit = 0x0800,
    kFPAccessRightsBit = 0x1000,
    /* both (AFP 3.x) */
    kFPUTF8NameBit = 0x2000,
    kFPUnixPrivsBit = 0x8000,
};

/* File/directory attributes (kFPAttributeBit). */
enum afp_attribute {
    kFPInvisibleBit = 0x0001,
    kFPMultiUserBit = 0x0002,       /* files */
    kAttrIsExpFolder = 0x0002,      /* directories */
    kFPSystemBit = 0x0004,
    kFPDAlreadyOpenBit = 0x0008,    /* files */
    kAttrMounted = 0x0008,          /* directories */
    kFPRAlreadyOpenBit = 0x0010,    /* files */
    kAttrInExpFolder = 0x0010,      /* directories */
    kFPWriteInhibitBit = 0x0020,
    kFPBackUpNeededBit = 0x0040,
    kFPRenameInhibitBit = 0x0080,
    kFPDeleteInhibitBit = 0x0100,
    kFPCopyProtectBit = 0x0400,
    kFPSetClearBit = 0x8000,
};

/* Volume parameter bitmap (FPOpenVol, FPGetVolParms). */
enum afp_vol_bit {
    kFPVolAttributeBit = 0x0001,
    kFPVolSignatureBit = 0x0002,
    kFPVolCreateDateBit = 0x0004,
    kFPVolModDateBit = 0x0008,
    kFPVolBackupDateBit = 0x0010,
    kFPVolIDBit = 0x0020,
    kFPVolBytesFreeBit = 0x0040,
    kFPVolBytesTotalBit = 0x0080,
    kFPVolNameBit = 0x0100,
    kFPVolExtBytesFreeBit = 0x0200,
    kFPVolExtBytesTotalBit = 0x0400,
    kFPVolBlockSizeBit = 0x0800,
};

/* Volume attributes (kFPVolAttributeBit). */
enum afp_vol_attribute {
    kReadOnly = 0x0001,
    kHasVolumePassword = 0x0002,
    kSupportsFileIDs = 0x0004,
    kSupportsCatSearch = 0x0008,
    kSupportsBlankAccessPrivs = 0x0010,
    kSupportsUnixPrivs = 0x0020,
    kSupportsUTF8Names = 0x0040,
    kNoNetworkUserIDs = 0x0080,
    kDefaultPrivsFromParent = 0x0100,
    kNoExchangeFiles = 0x0200,
    kSupportsExtAttrs = 0x0400,
    kSupportsACLs = 0x0800,
    kCaseSensitive = 0x1000,
    kSupportsTMLockSteal = 0x2000,
};

/* FPGetSrvrParms per-volume flags. */
enum afp_srvr_vol_flag {
    AFP_SRVRVOL_HAS_CONFIG_INFO = 0x01,
    AFP_SRVRVOL_HAS_PASSWORD = 0x80,
};

/* Path types (first byte of a pathname). */
enum afp_path_type {
    kFPShortName = 1,
    kFPLongName = 2,
    kFPUTF8Name = 3,
};

/* Text encoding hint sent with UTF-8 names; both captured clients send
 * this value (kTextEncodingUTF8 with the "Mac decomposition" variant). */
#define AFP_UTF8_HINT 0x08000103u

/* FPOpenFork access modes. */
enum afp_fork_access {
    kFPForkRead = 0x0001,
    kFPForkWrite = 0x0002,
    kFPForkDenyRead = 0x0010,
    kFPForkDenyWrite = 0x0020,
};
#define AFP_FORK_RSRC 0x80           /* FPOpenFork flag: resource fork */
#define AFP_CREATE_HARD 0x80         /* FPCreateFile flag: replace an existing file */
#define AFP_WRITE_FROM_END 0x80      /* FPWriteExt flag: offset relative to EOF */
#define AFP_ENTRY_IS_DIR 0x80        /* FileDir flag byte in replies */

/* Unix privileges block (kFPUnixPrivsBit): 16 bytes. */
struct afp_unix_privs {
    uint32_t uid;
    uint32_t gid;
    uint32_t mode;          /* st_mode bits incl. file type */
    uint32_t ua_rights;     /* AFP access rights as seen by this user */
};

/* Seconds from 1970-01-01 to 2000-01-01 UTC: AFP dates count from 2000. */
#define AFP_DATE_EPOCH_DELTA 946684800
/* The AFP date meaning "never" (e.g. never backed up). */
#define AFP_DATE_NEVER INT32_MIN

/* Names: "FPLogin", "kFPUserNotAuth"; NULL when unknown.  A result's name
 * is sfs_afp_result_name()'s (the errno table). */
const char *afp_command_name(uint8_t command);
const char *afp_result_name(int32_t result);

#endif
