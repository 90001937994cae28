/* Small string helpers shared by the parsers and the backends. */
#ifndef SHARESFS_TEXT_H
#define SHARESFS_TEXT_H

#include <stdbool.h>

/* strdup that passes NULL through. */
char *sfs_strdup_or_null(const char *s);
/* A C0 control character or DEL. */
bool sfs_is_control(unsigned char c);

#endif
