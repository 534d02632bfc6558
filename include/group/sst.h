/* Shared state table (SST): a table of fixed-layout rows, one per member,
 * every member holding a full copy in registered memory. Row i is written
 * only by member i, which pushes byte ranges of its row into every other
 * member's copy with one-sided RMA writes. Usable on its own, below the
 * ordered multicast of <group/group.h>.
 *
 * Ordering: writes from one member to another land in the order they were
 * pushed, so pushing a field after the data it describes (payload, then
 * counter) tells readers the data is complete. An aligned 8-byte cell is
 * never torn. Read remote cells with grp_sst_load_u64 (acquire) and write
 * your own with grp_sst_store_u64 (release).
 *
 * Threads: grp_sst_open starts one engine thread, named "grp-engine", that
 * drives fabric progress and evaluates predicates, and a bootstrap thread
 * ("grp-boot") that answers members connecting; triggers and the failure
 * callback run on the engine thread. An idle engine spins for engine.spin_us, yields for
 * engine.yield_us, then sleeps until a remote write arrives (at most
 * engine.sleep_ms). Push, load and store may be called from any thread;
 * the table's own row should have one writing thread at a time.
 *
 * Errors: a peer whose connection breaks or whose writes fail is marked
 * failed, its row frozen (no longer written), and on_failure is called once
 * for it; pushes go on to the others. */
#ifndef GROUP_SST_H
#define GROUP_SST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <group/config.h>
#include <group/error.h>
#include <group/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct grp_sst grp_sst;

/* Row layout builder: start from {0} and add columns; each column starts on
 * an 8-byte boundary. */
typedef struct grp_sst_layout {
	size_t row_bytes;
} grp_sst_layout;

/* Appends a column of `count` elements of `elem_size` bytes and returns its
 * byte offset in the row, or (size_t)-1 if the row would exceed 1 GiB. */
GRP_API size_t grp_sst_layout_add(grp_sst_layout *layout, size_t elem_size, size_t count);

typedef struct grp_sst_callbacks {
	size_t size; /* sizeof(grp_sst_callbacks): lets this struct grow */
	/* Member `row` failed (err: GRP_EPEER); called once per row, on the
	 * engine thread. May be NULL. */
	void (*on_failure)(grp_sst *sst, unsigned row, int err, void *user);
} grp_sst_callbacks;

/* Connects to every member listed in cfg (group.members, member.*,
 * fabric.*, engine.*, log.level) and returns a zeroed table. Blocks until
 * every member is connected and has registered its table, or
 * fabric.connect_timeout_ms passes (GRP_ETIMEDOUT); once it returned 0 at
 * one member, every member has connected to every other. callbacks may be
 * NULL; if not, callbacks->size must be set.
 * Errors: GRP_EINVAL, GRP_ECONFIG (the log names the key and the reason:
 * rank outside members, empty member list, a host that does not resolve,
 * member.listen_fd not a listening socket), GRP_EPROVIDER, GRP_EFABRIC,
 * GRP_EPROTO (a member disagrees on provider, size or layout),
 * GRP_ETIMEDOUT, GRP_EPEER, GRP_ENOMEM. */
GRP_API int grp_sst_open(const grp_config *cfg, const grp_sst_layout *layout,
			 const grp_sst_callbacks *callbacks, void *user, grp_sst **out);

/* Stops the engine (waits for a running trigger to return), disconnects and
 * frees. Must not be called from a trigger. */
GRP_API void grp_sst_close(grp_sst *sst);

GRP_API unsigned grp_sst_rank(const grp_sst *sst);
GRP_API unsigned grp_sst_size(const grp_sst *sst);
/* Start of a row in the local copy: read-only for other rows, writable for
 * grp_sst_rank's. Valid until grp_sst_close. */
GRP_API void *grp_sst_row(grp_sst *sst, unsigned row);

/* Acquire load of the aligned 8-byte cell at `offset` of `row`. */
GRP_API uint64_t grp_sst_load_u64(const grp_sst *sst, unsigned row, size_t offset);
/* Release store into our own row (not pushed). */
GRP_API void grp_sst_store_u64(grp_sst *sst, size_t offset, uint64_t value);

/* Writes bytes [offset, offset+len) of our row to the same place in every
 * live member's copy. Returns once every write is posted (not landed);
 * GRP_EINVAL for a range outside the row. A failed member is skipped, not an
 * error: it is reported through on_failure. */
GRP_API int grp_sst_push(grp_sst *sst, size_t offset, size_t len);
/* Same, to one member only. GRP_EPEER if that member has failed. */
GRP_API int grp_sst_push_to(grp_sst *sst, unsigned row, size_t offset, size_t len);

GRP_API bool grp_sst_row_failed(const grp_sst *sst, unsigned row);

/* Tells the engine that local state changed (our own row, or data a
 * predicate reads) so that predicates are evaluated now rather than after
 * its sleep. Cheap when the engine is awake. Any thread. */
GRP_API void grp_sst_notify(grp_sst *sst);

/* Whether the caller runs on the engine thread (inside a trigger or
 * callback), where blocking on the table would deadlock. */
GRP_API bool grp_sst_on_engine_thread(const grp_sst *sst);

enum grp_sst_trigger_kind {
	GRP_SST_ONCE,      /* removed after its trigger has run once */
	GRP_SST_RECURRENT, /* trigger runs on every engine pass while the predicate holds */
};

typedef bool (*grp_sst_predicate_fn)(const grp_sst *sst, void *arg);
typedef void (*grp_sst_trigger_fn)(grp_sst *sst, void *arg);
typedef uint64_t grp_sst_predicate_id;

/* Registers a predicate evaluated by the engine after every pass that saw
 * fabric activity, and at least every engine.sleep_ms. A recurrent predicate
 * that stays true keeps the engine busy: make it false once its work is done.
 * Callable from any thread, including from a trigger. */
GRP_API int grp_sst_predicate_add(grp_sst *sst, grp_sst_predicate_fn predicate,
				  grp_sst_trigger_fn trigger, void *arg,
				  enum grp_sst_trigger_kind kind, grp_sst_predicate_id *id);
/* Removes a predicate. From a trigger it takes effect at once; from another
 * thread a trigger of it that is running may finish. GRP_ENOTFOUND if the id
 * is unknown or a one-shot predicate already fired. */
GRP_API int grp_sst_predicate_remove(grp_sst *sst, grp_sst_predicate_id id);

/* Blocks the calling thread until predicate(sst, arg) holds. The predicate
 * is evaluated on the engine thread (like any predicate), and the caller is
 * woken only when it held, so a waiting thread costs nothing. GRP_ETIMEDOUT
 * after timeout_ms. Must not be called from a trigger. */
GRP_API int grp_sst_wait(grp_sst *sst, grp_sst_predicate_fn predicate, void *arg,
			 unsigned timeout_ms);

/* A barrier on a counter column: release-stores `value` into our 8-byte
 * cell at `offset`, pushes it, and waits until every member not failed holds
 * at least `value` in that cell. Use a value that grows each time.
 * GRP_ETIMEDOUT after timeout_ms. Must not be called from a trigger. */
GRP_API int grp_sst_barrier(grp_sst *sst, size_t offset, uint64_t value, unsigned timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
