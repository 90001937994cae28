/* AFP pathnames and names.
 *
 * An AFP 3 pathname is: u8 path type (3 = UTF-8), u32 text encoding hint,
 * u16 length, then the path, relative to a directory ID, with components
 * separated by NUL bytes (a '/' is an ordinary character inside an AFP name).
 *
 * Names cross between POSIX and AFP the way macOS does it: a POSIX ':' is an
 * AFP '/', and an AFP '/' is shown as ':' (netatalk stores the Mac name
 * "a/b" as "a:b" on disk, so the round trip is exact). */
#ifndef SHARESFS_AFP_PATH_H
#define SHARESFS_AFP_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "afp_buf.h"

#define AFP_NAME_MAX 1023       /* bytes in one UTF-8 name we accept */
#define AFP_PATH_MAX 65535      /* the u16 length field */

/* Writes a type-3 pathname for a POSIX path relative to the directory the
 * request names ("" or "." = that directory itself, "a/b" = two levels).
 * Empty and "." components are skipped; ".." is -EINVAL (resolve it above
 * this layer); -ENAMETOOLONG when a component or the whole path is too long. */
int afp_write_pathname(struct afp_writer *w, const char *posix_path);
/* Same for a single name (FPRename's new name); '/' in it is -EINVAL.
 * NULL or "" writes an empty name. */
int afp_write_name(struct afp_writer *w, const char *posix_name);

/* One name, AFP -> POSIX ('/' -> ':') and POSIX -> AFP (':' -> '/').
 * -ENAMETOOLONG when out is too small, -EINVAL for a NUL (AFP) or '/' (POSIX). */
int afp_name_to_posix(const char *afp, size_t len, char *out, size_t outsz);
int afp_name_from_posix(const char *posix, char *out, size_t outsz);

#endif
