#include "frame.h"

#include <string.h>

#include <group/error.h>

uint64_t frame_group_id(const char *group_name)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (const unsigned char *c = (const unsigned char *)group_name; *c; c++) {
		h ^= *c;
		h *= 0x100000001b3u;
	}
	return h;
}

void frame_header_encode(uint8_t out[FRAME_HEADER_LEN], enum frame_type type, uint32_t length,
			 uint64_t group_id)
{
	struct wcursor w = { .p = out, .cap = FRAME_HEADER_LEN };
	wc_u32(&w, FRAME_MAGIC);
	wc_u16(&w, FRAME_VERSION);
	wc_u16(&w, (uint16_t)type);
	wc_u32(&w, length);
	wc_u32(&w, 0);
	wc_u64(&w, group_id);
}

static bool frame_type_known(uint16_t type)
{
	return (type >= FRAME_HELLO && type <= FRAME_RESTART_INFO) ||
	       (type >= FRAME_CHALLENGE && type <= FRAME_AUTH_OK);
}

int frame_header_decode(const uint8_t in[FRAME_HEADER_LEN], uint64_t group_id,
			struct frame_header *out)
{
	struct rcursor r = { .p = in, .len = FRAME_HEADER_LEN };
	uint32_t magic = rc_u32(&r);
	struct frame_header h;
	h.version = rc_u16(&r);
	h.type = rc_u16(&r);
	h.length = rc_u32(&r);
	uint32_t reserved = rc_u32(&r);
	h.group_id = rc_u64(&r);
	if (magic != FRAME_MAGIC)
		return GRP_ESTRANGER;
	if (h.version != FRAME_VERSION)
		return GRP_EVERSION;
	if (h.group_id != group_id)
		return GRP_ESTRANGER;
	if (!frame_type_known(h.type) || reserved != 0)
		return GRP_EPROTO;
	if (h.length > FRAME_MAX_PAYLOAD)
		return GRP_EMSGSIZE;
	*out = h;
	return 0;
}

/* A provider or host name is printable and short; anything else is a
 * corrupt or hostile frame. */
static bool name_valid(const char *name, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x21 || c > 0x7e)
			return false;
	}
	return true;
}

int hello_encode(const struct hello *h, uint8_t *buf, size_t cap, size_t *len)
{
	size_t plen = strnlen(h->provider, sizeof h->provider);
	size_t hlen = strnlen(h->boot_host, sizeof h->boot_host);
	if (!name_valid(h->provider, plen, HELLO_PROVIDER_MAX) ||
	    !name_valid(h->boot_host, hlen, FRAME_HOST_MAX) || h->fabric_addr_len > FAB_ADDR_MAX ||
	    h->n_regions > HELLO_MAX_REGIONS)
		return GRP_EINVAL;
	struct wcursor w = { .p = buf, .cap = cap };
	wc_u32(&w, h->flags);
	wc_u32(&w, h->rank);
	wc_u32(&w, h->n_members);
	wc_u32(&w, h->id);
	wc_u8(&w, (uint8_t)plen);
	wc_bytes(&w, h->provider, plen);
	wc_u16(&w, h->fabric_addr_len);
	wc_bytes(&w, h->fabric_addr, h->fabric_addr_len);
	wc_u8(&w, (uint8_t)hlen);
	wc_bytes(&w, h->boot_host, hlen);
	wc_u16(&w, h->boot_port);
	wc_u8(&w, h->n_regions);
	for (unsigned i = 0; i < h->n_regions; i++) {
		wc_u64(&w, h->regions[i].key);
		wc_u64(&w, h->regions[i].addr);
		wc_u64(&w, h->regions[i].len);
	}
	wc_u64(&w, h->token);
	wc_u64(&w, h->log_version);
	if (w.bad)
		return GRP_EMSGSIZE;
	*len = w.off;
	return 0;
}

