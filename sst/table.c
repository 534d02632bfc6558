#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "sst_internal.h"

static const char *MOD = "sst";

#define SST_MAX_ROW_BYTES (1u << 30)

GRP_API size_t grp_sst_layout_add(grp_sst_layout *layout, size_t elem_size, size_t count)
{
	if (!layout || elem_size == 0 || count > SST_MAX_ROW_BYTES / elem_size)
		return (size_t)-1;
	size_t offset = (layout->row_bytes + 7u) & ~(size_t)7u;
	if (offset > SST_MAX_ROW_BYTES || elem_size * count > SST_MAX_ROW_BYTES - offset)
		return (size_t)-1;
	layout->row_bytes = offset + elem_size * count;
	return offset;
}

static size_t round_up(size_t v, size_t align)
{
	return (v + align - 1) / align * align;
}

static void read_idle_config(const grp_config *cfg, struct sst_idle *idle)
{
	*idle = (struct sst_idle){
		.spin_ns = config_uint(cfg, "engine.spin_us") * 1000u,
		.yield_ns = config_uint(cfg, "engine.yield_us") * 1000u,
		.sleep_ms = (int)config_uint(cfg, "engine.sleep_ms"),
	};
}

static int alloc_table(grp_sst *sst, const grp_sst_layout *layout)
{
	sst->row_bytes = layout->row_bytes;
	sst->row_stride = round_up(layout->row_bytes, SST_ROW_ALIGN);
	size_t bytes = sst->row_stride * sst->n;
	if (posix_memalign((void **)&sst->table, 4096, bytes) != 0) {
		sst->table = NULL;
		return GRP_ENOMEM;
	}
	memset(sst->table, 0, bytes);
	sst->peers = calloc(sst->n, sizeof *sst->peers);
	sst->failed = calloc(sst->n, sizeof *sst->failed);
	sst->reported = calloc(sst->n, sizeof *sst->reported);
	return sst->peers && sst->failed && sst->reported ? 0 : GRP_ENOMEM;
}

static int open_table(grp_sst *sst, const grp_config *cfg, const grp_sst_layout *layout,
		      const struct sst_bulk *bulk)
{
	struct mesh_params mp;
	struct fab_params fp;
	int rc = mesh_params_from_config(cfg, &mp, &fp);
	if (rc)
		return rc;
	sst->fence_timeout_ms = fp.stall_timeout_ms;
	read_idle_config(cfg, &sst->idle);
	sst->n = mp.n;
	sst->me = mp.me;
	fp.handlers = (struct fab_handlers){
		.on_failure = sst_note_failure, .on_remote_data = sst_note_data, .arg = sst,
	};
	rc = alloc_table(sst, layout);
	if (!rc)
		rc = fab_domain_open(&fp, &sst->dom);
	if (!rc)
		rc = fab_mr_reg(sst->dom, sst->table, sst->row_stride * sst->n, &sst->mr);
	if (!rc && bulk) {
		sst->bulk = *bulk;
		rc = fab_mr_reg(sst->dom, bulk->buf, bulk->len, &sst->bulk_mr);
	}
	if (rc) {
		if (mp.listen_fd >= 0)
			close(mp.listen_fd);
		return rc;
	}
	struct fab_mr *regions[2] = { sst->mr, sst->bulk_mr };
	rc = mesh_connect(&mp, sst->dom, regions, bulk ? 2 : 1, sst->peers);
	if (!rc)
		rc = sst_engine_start(sst);
	return rc;
}

GRP_API int grp_sst_open(const grp_config *cfg, const grp_sst_layout *layout,
			 const grp_sst_callbacks *callbacks, void *user, grp_sst **out)
{
	return sst_open_bulk(cfg, layout, callbacks, user, NULL, out);
}

int sst_open_bulk(const grp_config *cfg, const grp_sst_layout *layout,
		  const grp_sst_callbacks *callbacks, void *user, const struct sst_bulk *bulk,
		  grp_sst **out)
{
	if (!cfg || !layout || !out || layout->row_bytes == 0 ||
	    layout->row_bytes > SST_MAX_ROW_BYTES || (bulk && (!bulk->buf || !bulk->len)))
		return GRP_EINVAL;
	grp_sst *sst = calloc(1, sizeof *sst);
	if (!sst)
		return GRP_ENOMEM;
	if (callbacks)
		sst->callbacks = *callbacks;
	sst->user = user;
	pthread_mutex_init(&sst->pred_lock, NULL);
	pthread_mutex_init(&sst->wait_lock, NULL);
	clock_cond_init_monotonic(&sst->wait_cond);
	int rc = open_table(sst, cfg, layout, bulk);
	if (rc) {
		grp_sst_close(sst);
		return rc;
	}
	log_info(MOD, "table open: member %u of %u, %zu-byte rows", sst->me, sst->n,
		 sst->row_bytes);
	*out = sst;
	return 0;
}

