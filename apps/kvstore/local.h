/* --local: a whole group in one program, the way tests and the demo run
 * the store. */
#ifndef KV_LOCAL_H
#define KV_LOCAL_H

#include "options.h"

/* Runs o->local_n members on 127.0.0.1, prints each one's result and
 * whether they all agree: 0 if they do and every member exited cleanly. */
int local_run(const struct options *o);

#endif
