/* The engine side of ordered multicast inside one epoch: receive slots,
 * fill with nulls, push our slots and counters, deliver what every member
 * has received, and end the epoch by sealing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epoch_internal.h"
#include "log.h"
#include "order.h"
#include "sst_table.h"

static const char *MOD = "multicast";

int epoch_layout_init(struct epoch_layout *lay, unsigned n, unsigned S, unsigned W,
		      size_t payload, size_t extra_bytes, grp_sst_layout *sst_layout)
{
	*lay = (struct epoch_layout){ .n = n, .S = S, .W = W, .payload = payload };
	lay->slot_bytes = (SLOT_HEADER_BYTES + payload + 7u) & ~(size_t)7u;
	lay->slots = grp_sst_layout_add(sst_layout, lay->slot_bytes, W);
	lay->sent = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->received = grp_sst_layout_add(sst_layout, sizeof(uint64_t), S);
	lay->contiguous = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->delivered = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->sealed = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->wedged = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->persisted = grp_sst_layout_add(sst_layout, sizeof(uint64_t), 1);
	lay->extra = extra_bytes ? grp_sst_layout_add(sst_layout, 1, extra_bytes) : 0;
	if (lay->slots == (size_t)-1 || lay->persisted == (size_t)-1 || lay->extra == (size_t)-1)
		return GRP_ECONFIG;
	lay->counters_len = lay->sealed + sizeof(uint64_t) - lay->sent;
	return 0;
}

static uint8_t *epoch_slot(const struct epoch *e, unsigned member, uint64_t k)
{
	return (uint8_t *)grp_sst_row(e->sst, member) + e->lay.slots +
	       (size_t)(k % e->lay.W) * e->lay.slot_bytes;
}

/* Over every member, failed ones too: what a failed member may lack is
 * settled by the view change's trim, not here. */
static uint64_t min_over_members(const struct epoch *e, size_t column)
{
	uint64_t lowest = UINT64_MAX;
	for (unsigned m = 0; m < e->n; m++) {
		uint64_t v = grp_sst_load_u64(e->sst, m, column);
		if (v < lowest)
			lowest = v;
	}
	return lowest;
}

static uint64_t epoch_min_delivered(const struct epoch *e)
{
	return min_over_members(e, e->lay.delivered);
}

/* A member broke the protocol: the membership takes it for failed. */
static void misbehaved(struct epoch *e, unsigned member, const char *why)
{
	if (e->misbehaving[member])
		return;
	e->misbehaving[member] = true;
	log_error(MOD, "view %u: member %u %s", e->vid, e->ids[member], why);
}

/* Whether we hold every message member m sent before it sealed. */
static bool holds_all_of(const struct epoch *e, unsigned m, uint64_t sealed)
{
	for (unsigned s = 0; s < e->lay.S; s++)
		if (e->senders[s] == m && e->received[s] < sealed - 1)
			return false;
	return true;
}

static void stream_ends(struct epoch *e, unsigned m)
{
	for (unsigned s = 0; s < e->lay.S; s++)
		if (e->senders[s] == m)
			e->sender_gone[s] = true;
}

/* A member that sealed announced how many messages it sent; once we hold
 * them all its later turns are nulls. */
static bool note_seals(struct epoch *e)
{
	bool changed = false;
	for (unsigned m = 0; m < e->n; m++) {
		if (m == e->me || e->ended[m])
			continue;
		uint64_t sealed = grp_sst_load_u64(e->sst, m, e->lay.sealed);
		if (sealed == 0 || !holds_all_of(e, m, sealed))
			continue;
		e->ended[m] = true;
		stream_ends(e, m);
		changed = true;
	}
	return changed;
}

/* Per-sender counts as the order arithmetic sees them: a sender that
 * sealed has nothing more to come. */
static void effective_received(const struct epoch *e, uint64_t *eff)
{
	for (unsigned s = 0; s < e->lay.S; s++)
		eff[s] = e->sender_gone[s] ? ORDER_ALL : e->received[s];
}

/* Global sequences received contiguously, stopping after the last real
 * message once senders sealed (their turns beyond are nulls forever). */
