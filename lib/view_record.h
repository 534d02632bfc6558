/* The record of a view in a member's log (persist.mode), integers
 * little-endian:
 *
 *   u8 format (1) | u32 vid | u32 n | n times u32 node id
 *
 * Its version in the log is the view's first, epoch_version(vid, 0). A
 * joiner appends the view records a serving member ships it unread, and a
 * restart decodes them, so every field is checked. */
#ifndef GRP_LIB_VIEW_RECORD_H
#define GRP_LIB_VIEW_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <group/group.h>

#include "fabric.h"
#include "plog.h"

#define VIEW_RECORD_MAX (1u + 4u + 4u + 4u * FAB_MAX_PEERS)

/* Writes v's record into out (VIEW_RECORD_MAX bytes); returns its length. */
size_t view_record_encode(const grp_view *v, uint8_t *out);
/* The vid and members (at most cap, distinct, below FAB_MAX_PEERS) of a
 * PLOG_VIEW record; GRP_ECORRUPT if it is not a well-formed record of the
 * view its version names. */
int view_record_decode(const struct plog_record *r, uint32_t *vid, unsigned *ids, unsigned cap,
		       unsigned *n);

#endif
