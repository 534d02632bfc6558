#include "durable.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dispatch.h"
#include "epoch.h"
#include "frame.h"
#include "group_internal.h"
#include "log.h"
#include "log_stream.h"
#include "view_record.h"

static const char *MOD = "persist";

/* The writer thread's progress wakes the engine: the frontier may move,
 * and deliveries waiting for room may go on. */
static void wake_engine(grp_t *g)
{
	struct durable *d = &g->durable;
	pthread_mutex_lock(&d->notify_lock);
	if (d->notify)
		links_notify(d->notify);
	pthread_mutex_unlock(&d->notify_lock);
}

static void log_failed(void *arg, int err)
{
	grp_t *g = arg;
	int none = 0;
	atomic_compare_exchange_strong(&g->durable.failed, &none, err);
	wake_engine(g);
}

static void log_synced(void *arg, uint64_t version)
{
	(void)version;
	wake_engine(arg);
}

static void log_room(void *arg)
{
	wake_engine(arg);
}

void durable_detach(grp_t *g)
{
	struct durable *d = &g->durable;
	pthread_mutex_lock(&d->notify_lock);
	d->notify = NULL;
	pthread_mutex_unlock(&d->notify_lock);
}

bool durable_ready(grp_t *g, size_t len)
{
	return !g->durable.log || handoff_holding(g) || plog_has_room(g->durable.log, len);
}

int durable_open(grp_t *g, const grp_config *cfg)
{
	const char *mode = config_str(cfg, "persist.mode");
	if (strcmp(mode, "off") == 0)
		return 0;
	const char *dir = config_str(cfg, "persist.dir");
	if (!dir[0]) {
		log_error(MOD, "persist.mode = %s needs persist.dir", mode);
		return GRP_ECONFIG;
	}
	struct plog_params p = {
		.dir = dir,
		.group_id = frame_group_id(config_str(cfg, "group.name")),
		.mode = strcmp(mode, "durable") == 0 ? PLOG_DURABLE : PLOG_ASYNC,
		.segment_bytes = (size_t)config_uint(cfg, "persist.segment_mb") << 20,
		.ring_bytes = (size_t)config_uint(cfg, "persist.ring_mb") << 20,
		.sync_interval_ms = (unsigned)config_uint(cfg, "persist.sync_interval_ms"),
		.on_synced = log_synced,
		.on_failed = log_failed,
		.on_room = log_room,
		.arg = g,
	};
	struct plog_open_report report;
	int rc = plog_open(&p, &g->durable.log, &report);
	if (rc) {
		log_error(MOD, "cannot open the log in %s: %s", dir, grp_strerror(rc));
		return rc;
	}
	g->durable.last_version = report.last_version;
	return 0;
}

int durable_last_view(grp_t *g, uint32_t *vid, unsigned *ids, unsigned cap, unsigned *n)
{
	struct plog_iter *it;
	int rc = plog_iter_versions(g->durable.log, 0, UINT64_MAX, &it);
	if (rc)
		return rc;
	struct plog_record r;
	int found = GRP_ENOTFOUND;
	while ((rc = plog_iter_next(it, &r)) == 1)
		if (r.kind == PLOG_VIEW)
			found = view_record_decode(&r, vid, ids, cap, n);
	plog_iter_free(it);
	if (found == GRP_ECORRUPT)
		log_error(MOD, "the log's last view record is malformed");
	return rc ? rc : found;
}

int durable_restart_pending(grp_t *g, const unsigned *base, unsigned n)
{
	struct durable *d = &g->durable;
	d->restart_base = malloc(n * sizeof *base);
	if (!d->restart_base)
		return GRP_ENOMEM;
	memcpy(d->restart_base, base, n * sizeof *base);
	d->restart_n = n;
	atomic_store(&d->restart_pending, true);
	return 0;
}

/* Whether v holds a strict majority of the view the group restarts from. */
static bool restart_quorum(const struct durable *d, const grp_view *v)
{
	unsigned present = 0;
	for (unsigned i = 0; i < d->restart_n; i++)
		for (unsigned j = 0; j < v->n_members; j++)
			present += v->members[j] == d->restart_base[i];
	return 2 * present > d->restart_n;
}