static uint64_t contiguous_now(const struct epoch *e)
{
	if (e->lay.S == 0)
		return 0;
	uint64_t eff[e->lay.S];
	effective_received(e, eff);
	uint64_t contiguous = order_contiguous(eff, e->lay.S);
	uint64_t end = 0;
	bool any_gone = false;
	for (unsigned s = 0; s < e->lay.S; s++) {
		any_gone |= e->sender_gone[s];
		if (e->received[s] > 0) {
			uint64_t after_last = order_seq(e->received[s] - 1, s, e->lay.S) + 1;
			end = after_last > end ? after_last : end;
		}
	}
	return any_gone && end < contiguous ? end : contiguous;
}

static uint64_t null_target(const struct epoch *e)
{
	uint64_t eff[e->lay.S];
	effective_received(e, eff);
	return order_null_target(eff, e->lay.S, (unsigned)e->my_sender);
}

static struct slot_header slot_header_of(const struct epoch *e, unsigned member, uint64_t k)
{
	struct slot_header h;
	memcpy(&h, epoch_slot(e, member, k), sizeof h);
	return h;
}

static unsigned slot_buffer(const struct slot_header *h)
{
	return h->flags >> SLOT_BUFFER_SHIFT;
}

static bool slot_valid(const struct epoch *e, const struct slot_header *h, uint64_t k)
{
	if (h->stamp != k + 1)
		return false;
	if (!(h->flags & SLOT_LARGE))
		return h->len <= e->lay.payload && (h->flags & ~SLOT_NULL) == 0;
	return e->relay && h->len > e->lay.payload && h->len <= e->max_msg &&
	       slot_buffer(h) < RDMC_MAX_BUFFERS &&
	       (h->flags & ((1u << SLOT_BUFFER_SHIFT) - 1)) == SLOT_LARGE;
}

/* Whether sender s's message k, whose header we hold, is here whole. */
static bool arrived(const struct epoch *e, unsigned s, uint64_t k)
{
	struct slot_header h = slot_header_of(e, e->senders[s], k);
	return !(h.flags & SLOT_LARGE) || rdmc_relay_completed(e->relay, s, slot_buffer(&h)) == k + 1;
}

/* Checks sender s's new headers and hands the large messages among them
 * to RDMC; stops at one whose buffer is not released yet. */
static void scan(struct epoch *e, unsigned s, uint64_t sent)
{
	unsigned m = e->senders[s];
	for (uint64_t k = e->scanned[s]; k < sent; k++) {
		struct slot_header h = slot_header_of(e, m, k);
		if (!slot_valid(e, &h, k)) {
			misbehaved(e, m, "pushed a corrupt slot");
			return;
		}
		if (h.flags & SLOT_LARGE) {
			int rc = rdmc_relay_start(e->relay, s, slot_buffer(&h), k + 1, h.len);
			if (rc == GRP_EBUSY)
				return;
			if (rc) {
				misbehaved(e, m, "sent a large message RDMC cannot take");
				return;
			}
		}
		e->scanned[s] = k + 1;
	}
}

/* Takes in what other senders pushed; returns whether anything arrived. */
static bool receive(struct epoch *e)
{
	bool changed = false;
	for (unsigned s = 0; s < e->lay.S; s++) {
		unsigned m = e->senders[s];
		if ((int)s == e->my_sender || e->sender_gone[s] || e->misbehaving[m])
			continue;
		scan(e, s, grp_sst_load_u64(e->sst, m, e->lay.sent));
		uint64_t k = e->received[s];
		while (k < e->scanned[s] && arrived(e, s, k))
			k++;
		if (k > e->received[s]) {
			e->received[s] = k;
			changed = true;
		}
	}
	return note_seals(e) || changed;
}

static void write_null(struct epoch *e, uint64_t k)
{
	struct slot_header h = { .stamp = k + 1, .len = 0, .flags = SLOT_NULL };
	memcpy(epoch_slot(e, e->me, k), &h, sizeof h);
}

/* The null rule: a sender with nothing to say that sees others ahead fills
 * its turns with nulls, so round-robin order never waits on it. */
static void fill_nulls(struct epoch *e)
{
	if (e->my_sender < 0 || e->sealed || e->snd->reserved || atomic_load(&e->snd->leaving) ||
	    atomic_load(&e->snd->window_waiters))
		return;
	uint64_t target = null_target(e);
	uint64_t first = atomic_load_explicit(&e->next_k, memory_order_relaxed), k = first;
	uint64_t min_delivered = epoch_min_delivered(e);
	for (; k < target; k++) {
		if (!order_slot_free(k, (unsigned)e->my_sender, e->lay.S, e->lay.W, min_delivered))
			break;
		write_null(e, k);
	}
	atomic_store_explicit(&e->next_k, k, memory_order_release);
	if (k > first)
		counter_add(links_counters(e->links), COUNTER_NULLS_SENT, k - first);
}

