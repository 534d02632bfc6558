/* Reading a state stream in state_load (group.h, "Joins") by whole records:
 * grp_state_read returns whatever has arrived, which may be part of one. */
#ifndef GRP_STATE_READ_H
#define GRP_STATE_READ_H

#include <stddef.h>

#include <group/group.h>

/* Reads exactly len bytes of the state stream into buf: 0, grp_state_read's
 * error, or GRP_EPROTO if the stream ends first. */
int state_read_exactly(grp_t *g, void *buf, size_t len);

#endif