static grp_delivery delivery_of(const struct plog_record *r)
{
	return (grp_delivery){
		.vid = epoch_version_vid(r->version),
		.sender = r->sender,
		.data = r->data,
		.len = r->len,
		.version = r->version,
		.timestamp_us = r->hlc,
		.replayed = 1,
	};
}

int durable_replay(grp_t *g)
{
	if (!g->durable.log)
		return 0;
	struct durable *d = &g->durable;
	struct plog_iter *it;
	int rc = plog_iter_versions(d->log, d->app_has + 1, UINT64_MAX, &it);
	if (rc)
		return rc;
	struct plog_record r;
	uint64_t replayed = 0;
	while ((rc = plog_iter_next(it, &r)) == 1) {
		d->app_has = r.version;
		if (r.kind != PLOG_MESSAGE)
			continue;
		grp_delivery msg = delivery_of(&r);
		dispatch_deliver(g, &msg);
		replayed++;
	}
	plog_iter_free(it);
	if (rc == 0)
		log_info(MOD, "%llu messages replayed from the log", (unsigned long long)replayed);
	return rc;
}

/* Engine thread: our synced version to the view, the view's minimum to
 * the application; and a failed log ends our membership. */
static int run(void *arg)
{
	grp_t *g = arg;
	struct durable *d = &g->durable;
	int failed = atomic_load(&d->failed);
	if (failed && !d->abandoned) {
		d->abandoned = true;
		log_error(MOD, "the log failed (%s): this member leaves the group",
			  grp_strerror(failed));
		membership_abandon(g->membership, failed);
		return 1;
	}
	struct epoch *e = membership_epoch(g->membership);
	if (failed || !e || !epoch_live(e) || epoch_wedged(e))
		return 0;
	int work = 0;
	uint64_t synced = plog_synced(d->log);
	uint32_t vid = epoch_vid(e);
	if (d->published_in != e || d->published_vid != vid || synced > d->published) {
		epoch_publish_persisted(e, synced);
		d->published_in = e;
		d->published_vid = vid;
		d->published = synced;
		work++;
	}
	uint64_t everywhere = epoch_min_persisted(e);
	if (everywhere > d->reported && !handoff_holding(g)) {
		d->reported = everywhere;
		atomic_store_explicit(&d->frontier, everywhere, memory_order_release);
		dispatch_persisted(g, everywhere);
		work++;
	}
	return work;
}

int durable_start(grp_t *g)
{
	if (!g->durable.log)
		return 0;
	struct links_client c = { .run = run, .arg = g };
	pthread_mutex_lock(&g->durable.notify_lock);
	g->durable.notify = g->links;
	pthread_mutex_unlock(&g->durable.notify_lock);
	/* Before the client runs on the engine thread, which owns it then. */
	g->durable.published_in = NULL;
	/* It runs until the links close (no removal before). */
	links_client_id id;
	return links_client_add(g->links, &c, &id);
}

void durable_close(grp_t *g)
{
	struct durable *d = &g->durable;
	if (d->log)
		plog_close(d->log);
	free(d->pending_view);
	free(d->restart_base);
	d->log = NULL;
	d->pending_view = NULL;
	d->restart_base = NULL;
}

void durable_deliver(grp_t *g, const grp_delivery *msg)
{
	struct durable *d = &g->durable;
	if (!d->log) {
		dispatch_deliver(g, msg);
		return;
	}
	/* What the log cannot hold never reaches the application. */
	if (atomic_load(&d->failed))
		return;
	grp_delivery logged = *msg;
	int rc = plog_append(d->log, PLOG_MESSAGE, msg->sender, msg->version, msg->timestamp_us,
			     msg->data, msg->len, &logged.timestamp_us);
	if (rc) {
		log_failed(g, rc);
		return;
	}
	d->last_version = msg->version;
	d->app_has = msg->version;
	if (msg->sender == links_my_id(g->links)) {
		atomic_store_explicit(&d->own_version, msg->version, memory_order_relaxed);
		atomic_fetch_add_explicit(&d->own_delivered, 1, memory_order_release);
	}
	dispatch_deliver(g, &logged);
}