/* Bytes of slot k that carry data: the header and the used payload. */
static size_t slot_used(struct epoch *e, uint64_t k)
{
	struct slot_header h = slot_header_of(e, e->me, k);
	return SLOT_HEADER_BYTES + (h.flags & SLOT_LARGE ? 0 : h.len);
}

/* Our large messages among slots [from, to) start on their way; their
 * buffers were released before they were filled. */
static void start_large(struct epoch *e, uint64_t from, uint64_t to)
{
	for (uint64_t k = from; k < to; k++) {
		struct slot_header h = slot_header_of(e, e->me, k);
		if (!(h.flags & SLOT_LARGE))
			continue;
		int rc = rdmc_relay_start(e->relay, (unsigned)e->my_sender, slot_buffer(&h), k + 1,
					  h.len);
		if (rc)
			log_error(MOD, "our message %llu cannot start by RDMC: %s",
				  (unsigned long long)k, grp_strerror(rc));
	}
}

/* Pushes slots [from, to) as one write per contiguous run of the ring. */
static void push_slots(struct epoch *e, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t run_end = to;
		uint64_t ring_end = from - from % e->lay.W + e->lay.W;
		if (run_end > ring_end)
			run_end = ring_end;
		size_t first = e->lay.slots + (size_t)(from % e->lay.W) * e->lay.slot_bytes;
		size_t last = e->lay.slots + (size_t)((run_end - 1) % e->lay.W) * e->lay.slot_bytes;
		grp_sst_push(e->sst, first, last - first + slot_used(e, run_end - 1));
		from = run_end;
	}
}

/* Sends what our slots hold beyond what was pushed; send_lock held. */
static bool flush_locked(struct epoch *e)
{
	if (e->my_sender < 0 || e->sealed || atomic_load(&e->wedged))
		return false;
	fill_nulls(e);
	uint64_t written = atomic_load_explicit(&e->next_k, memory_order_acquire);
	bool changed = written > e->pushed;
	if (changed) {
		push_slots(e, e->pushed, written);
		if (e->relay)
			start_large(e, e->pushed, written);
		e->pushed = written;
		e->received[e->my_sender] = written;
		grp_sst_store_u64(e->sst, e->lay.sent, written);
	}
	return changed;
}

static bool flush(struct epoch *e)
{
	pthread_mutex_lock(&e->snd->send_lock);
	bool changed = flush_locked(e);
	pthread_mutex_unlock(&e->snd->send_lock);
	return changed;
}

/* Delivers global sequence seq unless the layer above cannot take it now
 * (then false, and nothing happened). */
static bool deliver_one(struct epoch *e, uint64_t seq, bool may_wait)
{
	unsigned s = order_sender(seq, e->lay.S);
	uint64_t k = order_index(seq, e->lay.S);
	unsigned m = e->senders[s];
	if (e->sender_gone[s] && k >= e->received[s])
		return true; /* a turn after its sender sealed: a null */
	const uint8_t *slot = epoch_slot(e, m, k);
	struct slot_header h = slot_header_of(e, m, k);
	if (h.flags & SLOT_NULL)
		return true;
	if (may_wait && e->cb.ready && !e->cb.ready(e->cb.arg, h.len))
		return false;
	grp_delivery d = {
		.vid = e->vid, .sender = e->ids[m], .index = e->messages_from[s]++, .seq = seq,
		.data = h.flags & SLOT_LARGE ? rdmc_relay_buffer(e->relay, s, slot_buffer(&h))
					     : slot + SLOT_HEADER_BYTES,
		.len = h.len,
		.version = epoch_version(e->vid, ++e->messages_delivered),
		.timestamp_us = h.sent_us,
	};
	e->cb.deliver(e->cb.arg, &d);
	return true;
}