/* Makes sure every push has landed before we disconnect, so that a peer
 * never sees our connection close ahead of our last writes. The engine is
 * stopped first: a trigger still running (an acknowledgement after a
 * delivery the application has just seen) posts its pushes before the
 * fences, not after them. */
static void fence_all(grp_sst *sst)
{
	size_t at = (size_t)sst->me * sst->row_stride;
	for (unsigned row = 0; row < sst->n; row++)
		if (row != sst->me && !grp_sst_row_failed(sst, row))
			fab_fence(sst->dom, row, &sst->peers[row].regions[0], at,
				  sst->fence_timeout_ms);
}

GRP_API void grp_sst_close(grp_sst *sst)
{
	if (!sst)
		return;
	bool opened = sst->engine_started;
	sst_engine_stop(sst);
	if (opened)
		fence_all(sst);
	fab_mr_close(sst->bulk_mr);
	fab_mr_close(sst->mr);
	fab_domain_close(sst->dom);
	free(sst->table);
	free(sst->peers);
	free(sst->failed);
	free(sst->reported);
	free(sst->preds);
	pthread_cond_destroy(&sst->wait_cond);
	pthread_mutex_destroy(&sst->wait_lock);
	pthread_mutex_destroy(&sst->pred_lock);
	free(sst);
}

GRP_API unsigned grp_sst_rank(const grp_sst *sst) { return sst->me; }
GRP_API unsigned grp_sst_size(const grp_sst *sst) { return sst->n; }

GRP_API void *grp_sst_row(grp_sst *sst, unsigned row)
{
	return row < sst->n ? sst->table + (size_t)row * sst->row_stride : NULL;
}

GRP_API uint64_t grp_sst_load_u64(const grp_sst *sst, unsigned row, size_t offset)
{
	const uint64_t *cell =
		(const uint64_t *)(sst->table + (size_t)row * sst->row_stride + offset);
	return __atomic_load_n(cell, __ATOMIC_ACQUIRE);
}

GRP_API void grp_sst_store_u64(grp_sst *sst, size_t offset, uint64_t value)
{
	uint64_t *cell = (uint64_t *)(sst->table + (size_t)sst->me * sst->row_stride + offset);
	__atomic_store_n(cell, value, __ATOMIC_RELEASE);
}

GRP_API bool grp_sst_row_failed(const grp_sst *sst, unsigned row)
{
	return row < sst->n && atomic_load_explicit(&sst->failed[row], memory_order_acquire);
}

static int push_one(grp_sst *sst, unsigned row, size_t offset, size_t len)
{
	size_t at = (size_t)sst->me * sst->row_stride + offset;
	return fab_write(sst->dom, row, sst->mr, at, &sst->peers[row].regions[0], at, len,
			 SST_PUSH_DATA);
}

static bool range_valid(const grp_sst *sst, size_t offset, size_t len)
{
	return offset <= sst->row_bytes && len <= sst->row_bytes - offset;
}

GRP_API int grp_sst_push(grp_sst *sst, size_t offset, size_t len)
{
	if (!sst || !range_valid(sst, offset, len))
		return GRP_EINVAL;
	for (unsigned row = 0; row < sst->n; row++) {
		if (row == sst->me || grp_sst_row_failed(sst, row))
			continue;
		int rc = push_one(sst, row, offset, len);
		if (rc && rc != GRP_EPEER)
			return rc;
	}
	return 0;
}

GRP_API int grp_sst_push_to(grp_sst *sst, unsigned row, size_t offset, size_t len)
{
	if (!sst || row >= sst->n || row == sst->me || !range_valid(sst, offset, len))
		return GRP_EINVAL;
	if (grp_sst_row_failed(sst, row))
		return GRP_EPEER;
	return push_one(sst, row, offset, len);
}

int sst_bulk_write(grp_sst *sst, unsigned row, size_t offset, size_t len, uint32_t data)
{
	if (!sst->bulk_mr || row >= sst->n || row == sst->me)
		return GRP_EINVAL;
	if (grp_sst_row_failed(sst, row))
		return GRP_EPEER;
	return fab_write(sst->dom, row, sst->bulk_mr, offset, &sst->peers[row].regions[1], offset,
			 len, data | SST_BULK_DATA_FLAG);
}

uint64_t sst_bulk_ticket(grp_sst *sst, unsigned row)
{
	return fab_write_ticket(sst->dom, row);
}

bool sst_bulk_completed(grp_sst *sst, unsigned row, uint64_t ticket)
{
	return fab_write_completed(sst->dom, row, ticket);
}
