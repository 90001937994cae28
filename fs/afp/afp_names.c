/* Human names of AFP command and result codes (for logs, reports, tests). */
#include "afp_proto.h"

#include <stddef.h>

#include "sharesfs/status.h"

const char *afp_command_name(uint8_t command)
{
    switch (command) {
    case kFPByteRangeLock: return "FPByteRangeLock";
    case kFPCloseVol: return "FPCloseVol";
    case kFPCloseDir: return "FPCloseDir";
    case kFPCloseFork: return "FPCloseFork";
    case kFPCopyFile: return "FPCopyFile";
    case kFPCreateDir: return "FPCreateDir";
    case kFPCreateFile: return "FPCreateFile";
    case kFPDelete: return "FPDelete";
    case kFPEnumerate: return "FPEnumerate";
    case kFPFlush: return "FPFlush";
    case kFPFlushFork: return "FPFlushFork";
    case kFPGetForkParms: return "FPGetForkParms";
    case kFPGetSrvrInfo: return "FPGetSrvrInfo";
    case kFPGetSrvrParms: return "FPGetSrvrParms";
    case kFPGetVolParms: return "FPGetVolParms";
    case kFPLogin: return "FPLogin";
    case kFPLoginCont: return "FPLoginCont";
    case kFPLogout: return "FPLogout";
    case kFPMapID: return "FPMapID";
    case kFPMapName: return "FPMapName";
    case kFPMoveAndRename: return "FPMoveAndRename";
    case kFPOpenVol: return "FPOpenVol";
    case kFPOpenDir: return "FPOpenDir";
    case kFPOpenFork: return "FPOpenFork";
    case kFPRead: return "FPRead";
    case kFPRename: return "FPRename";
    case kFPSetDirParms: return "FPSetDirParms";
    case kFPSetFileParms: return "FPSetFileParms";
    case kFPSetForkParms: return "FPSetForkParms";
    case kFPSetVolParms: return "FPSetVolParms";
    case kFPWrite: return "FPWrite";
    case kFPGetFileDirParms: return "FPGetFileDirParms";
    case kFPSetFileDirParms: return "FPSetFileDirParms";
    case kFPChangePassword: return "FPChangePassword";
    case kFPGetUserInfo: return "FPGetUserInfo";
    case kFPGetSrvrMsg: return "FPGetSrvrMsg";
    case kFPCreateID: return "FPCreateID";
    case kFPDeleteID: return "FPDeleteID";
    case kFPResolveID: return "FPResolveID";
    case kFPExchangeFiles: return "FPExchangeFiles";
    case kFPCatSearch: return "FPCatSearch";
    case kFPOpenDT: return "FPOpenDT";
    case kFPCloseDT: return "FPCloseDT";
    case kFPGetIcon: return "FPGetIcon";
    case kFPGetIconInfo: return "FPGetIconInfo";
    case kFPAddAPPL: return "FPAddAPPL";
    case kFPRemoveAPPL: return "FPRemoveAPPL";
    case kFPGetAPPL: return "FPGetAPPL";
    case kFPAddComment: return "FPAddComment";
    case kFPRemoveComment: return "FPRemoveComment";
    case kFPGetComment: return "FPGetComment";
    case kFPByteRangeLockExt: return "FPByteRangeLockExt";
    case kFPReadExt: return "FPReadExt";
    case kFPWriteExt: return "FPWriteExt";
    case kFPGetAuthMethods: return "FPGetAuthMethods";
    case kFPLoginExt: return "FPLoginExt";
    case kFPGetSessionToken: return "FPGetSessionToken";
    case kFPDisconnectOldSession: return "FPDisconnectOldSession";
    case kFPEnumerateExt: return "FPEnumerateExt";
    case kFPCatSearchExt: return "FPCatSearchExt";
    case kFPEnumerateExt2: return "FPEnumerateExt2";
    case kFPGetExtAttr: return "FPGetExtAttr";
    case kFPSetExtAttr: return "FPSetExtAttr";
    case kFPRemoveExtAttr: return "FPRemoveExtAttr";
    case kFPListExtAttrs: return "FPListExtAttrs";
    case kFPGetACL: return "FPGetACL";
    case kFPSetACL: return "FPSetACL";
    case kFPAccess: return "FPAccess";
    case kFPSpotlightRPC: return "FPSpotlightRPC";
    case kFPSyncDir: return "FPSyncDir";
    case kFPSyncFork: return "FPSyncFork";
    case kFPZzzzz: return "FPZzzzz";
    case kFPAddIcon: return "FPAddIcon";
    default: return NULL;
    }
}

/* The names are in the base layer's errno table, one row per result with
 * its errno, so a name and the errno it maps to cannot drift apart. */
const char *afp_result_name(int32_t result)
{
    return sfs_afp_result_name(result);
}