/* The next stable message waits for the layer above. */
static bool above_waits(const struct epoch *e)
{
	if (!e->cb.ready)
		return false;
	for (uint64_t seq = e->delivered; seq < min_over_members(e, e->lay.contiguous); seq++) {
		unsigned s = order_sender(seq, e->lay.S);
		uint64_t k = order_index(seq, e->lay.S);
		if (e->sender_gone[s] && k >= e->received[s])
			continue;
		struct slot_header h = slot_header_of(e, e->senders[s], k);
		if (!(h.flags & SLOT_NULL))
			return !e->cb.ready(e->cb.arg, h.len);
	}
	return false;
}

static bool deliver_stable(struct epoch *e)
{
	uint64_t stable = min_over_members(e, e->lay.contiguous), from = e->delivered;
	while (e->delivered < stable && deliver_one(e, e->delivered, true))
		e->delivered++;
	if (e->delivered == from)
		return false;
	grp_sst_store_u64(e->sst, e->lay.delivered, e->delivered);
	return true;
}

/* Our per-sender counts, for senders waiting to reuse slots or to leave. */
static void publish_received(struct epoch *e)
{
	for (unsigned s = 0; s < e->lay.S; s++)
		grp_sst_store_u64(e->sst, e->lay.received + s * sizeof(uint64_t), e->received[s]);
}

bool epoch_progress(struct epoch *e)
{
	if (atomic_load_explicit(&e->wedged, memory_order_relaxed))
		return false;
	bool changed = receive(e);
	changed |= flush(e);
	if (e->relay && rdmc_relay_progress(e->relay))
		changed |= receive(e);
	if (changed)
		publish_received(e);
	uint64_t contiguous = contiguous_now(e);
	if (contiguous != grp_sst_load_u64(e->sst, e->me, e->lay.contiguous)) {
		grp_sst_store_u64(e->sst, e->lay.contiguous, contiguous);
		changed = true;
	}
	changed |= deliver_stable(e);
	if (changed)
		grp_sst_push(e->sst, e->lay.sent, e->lay.counters_len);
	return changed;
}

static bool null_due(const struct epoch *e)
{
	if (e->my_sender < 0 || e->sealed || e->snd->reserved || atomic_load(&e->snd->leaving) ||
	    atomic_load(&e->snd->window_waiters))
		return false;
	uint64_t k = atomic_load_explicit(&e->next_k, memory_order_relaxed);
	return null_target(e) > k &&
	       order_slot_free(k, (unsigned)e->my_sender, e->lay.S, e->lay.W,
			       epoch_min_delivered(e));
}

bool epoch_has_work(const struct epoch *e)
{
	const grp_sst *sst = e->sst;
	if (atomic_load_explicit(&e->wedged, memory_order_relaxed))
		return false;
	for (unsigned s = 0; s < e->lay.S; s++) {
		unsigned m = e->senders[s];
		if ((int)s == e->my_sender || e->sender_gone[s] || e->misbehaving[m])
			continue;
		if (grp_sst_load_u64(sst, m, e->lay.sent) > e->scanned[s] ||
		    (e->received[s] < e->scanned[s] && arrived(e, s, e->received[s])))
			return true;
	}
	if (e->relay && rdmc_relay_has_work(e->relay))
		return true;
	for (unsigned m = 0; m < e->n; m++)
		if (m != e->me && !e->ended[m] && grp_sst_load_u64(sst, m, e->lay.sealed) != 0)
			return true;
	if (e->my_sender >= 0 && !e->sealed &&
	    atomic_load_explicit(&e->next_k, memory_order_acquire) > e->pushed)
		return true;
	/* Sealing moves our own contiguous count without anything arriving. */
	return null_due(e) ||
	       (min_over_members(e, e->lay.contiguous) > e->delivered && !above_waits(e)) ||
	       (e->sealed && contiguous_now(e) != grp_sst_load_u64(sst, e->me, e->lay.contiguous));
}

static bool large_buffer_free(const struct epoch *e)
{
	uint64_t sent = atomic_load_explicit(&e->large_sent, memory_order_relaxed);
	unsigned b = (unsigned)(sent % RDMC_MAX_BUFFERS);
	uint64_t holds = atomic_load_explicit(&e->buffer_seq[b], memory_order_relaxed);
	return epoch_min_delivered(e) >= holds &&
	       rdmc_relay_released(e->relay, (unsigned)e->my_sender, b);
}

