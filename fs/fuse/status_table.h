#ifndef SHARESFS_FUSE_STATUS_TABLE_H
#define SHARESFS_FUSE_STATUS_TABLE_H

/* sharesfs --status MOUNTPOINT: reads MOUNTPOINT/.sharesfs/status.json of a
 * running sharesfs and prints one row per key.  Returns the exit status. */
int sharesfs_print_status(const char *mountpoint);

/* The table's header, and a row for each mount object of a status.json
 * text (one object per line); direct mounts and masters print theirs too. */
void status_table_header(void);
void status_table_rows(const char *text);

#endif
