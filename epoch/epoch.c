/* The engine side of ordered multicast inside one epoch (DESIGN §4):
 * receive slots, fill with nulls, push our slots and counters, deliver what
 * every member has received. One recurrent predicate says whether any of it
 * has work, so an idle group lets the engine sleep. */
#include <stdio.h>
#include <string.h>

#include "group_internal.h"
#include "log.h"
#include "order.h"

static const char *MOD = "multicast";

int epoch_layout_init(struct epoch_layout *lay, unsigned n, unsigned S, unsigned W,
		      size_t payload, grp_sst_layout *sst_layout)
{
	*lay = (struct epoch_layout){ .n = n, .S = S, .W = W, .payload = payload };
	lay->slot_bytes = (SLOT_HEADER_BYTES + payload + 7u) & ~(size_t)7u;
	lay->slots = grp_sst_layout_add(sst_layout, lay->slot_bytes, W);
	lay->sent = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->received = grp_sst_layout_add(sst_layout, sizeof(uint64_t), S);
	lay->contiguous = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->delivered = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->left = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->wedged = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	if (lay->slots == (size_t)-1 || lay->wedged == (size_t)-1)
		return GRP_ECONFIG;
	lay->counters_len = lay->left + sizeof(uint64_t) - lay->sent;
	return 0;
}

uint8_t *epoch_slot(grp_t *g, unsigned member, uint64_t k)
{
	return (uint8_t *)grp_sst_row(g->sst, member) + g->lay.slots +
	       (size_t)(k % g->lay.W) * g->lay.slot_bytes;
}

static bool present(const grp_t *g, unsigned member)
{
	return !atomic_load_explicit(&g->departed[member], memory_order_acquire);
}

static uint64_t min_over_present(const grp_t *g, size_t column)
{
	uint64_t lowest = UINT64_MAX;
	for (unsigned m = 0; m < g->n; m++) {
		if (!present(g, m))
			continue;
		uint64_t v = grp_sst_load_u64(g->sst, m, column);
		if (v < lowest)
			lowest = v;
	}
	return lowest;
}

uint64_t epoch_min_delivered(const grp_t *g)
{
	return min_over_present(g, g->lay.delivered);
}

/* Stops this view here and tells the others, who stop too: a member that
 * cannot go on would otherwise hold every delivery without a word. */
static void wedge(grp_t *g, const char *why, unsigned member)
{
	if (atomic_exchange(&g->wedged, true))
		return;
	log_error(MOD, "view %u wedged: member %u %s; nothing more is sent or delivered "
		  "in this view", g->vid, member, why);
	grp_sst_store_u64(g->sst, g->lay.wedged, 1);
	grp_sst_push(g->sst, g->lay.wedged, sizeof(uint64_t));
}

/* A member whose view is wedged, or -1. */
static int wedged_member(const grp_t *g)
{
	for (unsigned m = 0; m < g->n; m++)
		if (m != g->me && !grp_sst_row_failed(g->sst, m) &&
		    grp_sst_load_u64(g->sst, m, g->lay.wedged) != 0)
			return (int)m;
	return -1;
}

/* Whether we hold every message member m sent before it left. */
static bool holds_all_of(const grp_t *g, unsigned m, uint64_t left)
{
	for (unsigned s = 0; s < g->lay.S; s++)
		if (g->senders[s] == m && g->received[s] < left - 1)
			return false;
	return true;
}

/* A member that left announced how many messages it sent; once we hold them
 * all it is gone from every minimum and its later turns are nulls. */
static bool note_departures(grp_t *g)
{
	bool changed = false;
	for (unsigned m = 0; m < g->n; m++) {
		if (m == g->me || !present(g, m))
			continue;
		uint64_t left = grp_sst_load_u64(g->sst, m, g->lay.left);
		if (left == 0 || !holds_all_of(g, m, left))
			continue;
		for (unsigned s = 0; s < g->lay.S; s++)
			if (g->senders[s] == m)
				g->sender_gone[s] = true;
		g->departures++;
		atomic_store_explicit(&g->departed[m], true, memory_order_release);
		log_info(MOD, "member %u left", m);
		changed = true;
	}
	return changed;
}

/* Per-sender counts as the order arithmetic sees them: a sender that left
 * has nothing more to come. */