const char *epoch_params_problem(const struct epoch_params *p)
{
	if (p->n == 0 || p->me >= p->n || p->n_senders > p->n)
		return "the senders are not members of the view";
	struct epoch_layout lay;
	grp_sst_layout scratch = { 0 };
	if (epoch_layout_init(&lay, p->n, p->n_senders, p->window, p->max_smc_payload,
			      p->extra_bytes, &scratch))
		return "the send window (window x max_smc_payload) does not fit a table row";
	if (p->rdmc_max_payload > p->max_smc_payload && p->rdmc_max_payload > UINT32_MAX)
		return "ordered multicast carries at most 4 GiB - 1 bytes a message";
	if (p->rdmc_max_payload > p->max_smc_payload)
		return rdmc_relay_params_problem(p->rdmc_max_payload, p->rdmc_block_size,
						 p->schedule, p->n);
	return NULL;
}

/* Messages above a slot travel by RDMC, each sender a stream with its own
 * buffers, so that one large message can cross the group while the
 * previous one waits for stability. */
static int create_relay(struct epoch *e, const struct epoch_params *p)
{
	struct rdmc_relay_params rp = {
		.n = e->n, .me = e->me, .ids = e->ids, .parity = e->vid & 1u,
		.streams = e->lay.S, .stream_member = e->senders, .buffers = RDMC_MAX_BUFFERS,
		.max_payload = p->rdmc_max_payload, .block_size = p->rdmc_block_size,
		.schedule = p->schedule,
	};
	int rc = rdmc_relay_create(e->links, &rp, &e->relay);
	if (rc)
		return rc;
	size_t capacity = rdmc_relay_capacity(e->relay);
	e->max_msg = capacity < UINT32_MAX ? capacity : UINT32_MAX;
	return 0;
}

static int alloc_state(struct epoch *e, const struct epoch_params *p)
{
	e->ids = malloc(e->n * sizeof *e->ids);
	e->senders = malloc(p->n_senders * sizeof *e->senders);
	e->received = calloc(p->n_senders, sizeof *e->received);
	e->scanned = calloc(p->n_senders, sizeof *e->scanned);
	e->messages_from = calloc(p->n_senders, sizeof *e->messages_from);
	e->sender_gone = calloc(p->n_senders, sizeof *e->sender_gone);
	e->misbehaving = calloc(e->n, sizeof *e->misbehaving);
	e->ended = calloc(e->n, sizeof *e->ended);
	e->posted = calloc(e->n, sizeof *e->posted);
	if (!e->ids || !e->senders || !e->received || !e->scanned || !e->messages_from ||
	    !e->sender_gone || !e->misbehaving || !e->ended || !e->posted)
		return GRP_ENOMEM;
	memcpy(e->ids, p->ids, e->n * sizeof *e->ids);
	if (p->n_senders)
		memcpy(e->senders, p->senders, p->n_senders * sizeof *e->senders);
	e->my_sender = -1;
	for (unsigned s = 0; s < p->n_senders; s++)
		if (e->senders[s] == e->me)
			e->my_sender = (int)s;
	return 0;
}

static struct links_regions my_regions(const struct epoch *e)
{
	struct links_regions mine = { .n = e->relay ? 2 : 1, .r = { sst_region(e->sst) } };
	if (e->relay)
		mine.r[1] = rdmc_relay_region(e->relay);
	return mine;
}

/* The mailbox stamp of an epoch: its view id, offset so that 0 is none. */
static uint64_t exchange_stamp(const struct epoch *e)
{
	return (uint64_t)e->vid + 1;
}

/* Posts our keys to every member not yet posted to; a member we are not
 * connected to yet (a joiner still connecting) is posted to once it is. */
static int post_keys(struct epoch *e)
{
	struct links_regions mine = my_regions(e);
	e->posted[e->me] = true;
	for (unsigned r = 0; r < e->n; r++) {
		if (e->posted[r])
			continue;
		int rc = links_exchange_post_to(e->links, exchange_stamp(e), e->ids[r], &mine);
		if (rc && rc != GRP_EPEER)
			return rc;
		e->posted[r] = rc == 0;
	}
	return 0;
}