int hello_decode(const uint8_t *buf, size_t len, struct hello *out)
{
	struct rcursor r = { .p = buf, .len = len };
	struct hello h;
	memset(&h, 0, sizeof h);
	h.flags = rc_u32(&r);
	h.rank = rc_u32(&r);
	h.n_members = rc_u32(&r);
	h.id = rc_u32(&r);
	uint8_t plen = rc_u8(&r);
	if (plen > HELLO_PROVIDER_MAX)
		return GRP_EPROTO;
	rc_bytes(&r, h.provider, plen);
	h.fabric_addr_len = rc_u16(&r);
	if (h.fabric_addr_len == 0 || h.fabric_addr_len > FAB_ADDR_MAX)
		return GRP_EPROTO;
	rc_bytes(&r, h.fabric_addr, h.fabric_addr_len);
	uint8_t hlen = rc_u8(&r);
	if (hlen > FRAME_HOST_MAX)
		return GRP_EPROTO;
	rc_bytes(&r, h.boot_host, hlen);
	h.boot_port = rc_u16(&r);
	h.n_regions = rc_u8(&r);
	if (h.n_regions > HELLO_MAX_REGIONS)
		return GRP_EPROTO;
	for (unsigned i = 0; i < h.n_regions; i++) {
		h.regions[i].key = rc_u64(&r);
		h.regions[i].addr = rc_u64(&r);
		h.regions[i].len = rc_u64(&r);
	}
	h.token = rc_u64(&r);
	h.log_version = rc_u64(&r);
	if (r.bad || rc_left(&r) != 0)
		return GRP_EPROTO;
	bool forming = h.flags == 0;
	bool outside = h.flags == HELLO_PEER || (h.flags & ~(uint32_t)HELLO_SENDER) == HELLO_JOIN;
	if (!name_valid(h.provider, plen, HELLO_PROVIDER_MAX) ||
	    !name_valid(h.boot_host, hlen, FRAME_HOST_MAX) || h.boot_port == 0 ||
	    h.id >= FAB_MAX_PEERS || !(forming || outside))
		return GRP_EPROTO;
	if (forming ? h.n_members == 0 || h.n_members > FAB_MAX_PEERS || h.rank >= h.n_members
		    : h.n_members != 0 || h.rank != 0)
		return GRP_EPROTO;
	*out = h;
	return 0;
}

int view_info_encode(const struct view_info *v, uint8_t *buf, size_t cap, size_t *len)
{
	if (v->n == 0 || v->n > VIEW_INFO_MAX_MEMBERS || v->n_senders > v->n)
		return GRP_EINVAL;
	struct wcursor w = { .p = buf, .cap = cap };
	wc_u32(&w, v->vid);
	wc_u32(&w, v->n);
	wc_u32(&w, v->n_senders);
	for (unsigned i = 0; i < v->n; i++) {
		const struct view_member *m = &v->members[i];
		size_t hlen = strnlen(m->host, sizeof m->host);
		if (!name_valid(m->host, hlen, FRAME_HOST_MAX))
			return GRP_EINVAL;
		wc_u32(&w, m->id);
		wc_u32(&w, m->flags);
		wc_u16(&w, m->port);
		wc_u8(&w, (uint8_t)hlen);
		wc_bytes(&w, m->host, hlen);
	}
	for (unsigned s = 0; s < v->n_senders; s++)
		wc_u32(&w, v->senders[s]);
	if (w.bad)
		return GRP_EMSGSIZE;
	*len = w.off;
	return 0;
}

static bool view_member_valid(const struct view_info *v, unsigned i)
{
	const struct view_member *m = &v->members[i];
	if (m->id >= FAB_MAX_PEERS || m->port == 0 || (m->flags & ~(uint32_t)VIEW_MEMBER_NEW))
		return false;
	for (unsigned j = 0; j < i; j++)
		if (v->members[j].id == m->id)
			return false;
	return true;
}

static bool view_senders_valid(const struct view_info *v)
{
	for (unsigned s = 0; s < v->n_senders; s++) {
		if (v->senders[s] >= v->n)
			return false;
		for (unsigned t = 0; t < s; t++)
			if (v->senders[t] == v->senders[s])
				return false;
	}
	return true;
}

