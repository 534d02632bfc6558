/* RDMC: large-message multicast along a binomial pipeline, raw:
 * no ordering between senders, every message delivered whole to every other
 * member. A message is cut into rdmc.block_size blocks written one-sided
 * into the receivers' registered buffers, each member forwarding blocks as
 * the schedule (rdmc.schedule) says, so the sender's link carries each byte
 * about once whatever the group size.
 *
 * Threads: grp_rdmc_open starts an engine thread ("grp-engine"), which
 * moves blocks and runs the callbacks, and a bootstrap thread ("grp-boot")
 * that answers members connecting. grp_rdmc_send may be called from any
 * thread but not from a callback; one message per sender is in flight.
 * Memory: every member registers rdmc.max_payload bytes per member. */
#ifndef GROUP_RDMC_H
#define GROUP_RDMC_H

#include <stddef.h>
#include <stdint.h>

#include <group/config.h>
#include <group/error.h>
#include <group/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct grp_rdmc grp_rdmc;

typedef struct grp_rdmc_callbacks {
	size_t size; /* sizeof(grp_rdmc_callbacks) */
	/* Message `seq` (1, 2, ... per sender) of `sender` arrived whole. data is
	 * valid only during the call. Not called at the sender. */
	void (*on_message)(grp_rdmc *r, unsigned sender, uint64_t seq, const void *data, size_t len,
			   void *user);
	/* Member failed or became unreachable; called once per member. */
	void (*on_failure)(grp_rdmc *r, unsigned member, int err, void *user);
} grp_rdmc_callbacks;

/* Connects to every member of group.members (see grp_sst_open) and
 * registers the receive buffers. Errors as grp_sst_open, plus GRP_ECONFIG
 * when rdmc.max_payload needs more than 2^19 blocks of rdmc.block_size. */
GRP_API int grp_rdmc_open(const grp_config *cfg, const grp_rdmc_callbacks *callbacks, void *user,
			  grp_rdmc **out);

/* Sends len bytes (copied) to every other member and returns once every
 * member still alive holds them. GRP_EMSGSIZE above grp_rdmc_max_msg_size;
 * GRP_EPEER if a member failed while the message was in flight (those alive
 * may or may not hold it). A member that hangs without failing holds the
 * call until failure detection (heartbeats, with membership) exists. */
GRP_API int grp_rdmc_send(grp_rdmc *r, const void *buf, size_t len);

GRP_API size_t grp_rdmc_max_msg_size(const grp_rdmc *r);

/* Disconnects and frees. Not from a callback. */
GRP_API void grp_rdmc_close(grp_rdmc *r);

#ifdef __cplusplus
}
#endif

#endif