static int build(struct epoch *e, const struct epoch_params *p)
{
	int rc = alloc_state(e, p);
	grp_sst_layout layout = { 0 };
	if (!rc)
		rc = epoch_layout_init(&e->lay, e->n, p->n_senders, p->window, p->max_smc_payload,
				       p->extra_bytes, &layout);
	e->max_msg = e->lay.payload;
	if (!rc && p->rdmc_max_payload > p->max_smc_payload && p->n_senders > 0)
		rc = create_relay(e, p);
	if (rc)
		return rc;
	struct sst_params sp = {
		.n = e->n, .me = e->me, .ids = e->ids, .row_bytes = layout.row_bytes,
		.fence_timeout_ms = p->fence_timeout_ms,
	};
	rc = sst_create(e->links, &sp, NULL, e, &e->sst);
	return rc ? rc : post_keys(e);
}

int epoch_create(struct links *links, const struct epoch_params *p,
		 const struct epoch_callbacks *cb, struct epoch_sender *sender, struct epoch **out)
{
	if (epoch_params_problem(p))
		return GRP_EINVAL;
	struct epoch *e = calloc(1, sizeof *e);
	if (!e)
		return GRP_ENOMEM;
	e->links = links;
	e->cb = *cb;
	e->snd = sender;
	e->vid = p->vid;
	e->n = p->n;
	e->me = p->me;
	int rc = build(e, p);
	if (rc) {
		epoch_destroy(e);
		return rc;
	}
	*out = e;
	return 0;
}

int epoch_connect(struct epoch *e, const bool *absent)
{
	if (e->state == EPOCH_LIVE)
		return 0;
	int prc = post_keys(e);
	if (prc)
		return prc;
	struct links_regions mine = my_regions(e);
	struct links_regions theirs[e->n];
	int rc = links_exchange_collect(e->links, exchange_stamp(e), e->ids, e->n, e->me, absent,
					&mine, theirs);
	if (rc)
		return rc;
	if (e->relay)
		rdmc_relay_connect(e->relay, theirs, 1);
	sst_connect(e->sst, theirs, 0);
	e->state = EPOCH_LIVE;
	return 0;
}

bool epoch_keys_arrived(const struct epoch *e, unsigned rank)
{
	return rank == e->me || links_exchange_arrived(e->links, exchange_stamp(e), e->ids[rank]);
}

bool epoch_live(const struct epoch *e)
{
	return e->state == EPOCH_LIVE;
}

bool epoch_seal(struct epoch *e)
{
	pthread_mutex_lock(&e->snd->send_lock);
	if (e->snd->reserved) {
		pthread_mutex_unlock(&e->snd->send_lock);
		return false;
	}
	if (!e->sealed) {
		flush_locked(e);
		e->sealed = true;
		if (e->my_sender >= 0)
			e->sender_gone[e->my_sender] = true;
		grp_sst_store_u64(e->sst, e->lay.sealed, e->pushed + 1);
		log_debug(MOD, "view %u sealed after %llu messages of ours", e->vid,
			  (unsigned long long)e->pushed);
	}
	pthread_mutex_unlock(&e->snd->send_lock);
	grp_sst_push(e->sst, e->lay.sent, e->lay.counters_len);
	return true;
}

bool epoch_sealed(const struct epoch *e)
{
	return e->sealed;
}

bool epoch_seal_requested(const struct epoch *e)
{
	for (unsigned m = 0; m < e->n; m++)
		if (m != e->me && !grp_sst_row_failed(e->sst, m) &&
		    grp_sst_load_u64(e->sst, m, e->lay.sealed) != 0)
			return true;
	return false;
}

bool epoch_drained(const struct epoch *e)
{
	if (!e->sealed)
		return false;
	for (unsigned m = 0; m < e->n; m++)
		if (grp_sst_load_u64(e->sst, m, e->lay.sealed) == 0)
			return false;
	for (unsigned s = 0; s < e->lay.S; s++)
		if (!e->sender_gone[s])
			return false;
	uint64_t end = contiguous_now(e);
	return min_over_members(e, e->lay.contiguous) >= end && e->delivered >= end;
}

static void free_state(struct epoch *e)
{
	rdmc_relay_free(e->relay);
	free(e->ids);
	free(e->senders);
	free(e->received);
	free(e->scanned);
	free(e->messages_from);
	free(e->sender_gone);
	free(e->misbehaving);
	free(e->quiesce_tickets);
	free(e->ended);
	free(e->posted);
	free(e);
}

int epoch_quiesce(struct epoch *e)
{
	e->quiesce_tickets = calloc(e->n, sizeof *e->quiesce_tickets);
	if (!e->quiesce_tickets)
		return GRP_ENOMEM;
	for (unsigned m = 0; m < e->n; m++)
		if (m != e->me)
			e->quiesce_tickets[m] = fab_write_ticket(links_domain(e->links), e->ids[m]);
	return 0;
}

