/* The view-change protocol of one epoch, on columns of the epoch's own
 * table (docs/architecture.md, 3.6 "Failures, view changes, leaving").
 *
 * Every member runs it on the engine thread, once per pass:
 *   suspect   a member whose link broke, whose heartbeat stalled past the
 *             timeout, who announced that it leaves (links_peer_leaving:
 *             then as a departure, not a failure), or whom any
 *             unsuspected row suspects; the first suspicion wedges the
 *             epoch (epoch_wedge). A member that a trusted row suspects,
 *             or whose removal any row proposes, is evicted; one that no
 *             longer sees a strict majority of the view (leavers not
 *             counted) is in a minority.
 *   propose   the leader (lowest unsuspected rank, once every unsuspected
 *             row suspects all ranks below it) proposes the removals and
 *             the joiners offered to it (gms_offer_joins; joiners alone
 *             start a change too); members copy the proposal (and wedge
 *             on seeing one): that is their acknowledgement. A new leader
 *             keeps the joiners of the proposal it acknowledged.
 *   commit    once every unsuspected member acknowledged and wedged. A
 *             new leader adopts a commit any unsuspected row shows.
 *   trim      the leader publishes, per sender, the least number of
 *             messages any survivor received; members copy it; once every
 *             survivor shows the same trim each delivers exactly the
 *             messages inside it. A new leader adopts a published trim.
 * Data, then the counter that announces it, in separate pushes. */
#ifndef GRP_GMS_H
#define GRP_GMS_H

#include <stdbool.h>
#include <stdint.h>

#include "epoch.h"

/* Why a member is suspected or removed (also the cell values). */
enum gms_reason { GMS_STAYS = 0, GMS_FAILED = 1, GMS_LEFT = 2 };

struct gms_params {
	unsigned suspect_timeout_ms; /* heartbeat silence that makes a suspect */
	unsigned heartbeat_ms;       /* how often the heartbeat is pushed */
};

/* The outcome of a pass. */
enum gms_outcome {
	GMS_RUNNING,  /* nothing to act on (yet) */
	GMS_INSTALL,  /* the trim is delivered: install the next view */
	GMS_MINORITY, /* we lost sight of a majority: stop */
	GMS_EVICTED,  /* the others removed us: stop */
};

struct gms;

/* Joiners one view change adds at most; more wait for the next. */
#define GMS_MAX_JOINS 8u

/* Why member `id`, whose connection is gone, is removed: it left if it
 * announced it (links_peer_leaving), else it failed. */
enum gms_reason gms_reason_gone(struct links *links, unsigned id);
/* Bytes of columns the protocol needs in a row (epoch_params.extra_bytes). */
size_t gms_columns_bytes(unsigned n, unsigned senders);
/* On a connected epoch: suspects at once every member with a reason in
 * carried[] (NULL: none), the suspicions the view before could not act on. */
int gms_create(struct links *links, struct epoch *e, const struct gms_params *p,
	       const uint8_t *carried, struct gms **out);
void gms_free(struct gms *g);

/* The processes waiting to join (not members), before a pass; the leader
 * proposes them. */
void gms_offer_joins(struct gms *g, const unsigned *ids, const bool *sender, unsigned n);

/* One pass (engine thread); *worked tells whether it did anything. */
enum gms_outcome gms_step(struct gms *g, bool *worked);

/* After GMS_INSTALL: why each rank leaves (GMS_STAYS for members of the
 * next view), and which of those who stay we already suspect (they start
 * the next view suspected). */
enum gms_reason gms_removal(const struct gms *g, unsigned rank);
enum gms_reason gms_suspicion(const struct gms *g, unsigned rank);
/* After GMS_INSTALL: the joiners the next view adds, in order, and whether
 * each sends; returns their number. */
unsigned gms_joins(const struct gms *g, unsigned *ids, bool *sender);
/* The trim that was delivered, per sender of the epoch. */
const uint64_t *gms_trim(const struct gms *g);

#endif