void durable_view(grp_t *g, const grp_view *v, enum durable_view_kind kind)
{
	struct durable *d = &g->durable;
	uint64_t version = epoch_version(v->vid, 0);
	/* A view of a restart that has no quorum yet is not the group's:
	 * nothing is sent in it, and a restart after a crash now starts
	 * again from the view before. */
	bool unlogged = atomic_load(&d->restart_pending) && kind != DURABLE_VIEW_STOP &&
			!restart_quorum(d, v);
	if (atomic_load(&d->restart_pending) && !unlogged && kind != DURABLE_VIEW_STOP) {
		atomic_store(&d->restart_pending, false);
		log_info(MOD, "view %u holds a majority of the last view: the group restarted",
			 v->vid);
		links_notify(g->links);
	}
	if (d->log && kind != DURABLE_VIEW_STOP && !unlogged && !atomic_load(&d->failed)) {
		uint8_t *rec = malloc(VIEW_RECORD_MAX);
		size_t len = rec ? view_record_encode(v, rec) : 0;
		int rc = rec ? 0 : GRP_ENOMEM;
		if (rec && kind == DURABLE_VIEW_JOINED) {
			free(d->pending_view);
			d->pending_view = rec;
			d->pending_view_len = len;
			d->pending_version = version;
			rec = NULL;
		} else if (rec) {
			rc = plog_append(d->log, PLOG_VIEW, 0, version, 0, rec, len, NULL);
			if (!rc)
				d->last_version = d->app_has = version;
		}
		free(rec);
		if (rc) {
			log_failed(g, rc);
			return;
		}
	}
	dispatch_view(g, v, kind == DURABLE_VIEW_STOP);
}

void durable_sent(grp_t *g)
{
	atomic_fetch_add_explicit(&g->durable.own_sent, 1, memory_order_relaxed);
}

/* The last version of our log at or below `version` (0: none): where a
 * joiner whose log ends at `version` must cut its own back to. Its log
 * is a prefix of the group's history unless the group restarted without
 * its end, from a shorter log. */
static int common_end(struct plog *log, uint64_t version, uint64_t *out)
{
	uint32_t vid = epoch_version_vid(version);
	uint64_t from = version ? epoch_version(vid, 0) : 0;
	*out = 0;
	for (int pass = 0; pass < 2 && !*out; pass++, from = 0) {
		struct plog_iter *it;
		int rc = plog_iter_versions(log, from, version, &it);
		if (rc)
			return rc;
		struct plog_record r;
		while ((rc = plog_iter_next(it, &r)) == 1)
			*out = r.version;
		plog_iter_free(it);
		if (rc)
			return rc;
	}
	return 0;
}

/* Serving: for each joiner where its log must end, then the records of
 * ours after the lowest of those ends. */
int durable_serve(grp_t *g, const unsigned *to, unsigned n, uint64_t before)
{
	uint8_t head[LOG_STREAM_LOG_HEAD];
	log_stream_head_encode(head, n);
	/* Records still in the writer's ring are not readable yet. */
	int rc = plog_sync(g->durable.log);
	if (!rc)
		rc = grp_state_write(g, head, sizeof head);
	uint64_t after = UINT64_MAX;
	for (unsigned i = 0; i < n && !rc; i++) {
		uint64_t cut;
		rc = common_end(g->durable.log, links_joiner_log_version(g->links, to[i]), &cut);
		uint8_t entry[LOG_STREAM_CUT_ENTRY];
		log_stream_cut_encode(entry, to[i], cut);
		if (!rc)
			rc = grp_state_write(g, entry, sizeof entry);
		after = cut < after ? cut : after;
	}
	struct plog_iter *it = NULL;
	if (!rc && before > after + 1)
		rc = plog_iter_versions(g->durable.log, after + 1, before - 1, &it);
	struct plog_record r;
	uint64_t shipped = 0;
	while (!rc && it && (rc = plog_iter_next(it, &r)) == 1) {
		uint8_t rec[LOG_STREAM_RECORD_HEADER];
		log_stream_record_encode(rec, &r);
		rc = grp_state_write(g, rec, sizeof rec);
		if (!rc && r.len)
			rc = grp_state_write(g, r.data, r.len);
		shipped++;
	}
	plog_iter_free(it);
	if (rc == 0)
		log_info(MOD, "shipped %llu log records after version %llu",
			 (unsigned long long)shipped, (unsigned long long)after);
	return rc;
}

/* The joiner's side of the transfer, as a stream source. */
static int read_state(void *g, void *buf, size_t cap, size_t *got)
{
	return grp_state_read(g, buf, cap, got);
}