bool epoch_quiet(const struct epoch *e)
{
	for (unsigned m = 0; m < e->n; m++)
		if (m != e->me && !fab_write_completed(links_domain(e->links), e->ids[m],
						       e->quiesce_tickets[m]))
			return false;
	return true;
}

void epoch_retire(struct epoch *e)
{
	if (e->sst)
		sst_retire(e->sst);
	free_state(e);
}

void epoch_destroy(struct epoch *e)
{
	if (!e)
		return;
	if (e->sst)
		sst_fence(e->sst);
	sst_destroy(e->sst);
	free_state(e);
}

bool epoch_wedged(const struct epoch *e)
{
	return atomic_load(&e->wedged);
}

uint32_t epoch_vid(const struct epoch *e)
{
	return e->vid;
}

unsigned epoch_size(const struct epoch *e)
{
	return e->n;
}

unsigned epoch_rank(const struct epoch *e)
{
	return e->me;
}

unsigned epoch_member_id(const struct epoch *e, unsigned rank)
{
	return e->ids[rank];
}

size_t epoch_max_msg(const struct epoch *e)
{
	return e->max_msg;
}

static bool is_large(const struct epoch *e, size_t len)
{
	return len > e->lay.payload;
}

static bool slot_free(const struct epoch *e, size_t len)
{
	uint64_t k = atomic_load(&e->next_k);
	return order_slot_free(k, (unsigned)e->my_sender, e->lay.S, e->lay.W,
			       epoch_min_delivered(e)) &&
	       (!is_large(e, len) || large_buffer_free(e));
}

bool epoch_window_open(const struct epoch *e, size_t len)
{
	return e->state == EPOCH_LIVE && !e->sealed && !atomic_load(&e->wedged) &&
	       slot_free(e, len);
}

static struct slot_header *next_slot(struct epoch *e)
{
	return (struct slot_header *)epoch_slot(e, e->me, atomic_load(&e->next_k));
}

void *epoch_payload(struct epoch *e, size_t len)
{
	if (!is_large(e, len))
		return (uint8_t *)next_slot(e) + SLOT_HEADER_BYTES;
	unsigned b = (unsigned)(atomic_load(&e->large_sent) % RDMC_MAX_BUFFERS);
	return rdmc_relay_buffer(e->relay, (unsigned)e->my_sender, b);
}

static uint64_t real_time_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void commit_stamped(struct epoch *e, size_t len, uint64_t sent_us)
{
	uint64_t k = atomic_load(&e->next_k);
	struct slot_header h = { .stamp = k + 1, .len = (uint32_t)len, .sent_us = sent_us };
	if (is_large(e, len)) {
		unsigned b = (unsigned)(atomic_fetch_add_explicit(&e->large_sent, 1,
								  memory_order_relaxed) %
					RDMC_MAX_BUFFERS);
		h.flags = SLOT_LARGE | b << SLOT_BUFFER_SHIFT;
		atomic_store_explicit(&e->buffer_seq[b],
				      order_seq(k, (unsigned)e->my_sender, e->lay.S) + 1,
				      memory_order_relaxed);
	}
	memcpy(next_slot(e), &h, sizeof h);
	atomic_store_explicit(&e->next_k, k + 1, memory_order_release);
}

void epoch_commit(struct epoch *e, size_t len)
{
	commit_stamped(e, len, real_time_us());
}

bool epoch_others_hold_ours(const struct epoch *e)
{
	if (e->my_sender < 0)
		return true;
	uint64_t written = atomic_load(&e->next_k);
	if (e->pushed != written)
		return false;
	size_t column = e->lay.received + (size_t)e->my_sender * sizeof(uint64_t);
	for (unsigned m = 0; m < e->n; m++)
		if (m != e->me && !grp_sst_row_failed(e->sst, m) &&
		    grp_sst_load_u64(e->sst, m, column) < written)
			return false;
	return true;
}

