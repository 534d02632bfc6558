/* A partition rig: n members on separate "hosts", each a network namespace
 * with one address, all cabled to a bridge in a hub namespace of their
 * own, so that nothing in the caller's namespace changes. The rig can cut
 * one member's cable, or split the members into two sides that cannot
 * reach each other, and put everything back; a cut drops frames at the
 * bridge side, so the member's own link stays up as behind a failed
 * switch, and its open connections stall rather than reset.
 *
 * Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2's `ip`; a test
 * asks netns_rig_unsupported first and skips where it answers. Namespaces
 * are named grprig-PID-SEQ-*, so parallel tests never collide. A guardian
 * process, started before the first namespace, removes every namespace of
 * a rig when netns_rig_destroy asks or when its creator dies, however (a
 * failed assertion, a signal, kill -9); netns_rig_create also removes what
 * rigs of dead processes left behind. Rigs are created and destroyed from
 * one thread. */
#ifndef GRP_NETNS_H
#define GRP_NETNS_H

#include <stdint.h>

/* The most members a rig holds (split masks are 64 bits wide). */
#define NETNS_RIG_MAX 64u

struct netns_rig;

/* NULL if rigs can be made here, else why not (for a skip message). */
const char *netns_rig_unsupported(void);

/* Makes n members, every one connected to every other. NULL (with the
 * failed step on stderr) if that fails; whatever was made is removed. */
struct netns_rig *netns_rig_create(unsigned n);

unsigned netns_rig_size(const struct netns_rig *rig);

/* Member i's IPv4 address ("10.201.0.(i+1)"), valid in every member's
 * namespace and in none other. */
const char *netns_rig_address(const struct netns_rig *rig, unsigned i);

/* Moves the calling thread into member i's namespace: for a forked member
 * process, before it opens any socket. 0, or -1 with a message. */
int netns_rig_enter(const struct netns_rig *rig, unsigned i);

/* Isolates member i from every other member. 0, or -1 with a message. */
int netns_rig_cut(struct netns_rig *rig, unsigned i);

/* Connects member i again, to the members not split off. */
int netns_rig_restore(struct netns_rig *rig, unsigned i);

/* The members in side_a (bit i: member i) reach each other and the others
 * reach each other, but no one reaches across; cut members are connected
 * again, on their side. */
int netns_rig_split(struct netns_rig *rig, uint64_t side_a);

/* Every member reaches every other again, as after netns_rig_create. */
int netns_rig_heal(struct netns_rig *rig);

/* Removes the rig's namespaces (members still in one keep it alive,
 * unreachable, until they exit) and frees rig. 0 if all are gone. */
int netns_rig_destroy(struct netns_rig *rig);

/* Destroys every rig this process made and has not destroyed: for a test
 * that failed between create and destroy; it also runs at exit. */
void netns_rig_destroy_all(void);

#endif
