/* --persist: the directory the members' logs and acknowledgements go in. */
#ifndef KV_LOGDIR_H
#define KV_LOGDIR_H

#include <stdbool.h>
#include <stddef.h>

/* "auto": makes a fresh directory in /tmp (*made set); anything else:
 * that directory, made with its parents if missing, and empty. Its path
 * in out: 0, or -1 having said why. */
int logdir_prepare(const char *given, char *out, size_t cap, bool *made);

/* Removes dir and everything in it: 0, or -1 having said why. */
int logdir_remove(const char *dir);

#endif