static void effective_received(const grp_t *g, uint64_t *eff)
{
	for (unsigned s = 0; s < g->lay.S; s++)
		eff[s] = g->sender_gone[s] ? ORDER_ALL : g->received[s];
}

/* Global sequences received contiguously, stopping after the last real
 * message once senders have left (their turns beyond are nulls forever). */
static uint64_t contiguous_now(const grp_t *g)
{
	uint64_t eff[g->lay.S];
	effective_received(g, eff);
	uint64_t contiguous = order_contiguous(eff, g->lay.S);
	uint64_t end = 0;
	bool any_gone = false;
	for (unsigned s = 0; s < g->lay.S; s++) {
		any_gone |= g->sender_gone[s];
		if (g->received[s] > 0) {
			uint64_t after_last = order_seq(g->received[s] - 1, s, g->lay.S) + 1;
			end = after_last > end ? after_last : end;
		}
	}
	return any_gone && end < contiguous ? end : contiguous;
}

static uint64_t null_target(const grp_t *g)
{
	uint64_t eff[g->lay.S];
	effective_received(g, eff);
	return order_null_target(eff, g->lay.S, (unsigned)g->my_sender);
}

static struct slot_header slot_header_of(grp_t *g, unsigned member, uint64_t k)
{
	struct slot_header h;
	memcpy(&h, epoch_slot(g, member, k), sizeof h);
	return h;
}

static unsigned slot_buffer(const struct slot_header *h)
{
	return h->flags >> SLOT_BUFFER_SHIFT;
}

static bool slot_valid(const grp_t *g, const struct slot_header *h, uint64_t k)
{
	if (h->stamp != k + 1)
		return false;
	if (!(h->flags & SLOT_LARGE))
		return h->len <= g->lay.payload && (h->flags & ~SLOT_NULL) == 0;
	return g->relay && h->len > g->lay.payload && h->len <= g->max_msg &&
	       slot_buffer(h) < RDMC_MAX_BUFFERS &&
	       (h->flags & ((1u << SLOT_BUFFER_SHIFT) - 1)) == SLOT_LARGE;
}

/* Whether sender s's message k, whose header we hold, is here whole. */
static bool arrived(grp_t *g, unsigned s, uint64_t k)
{
	struct slot_header h = slot_header_of(g, g->senders[s], k);
	return !(h.flags & SLOT_LARGE) || rdmc_relay_completed(g->relay, s, slot_buffer(&h)) == k + 1;
}

/* Checks sender s's new headers and hands the large messages among them
 * to RDMC; stops at one whose buffer is not released yet. */
static void scan(grp_t *g, unsigned s, uint64_t sent)
{
	unsigned m = g->senders[s];
	for (uint64_t k = g->scanned[s]; k < sent; k++) {
		struct slot_header h = slot_header_of(g, m, k);
		if (!slot_valid(g, &h, k)) {
			wedge(g, "pushed a corrupt slot", m);
			return;
		}
		if (h.flags & SLOT_LARGE) {
			int rc = rdmc_relay_start(g->relay, s, slot_buffer(&h), k + 1, h.len);
			if (rc == GRP_EBUSY)
				return;
			if (rc) {
				wedge(g, "sent a large message RDMC cannot take", m);
				return;
			}
		}
		g->scanned[s] = k + 1;
	}
}

/* Takes in what other senders pushed; returns whether anything arrived. */
static bool receive(grp_t *g)
{
	bool changed = false;
	for (unsigned s = 0; s < g->lay.S; s++) {
		unsigned m = g->senders[s];
		if ((int)s == g->my_sender || g->sender_gone[s])
			continue;
		scan(g, s, grp_sst_load_u64(g->sst, m, g->lay.sent));
		if (atomic_load(&g->wedged))
			return changed;
		uint64_t k = g->received[s];
		while (k < g->scanned[s] && arrived(g, s, k))
			k++;
		if (k > g->received[s]) {
			g->received[s] = k;
			changed = true;
		}
	}
	return note_departures(g) || changed;
}

static void write_null(grp_t *g, uint64_t k)
{
	struct slot_header h = { .stamp = k + 1, .len = 0, .flags = SLOT_NULL };
	memcpy(epoch_slot(g, g->me, k), &h, sizeof h);
}

/* The null rule: a sender with nothing to say that sees others ahead fills
 * its turns with nulls, so round-robin order never waits on it. */
