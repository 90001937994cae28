/* Small string helpers shared by the parsers and the backends. */
#ifndef SHARESFS_TEXT_H
#define SHARESFS_TEXT_H

#include <stdbool.h>
#include <sys/types.h>

/* strdup that passes NULL through. */
char *sfs_strdup_or_null(const char *s);
/* A C0 control character or DEL. */
bool sfs_is_control(unsigned char c);
/* What a file is, for messages: "a FIFO", "a directory", "a regular file"... */
const char *sfs_file_kind_name(mode_t mode);

#endif
