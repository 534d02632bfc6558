#include "view_record.h"

#include "codec.h"
#include "epoch.h"

#define VIEW_RECORD_VERSION 1u

size_t view_record_encode(const grp_view *v, uint8_t *out)
{
	struct wcursor w = { .p = out, .cap = VIEW_RECORD_MAX };
	wc_u8(&w, VIEW_RECORD_VERSION);
	wc_u32(&w, v->vid);
	wc_u32(&w, v->n_members);
	for (unsigned i = 0; i < v->n_members; i++)
		wc_u32(&w, v->members[i]);
	return w.off;
}

int view_record_decode(const struct plog_record *r, uint32_t *vid, unsigned *ids, unsigned cap,
		       unsigned *n)
{
	struct rcursor c = { .p = r->data, .len = r->len };
	uint8_t format = rc_u8(&c);
	*vid = rc_u32(&c);
	uint32_t count = rc_u32(&c);
	if (c.bad || format != VIEW_RECORD_VERSION || count == 0 || count > cap ||
	    rc_left(&c) != 4u * count || epoch_version_vid(r->version) != *vid)
		return GRP_ECORRUPT;
	for (unsigned i = 0; i < count; i++) {
		ids[i] = rc_u32(&c);
		for (unsigned j = 0; j < i; j++)
			if (ids[j] == ids[i])
				return GRP_ECORRUPT;
		if (ids[i] >= FAB_MAX_PEERS)
			return GRP_ECORRUPT;
	}
	*n = count;
	return 0;
}