void epoch_wedge(struct epoch *e)
{
	pthread_mutex_lock(&e->snd->send_lock);
	bool already = atomic_exchange(&e->wedged, true);
	pthread_mutex_unlock(&e->snd->send_lock);
	if (already)
		return;
	log_debug(MOD, "view %u wedged", e->vid);
	publish_received(e);
	grp_sst_store_u64(e->sst, e->lay.wedged, 1);
	grp_sst_push(e->sst, e->lay.sent, e->lay.counters_len);
	grp_sst_push(e->sst, e->lay.wedged, sizeof(uint64_t));
}

void epoch_publish_persisted(struct epoch *e, uint64_t version)
{
	if (grp_sst_load_u64(e->sst, e->me, e->lay.persisted) >= version)
		return;
	grp_sst_store_u64(e->sst, e->lay.persisted, version);
	grp_sst_push(e->sst, e->lay.persisted, sizeof(uint64_t));
}

uint64_t epoch_min_persisted(const struct epoch *e)
{
	return min_over_members(e, e->lay.persisted);
}

bool epoch_misbehaved(const struct epoch *e, unsigned rank)
{
	return e->misbehaving[rank];
}

bool epoch_wedged_at(const struct epoch *e, unsigned rank)
{
	return grp_sst_load_u64(e->sst, rank, e->lay.wedged) != 0;
}

unsigned epoch_senders(const struct epoch *e)
{
	return e->lay.S;
}

unsigned epoch_sender_member(const struct epoch *e, unsigned s)
{
	return e->senders[s];
}

uint64_t epoch_received_at(const struct epoch *e, unsigned rank, unsigned s)
{
	return grp_sst_load_u64(e->sst, rank, e->lay.received + s * sizeof(uint64_t));
}

bool epoch_deliver_trim(struct epoch *e, const uint64_t *trim)
{
	unsigned S = e->lay.S;
	uint64_t end = e->delivered;
	for (unsigned s = 0; s < S; s++) {
		if (trim[s] > e->received[s]) {
			log_error(MOD, "view %u: the trim counts %llu messages of sender %u, we hold "
				  "%llu", e->vid, (unsigned long long)trim[s], e->ids[e->senders[s]],
				  (unsigned long long)e->received[s]);
			return false;
		}
		if (trim[s] > 0 && order_seq(trim[s] - 1, s, S) + 1 > end)
			end = order_seq(trim[s] - 1, s, S) + 1;
	}
	for (; e->delivered < end; e->delivered++)
		if (order_index(e->delivered, S) < trim[order_sender(e->delivered, S)])
			deliver_one(e, e->delivered, false);
	return true;
}

struct grp_sst *epoch_table(const struct epoch *e)
{
	return e->sst;
}

size_t epoch_extra(const struct epoch *e)
{
	return e->lay.extra;
}

/* Our message k of the old epoch as it was committed: payload and length,
 * or NULL for a null. */
static const void *committed_payload(struct epoch *e, uint64_t k, size_t *len,
				     uint64_t *sent_us)
{
	struct slot_header h = slot_header_of(e, e->me, k);
	*len = h.len;
	*sent_us = h.sent_us;
	if (h.flags & SLOT_NULL)
		return NULL;
	if (h.flags & SLOT_LARGE)
		return rdmc_relay_buffer(e->relay, (unsigned)e->my_sender, slot_buffer(&h));
	return epoch_slot(e, e->me, k) + SLOT_HEADER_BYTES;
}

int epoch_carry_over(struct epoch *old, const uint64_t *trim, struct epoch *next)
{
	if (old->my_sender < 0)
		return 0;
	uint64_t to = atomic_load(&old->next_k);
	unsigned carried = 0;
	for (uint64_t k = trim[old->my_sender]; k < to; k++) {
		size_t len;
		uint64_t sent_us;
		const void *data = committed_payload(old, k, &len, &sent_us);
		if (!data)
			continue;
		if (next->my_sender < 0 || !slot_free(next, len)) {
			log_error(MOD, "view %u: our message %llu of view %u does not fit the new "
				  "window", next->vid, (unsigned long long)k, old->vid);
			return GRP_ENOSPC;
		}
		memcpy(epoch_payload(next, len), data, len);
		commit_stamped(next, len, sent_us);
		carried++;
	}
	if (carried)
		log_info(MOD, "view %u: %u messages of ours outside view %u's trim sent again",
			 next->vid, carried, old->vid);
	return 0;
}

void epoch_log_incomplete(const struct epoch *e)
{
	if (e->relay && !atomic_load(&e->wedged))
		rdmc_relay_log_incomplete(e->relay);
}