/* Our own log up to the group's history, replayed where the application
 * has not seen it (a fresh process; a member that rejoined by itself saw
 * it live). */
static int replay_local(grp_t *g, uint64_t cut)
{
	struct durable *d = &g->durable;
	int rc = 0;
	if (d->log && atomic_load(&d->last_version) > cut) {
		log_warn(MOD, "our log goes past the group's history (to version %llu, the "
			 "group's to %llu): the group restarted without it, cutting back",
			 (unsigned long long)atomic_load(&d->last_version),
			 (unsigned long long)cut);
		rc = plog_truncate_after(d->log, cut);
		if (!rc)
			atomic_store(&d->last_version, cut);
	}
	return rc ? rc : durable_replay(g);
}

/* The records we lack, into the log and the application, in order. */
static int load_log(grp_t *g)
{
	struct durable *d = &g->durable;
	struct log_stream_source src = { .read = read_state, .arg = g };
	uint64_t cut = 0;
	int rc = log_stream_read_cut(&src, links_my_id(g->links), &cut);
	if (!rc)
		rc = replay_local(g, cut);
	if (rc)
		return rc;
	uint8_t *buf = NULL;
	size_t cap = 0;
	/* grp_max_msg_size, which grp_join sets only once it returns. */
	const struct epoch_params *p = &g->params;
	size_t message_max = p->rdmc_max_payload > p->max_smc_payload ? p->rdmc_max_payload
								       : p->max_smc_payload;
	uint64_t last = d->last_version, loaded = 0;
	struct plog_record r;
	while ((rc = log_stream_read_record(&src, message_max, &buf, &cap, &r)) == 0) {
		if (r.version <= last)
			continue;
		if (r.version >= d->pending_version && d->pending_view) {
			log_error(MOD, "shipped record version %llu is not before our first view",
				  (unsigned long long)r.version);
			rc = GRP_EPROTO;
			break;
		}
		if (d->log) {
			rc = plog_append(d->log, r.kind, r.sender, r.version, r.hlc, r.data, r.len,
					 NULL);
			if (rc)
				break;
		}
		last = d->app_has = r.version;
		if (r.kind == PLOG_MESSAGE) {
			grp_delivery msg = delivery_of(&r);
			dispatch_deliver(g, &msg);
			loaded++;
		}
	}
	free(buf);
	if (rc != 1)
		return rc;
	d->last_version = last;
	log_info(MOD, "%llu messages loaded from the log of the member serving us",
		 (unsigned long long)loaded);
	return 0;
}

static int discard_state(grp_t *g)
{
	static _Thread_local uint8_t sink[65536];
	size_t got;
	int rc;
	do
		rc = grp_state_read(g, sink, sizeof sink, &got);
	while (!rc && got);
	return rc;
}

int durable_load(grp_t *g)
{
	struct durable *d = &g->durable;
	struct log_stream_source src = { .read = read_state, .arg = g };
	uint8_t kind;
	int rc = log_stream_read_exactly(&src, &kind, 1);
	if (rc == 1)
		rc = GRP_EPROTO;
	if (!rc && kind == LOG_STREAM_APP_STATE && d->log) {
		log_error(MOD, "the member serving us keeps no log: persist.mode must be on at "
			  "every member");
		rc = GRP_EPROTO;
	}
	if (!rc && kind == LOG_STREAM_APP_STATE)
		rc = g->cb.state_load ? g->cb.state_load(g, g->user) : discard_state(g);
	else if (!rc && kind == LOG_STREAM_LOG)
		rc = load_log(g);
	else if (!rc)
		rc = GRP_EPROTO;
	if (!rc && d->log && d->pending_view) {
		rc = plog_append(d->log, PLOG_VIEW, 0, d->pending_version, 0, d->pending_view,
				 d->pending_view_len, NULL);
		if (!rc)
			d->last_version = d->app_has = d->pending_version;
	}
	free(d->pending_view);
	d->pending_view = NULL;
	return rc;
}

int durable_serve_app_state(grp_t *g)
{
	uint8_t kind = LOG_STREAM_APP_STATE;
	int rc = grp_state_write(g, &kind, 1);
	if (!rc && g->cb.state_save)
		rc = g->cb.state_save(g, g->user);
	return rc;
}
