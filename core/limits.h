/* limits.h — process resource limits. */
#ifndef SQ_LIMITS_H
#define SQ_LIMITS_H

/* Raises the open-files soft limit to the hard limit (best effort), so that
 * servers and load generators can hold many connections. Returns the soft
 * limit now in force, or -1 if it could not be read. */
long sq_raise_fd_limit(void);

#endif