static void fill_nulls(grp_t *g)
{
	if (g->my_sender < 0 || g->reserved || atomic_load(&g->leaving) ||
	    atomic_load(&g->window_waiters))
		return;
	uint64_t target = null_target(g);
	uint64_t k = atomic_load_explicit(&g->next_k, memory_order_relaxed);
	uint64_t min_delivered = epoch_min_delivered(g);
	for (; k < target; k++) {
		if (!order_slot_free(k, (unsigned)g->my_sender, g->lay.S, g->lay.W, min_delivered))
			break;
		write_null(g, k);
	}
	atomic_store_explicit(&g->next_k, k, memory_order_release);
}

/* Bytes of slot k that carry data: the header and the used payload. */
static size_t slot_used(grp_t *g, uint64_t k)
{
	struct slot_header h = slot_header_of(g, g->me, k);
	return SLOT_HEADER_BYTES + (h.flags & SLOT_LARGE ? 0 : h.len);
}

/* Our large messages among slots [from, to) start on their way; their
 * buffers were released before they were filled. */
static void start_large(grp_t *g, uint64_t from, uint64_t to)
{
	for (uint64_t k = from; k < to; k++) {
		struct slot_header h = slot_header_of(g, g->me, k);
		if (!(h.flags & SLOT_LARGE))
			continue;
		int rc = rdmc_relay_start(g->relay, (unsigned)g->my_sender, slot_buffer(&h), k + 1,
					  h.len);
		if (rc)
			log_error(MOD, "our message %llu cannot start by RDMC: %s",
				  (unsigned long long)k, grp_strerror(rc));
	}
}

/* Pushes slots [from, to) as one write per contiguous run of the ring. */
static void push_slots(grp_t *g, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t run_end = to;
		uint64_t ring_end = from - from % g->lay.W + g->lay.W;
		if (run_end > ring_end)
			run_end = ring_end;
		size_t first = g->lay.slots + (size_t)(from % g->lay.W) * g->lay.slot_bytes;
		size_t last = g->lay.slots + (size_t)((run_end - 1) % g->lay.W) * g->lay.slot_bytes;
		grp_sst_push(g->sst, first, last - first + slot_used(g, run_end - 1));
		from = run_end;
	}
}

/* Sends what our slots hold beyond what was pushed. */
static bool flush(grp_t *g)
{
	if (g->my_sender < 0)
		return false;
	pthread_mutex_lock(&g->send_lock);
	if (g->sealed) {
		pthread_mutex_unlock(&g->send_lock);
		return false;
	}
	fill_nulls(g);
	uint64_t written = atomic_load_explicit(&g->next_k, memory_order_acquire);
	bool changed = written > g->pushed;
	if (changed) {
		push_slots(g, g->pushed, written);
		if (g->relay)
			start_large(g, g->pushed, written);
		g->pushed = written;
		g->received[g->my_sender] = written;
		grp_sst_store_u64(g->sst, g->lay.sent, written);
	}
	pthread_mutex_unlock(&g->send_lock);
	return changed;
}

static void deliver_one(grp_t *g, uint64_t seq)
{
	unsigned s = order_sender(seq, g->lay.S);
	uint64_t k = order_index(seq, g->lay.S);
	unsigned m = g->senders[s];
	if (!present(g, m) && k >= grp_sst_load_u64(g->sst, m, g->lay.left) - 1)
		return; /* a turn after its sender left: a null */
	const uint8_t *slot = epoch_slot(g, m, k);
	struct slot_header h = slot_header_of(g, m, k);
	if (h.flags & SLOT_NULL)
		return;
	grp_delivery d = {
		.vid = g->vid, .sender = m, .index = g->messages_from[s]++, .seq = seq,
		.data = h.flags & SLOT_LARGE ? rdmc_relay_buffer(g->relay, s, slot_buffer(&h))
					     : slot + SLOT_HEADER_BYTES,
		.len = h.len,
	};
	g->cb.deliver(g, &d, g->user);
}

static bool deliver_stable(grp_t *g)
{
	uint64_t stable = min_over_present(g, g->lay.contiguous);
	if (stable <= g->delivered)
		return false;
	for (; g->delivered < stable; g->delivered++)
		deliver_one(g, g->delivered);
	grp_sst_store_u64(g->sst, g->lay.delivered, g->delivered);
	return true;
}

