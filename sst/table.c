/* The table: rows in registered memory, pushes by one-sided writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void note_failure(void *arg, unsigned id, int err, const char *why)
{
	grp_sst *sst = arg;
	(void)err;
	for (unsigned row = 0; row < sst->n; row++) {
		if (row == sst->me || sst->ids[row] != id)
			continue;
		log_info(MOD, "member %u (row %u) unreachable, row frozen: %s", id, row, why);
		atomic_store_explicit(&sst->failed[row], true, memory_order_release);
		atomic_store_explicit(&sst->failures_pending, true, memory_order_release);
	}
}

static int alloc_table(grp_sst *sst, const struct sst_params *p)
{
	sst->n = p->n;
	sst->me = p->me;
	sst->row_bytes = p->row_bytes;
	sst->row_stride = round_up(p->row_bytes, SST_ROW_ALIGN);
	sst->fence_timeout_ms = p->fence_timeout_ms;
	size_t bytes = sst->row_stride * sst->n;
	if (posix_memalign((void **)&sst->table, 4096, bytes) != 0) {
		sst->table = NULL;
		return GRP_ENOMEM;
	}
	memset(sst->table, 0, bytes);
	sst->ids = malloc(sst->n * sizeof *sst->ids);
	sst->remote = calloc(sst->n, sizeof *sst->remote);
	sst->failed = calloc(sst->n, sizeof *sst->failed);
	sst->reported = calloc(sst->n, sizeof *sst->reported);
	if (!sst->ids || !sst->remote || !sst->failed || !sst->reported)
		return GRP_ENOMEM;
	memcpy(sst->ids, p->ids, sst->n * sizeof *sst->ids);
	return fab_mr_reg(links_domain(sst->links), sst->table, bytes, &sst->mr);
}

static void release_table(void *arg)
{
	sst_destroy(arg);
}

static int attach(grp_sst *sst)
{
	struct links_listener li = { .on_failure = note_failure, .arg = sst };
	sst->listener = links_listen(sst->links, &li);
	if (sst->listener < 0)
		return sst->listener;
	struct links_client c = { .run = sst_run, .release = release_table,
				  .arg = sst };
	return links_client_add(sst->links, &c, &sst->client);
}

int sst_create(struct links *links, const struct sst_params *p, const grp_sst_callbacks *callbacks,
	       void *user, grp_sst **out)
{
	if (!links || !p || !out || p->n == 0 || p->me >= p->n || !p->ids || p->row_bytes == 0 ||
	    p->row_bytes > SST_MAX_ROW_BYTES ||
	    (callbacks && callbacks->size < offsetof(grp_sst_callbacks, on_failure) +
						    sizeof callbacks->on_failure))
		return GRP_EINVAL;
	grp_sst *sst = calloc(1, sizeof *sst);
	if (!sst)
		return GRP_ENOMEM;
	sst->links = links;
	sst->listener = -1;
	if (callbacks)
		memcpy(&sst->callbacks, callbacks,
		       callbacks->size < sizeof sst->callbacks ? callbacks->size
							    : sizeof sst->callbacks);
	sst->user = user;
	pthread_mutex_init(&sst->pred_lock, NULL);
	int rc = alloc_table(sst, p);
	if (!rc)
		rc = attach(sst);
	if (rc) {
		if (sst->client)
			links_client_remove(links, sst->client);
		else
			sst_destroy(sst);
		return rc;
	}
	*out = sst;
	return 0;
}

struct fab_remote_region sst_region(const grp_sst *sst)
{
	return fab_mr_remote(sst->mr);
}

void sst_connect(grp_sst *sst, const struct links_regions *theirs, unsigned region)
{
	for (unsigned row = 0; row < sst->n; row++) {
		if (row != sst->me && theirs[row].n <= region) {
			atomic_store_explicit(&sst->failed[row], true, memory_order_release);
			atomic_store_explicit(&sst->failures_pending, true, memory_order_release);
			continue;
		}
		sst->remote[row] = theirs[row].r[region];
	}
	atomic_store_explicit(&sst->connected, true, memory_order_release);
	links_notify(sst->links);
}

void sst_fence(grp_sst *sst)
{
	if (!atomic_load(&sst->connected))
		return;
	size_t at = (size_t)sst->me * sst->row_stride;
	for (unsigned row = 0; row < sst->n; row++)
		if (row != sst->me && !grp_sst_row_failed(sst, row))
			fab_fence(links_domain(sst->links), sst->ids[row], &sst->remote[row], at,
				  sst->fence_timeout_ms);
}

void sst_retire(grp_sst *sst)
{
	links_unlisten(sst->links, sst->listener);
	sst->listener = -1;
	links_client_remove(sst->links, sst->client);
}

void sst_destroy(grp_sst *sst)
{
	if (!sst)
		return;
	links_unlisten(sst->links, sst->listener);
	fab_mr_close(sst->mr);
	free(sst->table);
	free(sst->ids);
	free(sst->remote);
	free(sst->failed);
	free(sst->reported);
	free(sst->preds);
	pthread_mutex_destroy(&sst->pred_lock);
	free(sst);
}

struct links *sst_links(const grp_sst *sst)
{
	return sst->links;
}

unsigned sst_row_id(const grp_sst *sst, unsigned row)
{
	return sst->ids[row];
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
	return fab_write(links_domain(sst->links), sst->ids[row], sst->mr, at, &sst->remote[row], at,
			 len, SST_PUSH_DATA);
}

static bool range_valid(const grp_sst *sst, size_t offset, size_t len)
{
	return offset <= sst->row_bytes && len <= sst->row_bytes - offset;
}

GRP_API int grp_sst_push(grp_sst *sst, size_t offset, size_t len)
{
	if (!sst || !range_valid(sst, offset, len))
		return GRP_EINVAL;
	if (!atomic_load_explicit(&sst->connected, memory_order_acquire))
		return GRP_EAGAIN;
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
	if (!atomic_load_explicit(&sst->connected, memory_order_acquire))
		return GRP_EAGAIN;
	if (grp_sst_row_failed(sst, row))
		return GRP_EPEER;
	return push_one(sst, row, offset, len);
}