int view_info_decode(const uint8_t *buf, size_t len, struct view_info *out)
{
	struct rcursor r = { .p = buf, .len = len };
	out->vid = rc_u32(&r);
	out->n = rc_u32(&r);
	out->n_senders = rc_u32(&r);
	if (r.bad || out->n == 0 || out->n > VIEW_INFO_MAX_MEMBERS || out->n_senders > out->n)
		return GRP_EPROTO;
	for (unsigned i = 0; i < out->n; i++) {
		struct view_member *m = &out->members[i];
		memset(m, 0, sizeof *m);
		m->id = rc_u32(&r);
		m->flags = rc_u32(&r);
		m->port = rc_u16(&r);
		uint8_t hlen = rc_u8(&r);
		if (hlen > FRAME_HOST_MAX)
			return GRP_EPROTO;
		rc_bytes(&r, m->host, hlen);
		if (r.bad || !name_valid(m->host, hlen, FRAME_HOST_MAX) || !view_member_valid(out, i))
			return GRP_EPROTO;
	}
	for (unsigned s = 0; s < out->n_senders; s++)
		out->senders[s] = rc_u32(&r);
	if (r.bad || rc_left(&r) != 0 || !view_senders_valid(out))
		return GRP_EPROTO;
	return 0;
}

int restart_info_encode(const struct restart_info *ri, uint8_t *buf, size_t cap, size_t *len)
{
	if (ri->n > VIEW_INFO_MAX_MEMBERS || (ri->n == 0) != (ri->last_version == 0) ||
	    (ri->n == 0 && ri->last_vid != 0))
		return GRP_EINVAL;
	struct wcursor w = { .p = buf, .cap = cap };
	wc_u32(&w, ri->id);
	wc_u32(&w, ri->last_vid);
	wc_u64(&w, ri->last_version);
	wc_u32(&w, ri->n);
	for (unsigned i = 0; i < ri->n; i++)
		wc_u32(&w, ri->ids[i]);
	if (w.bad)
		return GRP_EMSGSIZE;
	*len = w.off;
	return 0;
}

int restart_info_decode(const uint8_t *buf, size_t len, struct restart_info *out)
{
	struct rcursor r = { .p = buf, .len = len };
	out->id = rc_u32(&r);
	out->last_vid = rc_u32(&r);
	out->last_version = rc_u64(&r);
	out->n = rc_u32(&r);
	if (r.bad || out->id >= FAB_MAX_PEERS || out->n > VIEW_INFO_MAX_MEMBERS ||
	    (out->n == 0) != (out->last_version == 0) || (out->n == 0 && out->last_vid != 0))
		return GRP_EPROTO;
	bool listed = out->n == 0;
	for (unsigned i = 0; i < out->n; i++) {
		out->ids[i] = rc_u32(&r);
		if (out->ids[i] >= FAB_MAX_PEERS)
			return GRP_EPROTO;
		for (unsigned j = 0; j < i; j++)
			if (out->ids[j] == out->ids[i])
				return GRP_EPROTO;
		listed |= out->ids[i] == out->id;
	}
	if (r.bad || rc_left(&r) != 0 || !listed)
		return GRP_EPROTO;
	return 0;
}

int reject_encode(const struct reject *rj, uint8_t *buf, size_t cap, size_t *len)
{
	size_t rlen = strnlen(rj->reason, sizeof rj->reason);
	if (rlen > REJECT_REASON_MAX)
		return GRP_EINVAL;
	struct wcursor w = { .p = buf, .cap = cap };
	wc_u32(&w, (uint32_t)rj->code);
	wc_u16(&w, (uint16_t)rlen);
	wc_bytes(&w, rj->reason, rlen);
	if (w.bad)
		return GRP_EMSGSIZE;
	*len = w.off;
	return 0;
}

int reject_decode(const uint8_t *buf, size_t len, struct reject *out)
{
	struct rcursor r = { .p = buf, .len = len };
	struct reject rj;
	memset(&rj, 0, sizeof rj);
	rj.code = (int32_t)rc_u32(&r);
	uint16_t rlen = rc_u16(&r);
	if (rlen > REJECT_REASON_MAX)
		return GRP_EPROTO;
	rc_bytes(&r, rj.reason, rlen);
	if (r.bad || rc_left(&r) != 0)
		return GRP_EPROTO;
	if (rj.code >= 0 || memchr(rj.reason, '\0', rlen))
		return GRP_EPROTO;
	*out = rj;
	return 0;
}
