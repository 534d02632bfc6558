/* For layers above the table that move bulk data (RDMC): a second
 * registered region per member, exchanged with the table's at open, and
 * one-sided writes into the peers' copies of it, driven by the same engine.
 *
 * Writes carry 32 bits of remote CQ data; values with the top bit set are
 * the bulk layer's, handed to on_data on the engine thread (or whichever
 * thread is driving progress) as they land. */
#ifndef GRP_SST_BULK_H
#define GRP_SST_BULK_H

#include <group/sst.h>

#define SST_BULK_DATA_FLAG 0x80000000u

struct sst_bulk {
	void *buf; /* page-aligned, owned by the caller, outlives the table */
	size_t len;
	void (*on_data)(void *arg, unsigned peer, uint32_t data);
	void *arg;
};

/* grp_sst_open with a bulk region; every member must pass one of the same
 * length. */
int sst_open_bulk(const grp_config *cfg, const grp_sst_layout *layout,
		  const grp_sst_callbacks *callbacks, void *user, const struct sst_bulk *bulk,
		  grp_sst **out);

/* Writes len bytes at `offset` of our bulk region to the same offset of
 * member `row`'s, with data | SST_BULK_DATA_FLAG as remote CQ data. The
 * bytes must stay unchanged until sst_bulk_completed says so. GRP_EPEER if the
 * member failed. */
int sst_bulk_write(grp_sst *sst, unsigned row, size_t offset, size_t len, uint32_t data);
/* A mark after every write posted to `row` so far, and whether those have
 * all completed locally (or the member failed): the bytes they read may
 * then change. */
uint64_t sst_bulk_ticket(grp_sst *sst, unsigned row);
bool sst_bulk_completed(grp_sst *sst, unsigned row, uint64_t ticket);

#endif