/* Our per-sender counts, for senders waiting to reuse slots or to leave. */
static void publish_received(grp_t *g)
{
	for (unsigned s = 0; s < g->lay.S; s++)
		grp_sst_store_u64(g->sst, g->lay.received + s * sizeof(uint64_t), g->received[s]);
}

/* Views are static until view changes land, so a large message whose
 * pipeline runs through a member that left cannot complete: the view
 * wedges rather than wait for it forever. */
static void wedge_if_stuck(grp_t *g)
{
	int m = wedged_member(g);
	if (m >= 0) {
		wedge(g, "wedged its view", (unsigned)m);
		return;
	}
	unsigned culprit;
	if (g->relay && g->departures && rdmc_relay_stuck(g->relay, g->departed, &culprit))
		wedge(g, "left while a large message was to pass through it (RDMC needs a view "
			 "change to route around it)", culprit);
}

static void progress(grp_sst *sst, void *arg)
{
	(void)sst;
	grp_t *g = arg;
	bool changed = receive(g);
	changed |= flush(g);
	if (g->relay && rdmc_relay_progress(g->relay))
		changed |= receive(g);
	wedge_if_stuck(g);
	if (changed)
		publish_received(g);
	uint64_t contiguous = contiguous_now(g);
	if (contiguous != grp_sst_load_u64(g->sst, g->me, g->lay.contiguous)) {
		grp_sst_store_u64(g->sst, g->lay.contiguous, contiguous);
		changed = true;
	}
	if (!atomic_load(&g->wedged))
		changed |= deliver_stable(g);
	if (changed)
		grp_sst_push(g->sst, g->lay.sent, g->lay.counters_len);
}

static bool null_due(const grp_t *g)
{
	if (g->my_sender < 0 || g->reserved || atomic_load(&g->leaving) ||
	    atomic_load(&g->window_waiters))
		return false;
	uint64_t k = atomic_load_explicit(&g->next_k, memory_order_relaxed);
	return null_target(g) > k &&
	       order_slot_free(k, (unsigned)g->my_sender, g->lay.S, g->lay.W,
			       epoch_min_delivered(g));
}

static bool has_work(const grp_sst *sst, void *arg)
{
	grp_t *g = arg;
	if (atomic_load_explicit(&g->wedged, memory_order_relaxed))
		return false;
	if (wedged_member(g) >= 0)
		return true;
	for (unsigned s = 0; s < g->lay.S; s++) {
		unsigned m = g->senders[s];
		if ((int)s == g->my_sender || g->sender_gone[s])
			continue;
		if (grp_sst_load_u64(sst, m, g->lay.sent) > g->scanned[s] ||
		    (g->received[s] < g->scanned[s] && arrived(g, s, g->received[s])))
			return true;
	}
	if (g->relay && rdmc_relay_has_work(g->relay))
		return true;
	for (unsigned m = 0; m < g->n; m++)
		if (m != g->me && present(g, m) && grp_sst_load_u64(sst, m, g->lay.left) != 0)
			return true;
	if (g->my_sender >= 0 && atomic_load_explicit(&g->next_k, memory_order_acquire) > g->pushed)
		return true;
	return null_due(g) || min_over_present(g, g->lay.contiguous) > g->delivered;
}

bool epoch_large_buffer_free(const grp_t *g)
{
	uint64_t sent = atomic_load_explicit(&g->large_sent, memory_order_relaxed);
	unsigned b = (unsigned)(sent % RDMC_MAX_BUFFERS);
	uint64_t holds = atomic_load_explicit(&g->buffer_seq[b], memory_order_relaxed);
	return epoch_min_delivered(g) >= holds &&
	       rdmc_relay_released(g->relay, (unsigned)g->my_sender, b);
}

void epoch_on_failure(grp_sst *sst, unsigned row, int err, void *user)
{
	(void)err;
	grp_t *g = user;
	if (grp_sst_load_u64(sst, row, g->lay.left) != 0)
		return; /* it said goodbye first: a departure, not a failure */
	wedge(g, "failed", row);
}

int epoch_start(grp_t *g)
{
	return grp_sst_predicate_add(g->sst, has_work, progress, g, GRP_SST_RECURRENT, NULL);
}
