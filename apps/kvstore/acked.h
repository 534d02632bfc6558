/* --persist: the operations a member had acknowledged, the way a client
 * that got the acknowledgement would remember them, and the check that
 * none of them was lost.
 *
 * DIR/acked-<node id>.txt holds one line per operation for which
 * grp_send_durable returned 0, flushed before the next is sent:
 *
 *   <sequence number> <version, hex> put <key> <value>
 *   <sequence number> <version, hex> del <key>
 *
 * the sequence number counting the sender's operations from 0, the
 * version that of the operation's delivery at its sender. A SIGKILL may
 * cut the last line short; a line without its newline is ignored. */
#ifndef KV_ACKED_H
#define KV_ACKED_H

#include <stdint.h>
#include <stdio.h>

#include <group/group.h>

#include "op.h"

/* Opens DIR/acked-<id>.txt to append to: the FILE, or NULL having said why. */
FILE *acked_open(const char *dir, unsigned id);

/* Appends one acknowledged operation and flushes it: 0, or -1 having said why. */
int acked_write(FILE *f, uint64_t seq, uint64_t version, const struct kv_op *op);

/* Checks every acknowledged operation in DIR/acked-<id>.txt for each of
 * the n node ids: this member's log must hold a message of that sender at
 * that version whose payload is that operation, byte for byte (so that
 * what was acknowledged survived, and in its place in the history), and
 * each file's sequence numbers must run 0, 1, 2, ... 0 with *checked the
 * number of operations checked, or 1 having said what is missing. */
int acked_check(grp_t *g, const char *dir, const unsigned *ids, unsigned n, unsigned rank,
		uint64_t *checked);

#endif
