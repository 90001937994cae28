/* The one clock for durations (stage times, deadlines, read-ahead fetch
 * times): monotonic, so a wall-clock jump never makes a stage negative. */
#ifndef SHARESFS_CLOCK_H
#define SHARESFS_CLOCK_H

/* Monotonic milliseconds. */
double sfs_now_ms(void);

#endif
