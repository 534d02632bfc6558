/* Full mesh of fabric connections among a statically listed set of members.
 *
 * Each member listens on its bootstrap address; member j introduces itself
 * (HELLO: provider, fabric address, registered regions) to every member i < j,
 * which answers in kind and then accepts j's fabric connection. Every field
 * of every frame is checked against our own view of the group: a member
 * with another provider, group size or memory layout is refused with a
 * reason that both sides log. */
#ifndef GRP_MESH_H
#define GRP_MESH_H

#include "config.h"
#include "fabric.h"
#include "frame.h"

struct mesh_params {
	const struct grp_hostport *members; /* bootstrap addresses, by rank */
	unsigned n;
	unsigned me;
	uint64_t group_id;
	int listen_fd;      /* inherited listening socket, or -1 to bind members[me] */
	unsigned timeout_ms;
};

/* What a peer told us about its registered memory. */
struct mesh_peer {
	unsigned n_regions;
	struct fab_remote_region regions[HELLO_MAX_REGIONS];
};

/* Reads the member list, rank, group and fabric keys of cfg and checks them
 * against each other. On error (GRP_ECONFIG, logged) the inherited listening
 * socket, if any, is closed. */
int mesh_params_from_config(const grp_config *cfg, struct mesh_params *mp, struct fab_params *fp);

/* Connects dom to every other member and fills peers[rank] for each of them.
 * Takes ownership of params->listen_fd. GRP_ETIMEDOUT names, in the log, the
 * members that did not answer in time. */
int mesh_connect(const struct mesh_params *params, struct fab_domain *dom,
		 struct fab_mr *const *regions, unsigned n_regions, struct mesh_peer *peers);

#endif
