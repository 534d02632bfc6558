/* A key's value as of a point of the group's past, read back from this
 * member's log (persist.mode on): the log holds every operation the group
 * delivered with its version and time, so replaying the operations up to
 * a version, or up to a time, gives the store as it was then.
 *
 * A probe checks it: at one live delivery the replica records its version,
 * its time and what the live map held for a few keys just after applying
 * it; at the end of the run the member reads the same keys back from the
 * log as of that version and as of that time, and both must be what the
 * map held. */
#ifndef KV_HISTORY_H
#define KV_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include <group/group.h>

#include "map.h"
#include "op.h"

struct history_value {
	bool present; /* false: the key had no value (never put, or deleted) */
	uint16_t len;
	char bytes[VALUE_MAX];
};

/* key's value after every operation of the log with a version up to
 * `version`: 0, or a GRP_E* code of reading the log. */
int history_get_at_version(grp_t *g, const char *key, uint16_t key_len, uint64_t version,
			   struct history_value *out);
/* The same, up to the operations whose timestamp_us is at most time_us. */
int history_get_at_time(grp_t *g, const char *key, uint16_t key_len, uint64_t time_us,
			struct history_value *out);

#define PROBE_KEYS 6

struct history_probe {
	bool armed;     /* whether to take it at all */
	uint64_t after; /* taken at the first live delivery once this many were applied */
	bool taken;
	uint64_t version, time_us;
	unsigned n_keys;
	uint16_t key_lens[PROBE_KEYS];
	char keys[PROBE_KEYS][KEY_MAX];
	struct history_value values[PROBE_KEYS];
};

/* From the deliver callback, after msg's operation (op, or NULL if it was
 * rejected) was applied to map: takes the probe if it is armed and due.
 * `applied` counts the deliveries applied so far. */
void history_probe_take(struct history_probe *p, const struct kv_map *map,
			const grp_delivery *msg, const struct kv_op *op, uint64_t applied);

/* Reads the probe's keys back from the log as of its version and its
 * time: 0 if all match (or the probe was not armed), 1 having said what
 * differs, or that the probe was never taken. */
int history_probe_check(grp_t *g, const struct history_probe *p, unsigned rank);

#endif
