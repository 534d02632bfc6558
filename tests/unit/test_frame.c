/* Bootstrap frame codecs: round trips, every truncation, every corrupted
 * header field, and a seeded random fuzz that must never crash or accept a
 * frame that does not re-encode to the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <group/error.h>

#include "frame.h"

#define GROUP 0x1122334455667788u

static struct hello sample_hello(void)
{
	struct hello h = { .rank = 2, .n_members = 4, .id = 4000, .provider = "tcp",
			   .fabric_addr_len = 16, .boot_host = "node-4.example", .boot_port = 7004,
			   .n_regions = 2, .token = 0x0123456789abcdefu,
			   .log_version = (3ull << 40) | 17 };
	for (unsigned i = 0; i < 16; i++)
		h.fabric_addr[i] = (uint8_t)(0xa0 + i);
	h.regions[0] = (struct fab_remote_region){ .key = 7, .addr = 0x7f0000001000, .len = 4096 };
	h.regions[1] = (struct fab_remote_region){ .key = 8, .addr = 0, .len = 1u << 20 };
	return h;
}

static void test_header_round_trip(void **state)
{
	(void)state;
	static const enum frame_type types[] = {
		FRAME_HELLO, FRAME_HELLO_REPLY, FRAME_REJECT, FRAME_VIEW_QUERY, FRAME_VIEW_INFO,
		FRAME_RESTART_INFO,
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		uint8_t raw[FRAME_HEADER_LEN];
		frame_header_encode(raw, types[i], 1234, GROUP);
		struct frame_header h;
		assert_int_equal(frame_header_decode(raw, GROUP, &h), 0);
		assert_int_equal(h.version, FRAME_VERSION);
		assert_int_equal(h.type, types[i]);
		assert_int_equal(h.length, 1234);
		assert_true(h.group_id == GROUP);
	}
}

static int decode_with_byte(const uint8_t *good, size_t at, uint8_t value)
{
	uint8_t raw[FRAME_HEADER_LEN];
	memcpy(raw, good, sizeof raw);
	raw[at] = value;
	struct frame_header h;
	return frame_header_decode(raw, GROUP, &h);
}

static void test_header_fields_validated(void **state)
{
	(void)state;
	uint8_t good[FRAME_HEADER_LEN];
	frame_header_encode(good, FRAME_REJECT, 10, GROUP);
	assert_int_equal(decode_with_byte(good, 0, 'X'), GRP_ESTRANGER);   /* magic */
	assert_int_equal(decode_with_byte(good, 4, FRAME_VERSION - 1), GRP_EVERSION); /* older */
	assert_int_equal(decode_with_byte(good, 4, FRAME_VERSION + 1), GRP_EVERSION); /* newer */
	assert_int_equal(decode_with_byte(good, 6, 0), GRP_EPROTO);        /* type 0 */
	assert_int_equal(decode_with_byte(good, 6, 99), GRP_EPROTO);       /* unknown type */
	assert_int_equal(decode_with_byte(good, 6, FRAME_RESTART_INFO + 1), GRP_EPROTO); /* next one */
	assert_int_equal(decode_with_byte(good, 10, 0x10), GRP_EMSGSIZE);  /* length 1 MiB+ */
	assert_int_equal(decode_with_byte(good, 12, 1), GRP_EPROTO);       /* reserved */
	assert_int_equal(decode_with_byte(good, 16, 0), GRP_ESTRANGER);    /* group */
	struct frame_header h;
	assert_int_equal(frame_header_decode(good, GROUP + 1, &h), GRP_ESTRANGER);
}

static void test_hello_round_trip(void **state)
{
	(void)state;
	struct hello in = sample_hello(), out;
	uint8_t buf[512];
	size_t len;
	assert_int_equal(hello_encode(&in, buf, sizeof buf, &len), 0);
	assert_int_equal(hello_decode(buf, len, &out), 0);
	assert_int_equal(out.flags, 0);
	assert_int_equal(out.rank, 2);
	assert_int_equal(out.n_members, 4);
	assert_int_equal(out.id, 4000);
	assert_string_equal(out.provider, "tcp");
	assert_memory_equal(out.fabric_addr, in.fabric_addr, 16);
	assert_string_equal(out.boot_host, "node-4.example");
	assert_int_equal(out.boot_port, 7004);
	assert_int_equal(out.n_regions, 2);
	assert_true(out.log_version == in.log_version);
	assert_true(out.regions[0].addr == in.regions[0].addr);
	assert_true(out.regions[1].len == in.regions[1].len);
}

/* Outside formation a hello names no rank and no member count: a joiner
 * (sending or not) or a member of a view the receiver may not know yet. */
static void test_hello_outside_formation_round_trip(void **state)
{
	(void)state;
	static const uint32_t flags[] = { HELLO_JOIN, HELLO_JOIN | HELLO_SENDER, HELLO_PEER };
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		struct hello in = sample_hello(), out;
		in.flags = flags[i];
		in.rank = 0;
		in.n_members = 0;
		uint8_t buf[512];
		size_t len;
		assert_int_equal(hello_encode(&in, buf, sizeof buf, &len), 0);
		memset(&out, 0xff, sizeof out);
		assert_int_equal(hello_decode(buf, len, &out), 0);
		assert_int_equal(out.flags, flags[i]);
		assert_int_equal(out.rank, 0);
		assert_int_equal(out.n_members, 0);
		assert_int_equal(out.id, 4000);
		assert_string_equal(out.boot_host, "node-4.example");
		assert_int_equal(out.boot_port, 7004);
		assert_int_equal(out.n_regions, 2);
	}
}

static int encode_decode_hello(const struct hello *h)
{
	uint8_t buf[512];
	size_t len;
	assert_int_equal(hello_encode(h, buf, sizeof buf, &len), 0);
	struct hello out;
	return hello_decode(buf, len, &out);
}

static void test_hello_flags_validated(void **state)
{
	(void)state;
	struct hello h = sample_hello();
	/* Outside formation, rank and n_members must both be 0. */
	static const uint32_t outside[] = { HELLO_JOIN, HELLO_JOIN | HELLO_SENDER, HELLO_PEER };
	for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
		h = sample_hello();
		h.flags = outside[i];
		assert_int_equal(encode_decode_hello(&h), GRP_EPROTO); /* rank 2 of 4 */
		h.rank = 1;
		h.n_members = 0;
		assert_int_equal(encode_decode_hello(&h), GRP_EPROTO);
		h.rank = 0;
		h.n_members = 4;
		assert_int_equal(encode_decode_hello(&h), GRP_EPROTO);
		h.n_members = 0;
		assert_int_equal(encode_decode_hello(&h), 0);
	}
	/* Unknown flags and combinations, with and without a rank. */
	static const uint32_t unknown[] = {
		8u, HELLO_JOIN | HELLO_PEER, HELLO_SENDER, HELLO_PEER | HELLO_SENDER,
		HELLO_JOIN | HELLO_PEER | HELLO_SENDER, HELLO_JOIN | 8u, 0x80000000u,
	};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		h = sample_hello();
		h.flags = unknown[i];
		assert_int_equal(encode_decode_hello(&h), GRP_EPROTO);
		h.rank = 0;
		h.n_members = 0;
		assert_int_equal(encode_decode_hello(&h), GRP_EPROTO);
	}
}

/* Where the boot host's bytes start in an encoded hello (they follow their
 * one-byte length); h's host must occur once. */
static size_t hello_host_at(const struct hello *h, const uint8_t *buf, size_t len)
{
	size_t hlen = strlen(h->boot_host), found = 0, at = 0;
	for (size_t i = 1; i + hlen <= len; i++)
		if (memcmp(buf + i, h->boot_host, hlen) == 0) {
			at = i;
			found++;
		}
	assert_int_equal(found, 1);
	assert_int_equal(buf[at - 1], hlen);
	return at;
}

static void test_hello_boot_address_validated(void **state)
{
	(void)state;
	uint8_t buf[512];
	size_t len;
	struct hello h = sample_hello(), out;
	h.boot_port = 0;
	assert_int_equal(encode_decode_hello(&h), GRP_EPROTO);
	h.boot_port = 65535;
	assert_int_equal(encode_decode_hello(&h), 0);

	/* The encoder refuses an empty or unprintable host ... */
	h = sample_hello();
	h.boot_host[0] = '\0';
	assert_int_equal(hello_encode(&h, buf, sizeof buf, &len), GRP_EINVAL);
	h = sample_hello();
	h.boot_host[2] = ' ';
	assert_int_equal(hello_encode(&h, buf, sizeof buf, &len), GRP_EINVAL);
	h = sample_hello();
	memset(h.boot_host, 'a', FRAME_HOST_MAX);
	h.boot_host[FRAME_HOST_MAX] = '\0';
	assert_int_equal(encode_decode_hello(&h), 0); /* the longest host */

	/* ... and the decoder refuses one on the wire. */
	h = sample_hello();
	assert_int_equal(hello_encode(&h, buf, sizeof buf, &len), 0);
	size_t at = hello_host_at(&h, buf, len), hlen = strlen(h.boot_host);
	static const uint8_t unprintable[] = { 0x00, 0x01, ' ', 0x7f, 0x80, 0xff };
	for (size_t i = 0; i < sizeof unprintable; i++) {
		uint8_t bad[512];
		memcpy(bad, buf, len);
		bad[at + 3] = unprintable[i];
		assert_int_equal(hello_decode(bad, len, &out), GRP_EPROTO);
	}
	/* An empty host: length 0 and its bytes cut out. */
	uint8_t empty[512];
	memcpy(empty, buf, at);
	empty[at - 1] = 0;
	memcpy(empty + at, buf + at + hlen, len - at - hlen);
	assert_int_equal(hello_decode(empty, len - hlen, &out), GRP_EPROTO);
	/* A host length above FRAME_HOST_MAX. */
	uint8_t longer[512];
	memcpy(longer, buf, len);
	longer[at - 1] = FRAME_HOST_MAX + 1;
	assert_int_equal(hello_decode(longer, len, &out), GRP_EPROTO);
	/* The unaltered frame still decodes: the cases above fail for their field. */
	assert_int_equal(hello_decode(buf, len, &out), 0);
}

/* Node ids name fabric peers: one beyond their range is refused. */
static void test_hello_id_out_of_range_rejected(void **state)
{
	(void)state;
	struct hello in = sample_hello(), out;
	in.id = FAB_MAX_PEERS;
	uint8_t buf[512];
	size_t len;
	assert_int_equal(hello_encode(&in, buf, sizeof buf, &len), 0);
	assert_int_equal(hello_decode(buf, len, &out), GRP_EPROTO);
}

static void test_hello_every_truncation_rejected(void **state)
{
	(void)state;
	struct hello in = sample_hello(), out;
	uint8_t buf[512];
	size_t len;
	assert_int_equal(hello_encode(&in, buf, sizeof buf, &len), 0);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(hello_decode(buf, cut, &out), GRP_EPROTO);
	buf[len] = 0;
	assert_int_equal(hello_decode(buf, len + 1, &out), GRP_EPROTO); /* trailing garbage */
}

static void test_hello_bad_fields_rejected(void **state)
{
	(void)state;
	uint8_t buf[512];
	size_t len;
	struct hello out;
	struct hello h = sample_hello();
	h.rank = 4; /* not below n_members */
	assert_int_equal(hello_encode(&h, buf, sizeof buf, &len), 0);
	assert_int_equal(hello_decode(buf, len, &out), GRP_EPROTO);
	h = sample_hello();
	h.n_members = 0;
	h.rank = 0;
	assert_int_equal(hello_encode(&h, buf, sizeof buf, &len), 0);
	assert_int_equal(hello_decode(buf, len, &out), GRP_EPROTO);
	h = sample_hello();
	strcpy(h.provider, "t p");
	assert_int_equal(hello_encode(&h, buf, sizeof buf, &len), GRP_EINVAL);
	h = sample_hello();
	h.n_regions = HELLO_MAX_REGIONS + 1;
	assert_int_equal(hello_encode(&h, buf, sizeof buf, &len), GRP_EINVAL);
	h = sample_hello();
	assert_int_equal(hello_encode(&h, buf, 20, &len), GRP_EMSGSIZE);
}

/* A three-member view: ranks 0..2, the middle one new, rank 2 sending
 * first. */
static struct view_info *sample_view(void)
{
	struct view_info *v = calloc(1, sizeof *v);
	assert_non_null(v);
	v->vid = 9;
	v->n = 3;
	v->members[0] = (struct view_member){ .id = 0, .port = 7000, .host = "node-0.example" };
	v->members[1] = (struct view_member){ .id = 4095, .flags = VIEW_MEMBER_NEW, .port = 65535,
					      .host = "10.0.0.7" };
	v->members[2] = (struct view_member){ .id = 12, .port = 1, .host = "fe80::1" };
	v->n_senders = 2;
	v->senders[0] = 2;
	v->senders[1] = 0;
	return v;
}

static void assert_views_equal(const struct view_info *a, const struct view_info *b)
{
	assert_int_equal(a->vid, b->vid);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->n_senders, b->n_senders);
	for (unsigned i = 0; i < a->n; i++) {
		assert_int_equal(a->members[i].id, b->members[i].id);
		assert_int_equal(a->members[i].flags, b->members[i].flags);
		assert_int_equal(a->members[i].port, b->members[i].port);
		assert_string_equal(a->members[i].host, b->members[i].host);
	}
	for (unsigned s = 0; s < a->n_senders; s++)
		assert_int_equal(a->senders[s], b->senders[s]);
}

static void test_view_info_round_trip(void **state)
{
	(void)state;
	struct view_info *in = sample_view(), *out = calloc(1, sizeof *out);
	assert_non_null(out);
	uint8_t buf[1024], again[1024];
	size_t len, again_len;
	assert_int_equal(view_info_encode(in, buf, sizeof buf, &len), 0);
	memset(out, 0xff, sizeof *out);
	assert_int_equal(view_info_decode(buf, len, out), 0);
	assert_views_equal(out, in);
	assert_int_equal(out->members[1].flags, VIEW_MEMBER_NEW);
	assert_int_equal(out->senders[0], 2);
	assert_int_equal(out->senders[1], 0);
	assert_int_equal(view_info_encode(out, again, sizeof again, &again_len), 0);
	assert_int_equal(again_len, len);
	assert_memory_equal(again, buf, len);

	/* No senders is a view too. */
	in->n_senders = 0;
	assert_int_equal(view_info_encode(in, buf, sizeof buf, &len), 0);
	assert_int_equal(view_info_decode(buf, len, out), 0);
	assert_views_equal(out, in);

	/* The encoder refuses a buffer too small. */
	assert_int_equal(view_info_encode(in, buf, 20, &len), GRP_EMSGSIZE);
	free(in);
	free(out);
}

/* The largest view, every member sending and every host as long as it may
 * be, fits one frame. */
static void test_view_info_largest_fits_a_frame(void **state)
{
	(void)state;
	struct view_info *in = calloc(1, sizeof *in), *out = calloc(1, sizeof *out);
	assert_non_null(in);
	assert_non_null(out);
	in->vid = UINT32_MAX;
	in->n = in->n_senders = VIEW_INFO_MAX_MEMBERS;
	for (unsigned i = 0; i < VIEW_INFO_MAX_MEMBERS; i++) {
		struct view_member *m = &in->members[i];
		m->id = FAB_MAX_PEERS - 1 - i;
		m->flags = i % 2 ? VIEW_MEMBER_NEW : 0;
		m->port = (uint16_t)(1 + i);
		memset(m->host, 'h', FRAME_HOST_MAX);
		in->senders[i] = VIEW_INFO_MAX_MEMBERS - 1 - i;
	}
	uint8_t *buf = malloc(FRAME_MAX_PAYLOAD);
	assert_non_null(buf);
	size_t len;
	assert_int_equal(view_info_encode(in, buf, FRAME_MAX_PAYLOAD, &len), 0);
	assert_true(len <= FRAME_MAX_PAYLOAD);
	assert_int_equal(view_info_decode(buf, len, out), 0);
	assert_views_equal(out, in);

	in->n = VIEW_INFO_MAX_MEMBERS + 1;
	assert_int_equal(view_info_encode(in, buf, FRAME_MAX_PAYLOAD, &len), GRP_EINVAL);
	free(buf);
	free(in);
	free(out);
}

static void test_view_info_every_truncation_rejected(void **state)
{
	(void)state;
	struct view_info *in = sample_view(), *out = calloc(1, sizeof *out);
	assert_non_null(out);
	uint8_t buf[1024];
	size_t len;
	assert_int_equal(view_info_encode(in, buf, sizeof buf, &len), 0);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(view_info_decode(buf, cut, out), GRP_EPROTO);
	buf[len] = 0;
	assert_int_equal(view_info_decode(buf, len + 1, out), GRP_EPROTO); /* trailing garbage */
	buf[len] = 1;
	buf[len + 1] = buf[len + 2] = buf[len + 3] = 0;
	assert_int_equal(view_info_decode(buf, len + 4, out), GRP_EPROTO); /* an extra sender */
	free(in);
	free(out);
}

/* Encodes v (the encoder checks only counts and hosts) and decodes it. */
static int encode_decode_view(const struct view_info *v)
{
	uint8_t buf[1024];
	size_t len;
	assert_int_equal(view_info_encode(v, buf, sizeof buf, &len), 0);
	struct view_info *out = calloc(1, sizeof *out);
	assert_non_null(out);
	int rc = view_info_decode(buf, len, out);
	free(out);
	return rc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_view_info_bad_fields_rejected(void **state)
{
	(void)state;
	struct view_info *v = sample_view(), *good = sample_view();
	assert_int_equal(encode_decode_view(v), 0);

	v->members[2].id = v->members[0].id; /* duplicate id */
	assert_int_equal(encode_decode_view(v), GRP_EPROTO);
	*v = *good;
	v->members[1].id = FAB_MAX_PEERS;
	assert_int_equal(encode_decode_view(v), GRP_EPROTO);
	*v = *good;
	v->senders[0] = 3; /* a rank not below n */
	assert_int_equal(encode_decode_view(v), GRP_EPROTO);
	*v = *good;
	v->senders[1] = 2; /* duplicate sender */
	assert_int_equal(encode_decode_view(v), GRP_EPROTO);
	*v = *good;
	v->members[0].flags = 2; /* unknown member flag */
	assert_int_equal(encode_decode_view(v), GRP_EPROTO);
	v->members[0].flags = VIEW_MEMBER_NEW | 0x80000000u;
	assert_int_equal(encode_decode_view(v), GRP_EPROTO);
	*v = *good;
	v->members[2].port = 0;
	assert_int_equal(encode_decode_view(v), GRP_EPROTO);

	/* The encoder refuses bad counts and hosts itself ... */
	uint8_t buf[1024];
	size_t len;
	*v = *good;
	v->n = 0;
	assert_int_equal(view_info_encode(v, buf, sizeof buf, &len), GRP_EINVAL);
	*v = *good;
	v->n_senders = 4;
	assert_int_equal(view_info_encode(v, buf, sizeof buf, &len), GRP_EINVAL);
	*v = *good;
	v->members[1].host[0] = '\0';
	assert_int_equal(view_info_encode(v, buf, sizeof buf, &len), GRP_EINVAL);
	*v = *good;
	v->members[1].host[1] = '\t';
	assert_int_equal(view_info_encode(v, buf, sizeof buf, &len), GRP_EINVAL);

	/* ... so the decoder meets them patched into a good encoding: vid, n
	 * and n_senders are its first three u32s. */
	assert_int_equal(view_info_encode(good, buf, sizeof buf, &len), 0);
	struct view_info *out = calloc(1, sizeof *out);
	assert_non_null(out);
	uint8_t bad[1024];
	memcpy(bad, buf, 12); /* n = 0 and no senders: nothing else follows */
	put_le32(bad + 4, 0);
	put_le32(bad + 8, 0);
	assert_int_equal(view_info_decode(bad, 12, out), GRP_EPROTO);
	memcpy(bad, buf, len);
	put_le32(bad + 4, VIEW_INFO_MAX_MEMBERS + 1);
	assert_int_equal(view_info_decode(bad, len, out), GRP_EPROTO);
	/* n_senders = 4 > n = 3, with the two missing senders appended. */
	memcpy(bad, buf, len);
	put_le32(bad + 8, 4);
	put_le32(bad + len, 1);
	put_le32(bad + len + 4, 2);
	assert_int_equal(view_info_decode(bad, len + 8, out), GRP_EPROTO);
	/* A count far beyond the senders array must not be followed. */
	memcpy(bad, buf, len);
	put_le32(bad + 8, UINT32_MAX);
	assert_int_equal(view_info_decode(bad, len, out), GRP_EPROTO);
	/* A host byte that is not printable. */
	const char *host = good->members[1].host;
	size_t hlen = strlen(host), at = 0;
	for (size_t i = 0; i + hlen <= len; i++)
		if (memcmp(buf + i, host, hlen) == 0)
			at = i;
	assert_true(at > 0);
	assert_int_equal(buf[at - 1], hlen);
	static const uint8_t unprintable[] = { 0x00, ' ', 0x7f, 0xff };
	for (size_t i = 0; i < sizeof unprintable; i++) {
		memcpy(bad, buf, len);
		bad[at + 1] = unprintable[i];
		assert_int_equal(view_info_decode(bad, len, out), GRP_EPROTO);
	}
	/* An empty host: length 0 and its bytes cut out. */
	memcpy(bad, buf, at);
	bad[at - 1] = 0;
	memcpy(bad + at, buf + at + hlen, len - at - hlen);
	assert_int_equal(view_info_decode(bad, len - hlen, out), GRP_EPROTO);
	/* The unaltered encoding still decodes. */
	assert_int_equal(view_info_decode(buf, len, out), 0);
	free(out);
	free(v);
	free(good);
}

static void test_reject_round_trip_and_validation(void **state)
{
	(void)state;
	struct reject in = { .code = GRP_EPROTO, .reason = "its memory layout differs" }, out;
	uint8_t buf[256];
	size_t len;
	assert_int_equal(reject_encode(&in, buf, sizeof buf, &len), 0);
	assert_int_equal(reject_decode(buf, len, &out), 0);
	assert_int_equal(out.code, GRP_EPROTO);
	assert_string_equal(out.reason, in.reason);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(reject_decode(buf, cut, &out), GRP_EPROTO);
	buf[0] = 1; /* a positive code is not an error */
	buf[1] = buf[2] = buf[3] = 0;
	assert_int_equal(reject_decode(buf, len, &out), GRP_EPROTO);
}

/* xorshift64: a fixed seed keeps failures reproducible. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Copies good, corrupts 1..4 bytes and sometimes cuts it short. */
static size_t mutate(uint64_t *seed, const uint8_t *good, size_t good_len, uint8_t *buf)
{
	size_t len = good_len;
	memcpy(buf, good, len);
	unsigned flips = 1 + (unsigned)(next_random(seed) % 4);
	for (unsigned f = 0; f < flips; f++)
		buf[next_random(seed) % len] = (uint8_t)next_random(seed);
	if (next_random(seed) % 8 == 0)
		len = (size_t)(next_random(seed) % (good_len + 1));
	return len;
}

/* Feeds buf to every payload decoder: what one accepts must re-encode to
 * the same bytes. Returns which accepted (1 hello, 2 view_info). */
static unsigned decode_all(const uint8_t *buf, size_t len, struct view_info *view)
{
	unsigned accepted = 0;
	uint8_t again[1024];
	size_t again_len;
	struct hello h;
	if (hello_decode(buf, len, &h) == 0) {
		assert_int_equal(hello_encode(&h, again, sizeof again, &again_len), 0);
		assert_int_equal(again_len, len);
		assert_memory_equal(again, buf, len);
		accepted |= 1;
	}
	if (view_info_decode(buf, len, view) == 0) {
		assert_int_equal(view_info_encode(view, again, sizeof again, &again_len), 0);
		assert_int_equal(again_len, len);
		assert_memory_equal(again, buf, len);
		accepted |= 2;
	}
	struct reject rj;
	(void)reject_decode(buf, len, &rj);
	struct frame_header fh;
	if (len >= FRAME_HEADER_LEN && frame_header_decode(buf, GROUP, &fh) == 0)
		assert_true(fh.length <= FRAME_MAX_PAYLOAD);
	return accepted;
}

static void test_fuzz_decoders(void **state)
{
	(void)state;
	uint64_t seed = 0x9e3779b97f4a7c15u;
	struct hello base = sample_hello();
	uint8_t good[512];
	size_t good_len;
	assert_int_equal(hello_encode(&base, good, sizeof good, &good_len), 0);
	struct hello joiner = sample_hello();
	joiner.flags = HELLO_JOIN | HELLO_SENDER;
	joiner.rank = joiner.n_members = 0;
	uint8_t good_join[512];
	size_t good_join_len;
	assert_int_equal(hello_encode(&joiner, good_join, sizeof good_join, &good_join_len), 0);
	struct view_info *base_view = sample_view();
	struct view_info *view = calloc(1, sizeof *view);
	assert_non_null(view);
	uint8_t good_view[512];
	size_t good_view_len;
	assert_int_equal(view_info_encode(base_view, good_view, sizeof good_view, &good_view_len), 0);
	unsigned accepted_hello = 0, accepted_join = 0, accepted_view = 0;
	for (unsigned iter = 0; iter < 200000; iter++) {
		uint8_t buf[512];
		size_t len = mutate(&seed, good, good_len, buf);
		accepted_hello += decode_all(buf, len, view) & 1;
		len = mutate(&seed, good_join, good_join_len, buf);
		accepted_join += decode_all(buf, len, view) & 1;
		len = mutate(&seed, good_view, good_view_len, buf);
		accepted_view += (decode_all(buf, len, view) & 2) >> 1;
	}
	/* Flips inside addresses, keys, hosts and the view id keep frames
	 * valid: the fuzz reached the accepting paths, not only the rejecting
	 * ones. */
	assert_true(accepted_hello > 0);
	assert_true(accepted_join > 0);
	assert_true(accepted_view > 0);
	free(base_view);
	free(view);
}


static struct restart_info sample_restart(void)
{
	struct restart_info r = { .id = 7, .last_vid = 12, .last_version = (12ull << 40) | 99, .n = 3 };
	r.ids[0] = 3;
	r.ids[1] = 7;
	r.ids[2] = 4095;
	return r;
}

static void test_restart_info_round_trip_and_truncations(void **state)
{
	(void)state;
	struct restart_info in = sample_restart(), out;
	uint8_t buf[256];
	size_t len;
	assert_int_equal(restart_info_encode(&in, buf, sizeof buf, &len), 0);
	assert_int_equal(len, 4 + 4 + 8 + 4 + 3 * 4);
	assert_int_equal(restart_info_decode(buf, len, &out), 0);
	assert_int_equal(out.id, 7);
	assert_int_equal(out.last_vid, 12);
	assert_true(out.last_version == in.last_version);
	assert_int_equal(out.n, 3);
	assert_memory_equal(out.ids, in.ids, 3 * sizeof in.ids[0]);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(restart_info_decode(buf, cut, &out), GRP_EPROTO);
	buf[len] = 0;
	assert_int_equal(restart_info_decode(buf, len + 1, &out), GRP_EPROTO);
}

/* An empty log: no view, no version; 20 bytes. */
static void test_restart_info_empty_log_round_trip(void **state)
{
	(void)state;
	struct restart_info in = { .id = 9 }, out;
	uint8_t buf[64];
	size_t len;
	assert_int_equal(restart_info_encode(&in, buf, sizeof buf, &len), 0);
	assert_int_equal(len, 20);
	memset(&out, 0xff, sizeof out);
	assert_int_equal(restart_info_decode(buf, len, &out), 0);
	assert_int_equal(out.id, 9);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.last_vid, 0);
	assert_true(out.last_version == 0);
}

/* Each bad field alone is refused: a stranger's id, no members with a
 * version, a version without members, a vid without a log, too many, an
 * id out of range, a duplicate, a sender not among its own view. */
static void test_restart_info_bad_fields_rejected(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len;
	struct restart_info out;
	enum { N_BAD = 8 };
	struct restart_info bad[N_BAD];
	for (unsigned i = 0; i < N_BAD; i++)
		bad[i] = sample_restart();
	bad[0].id = FAB_MAX_PEERS;
	bad[1].n = 0;
	bad[2].ids[2] = FAB_MAX_PEERS;
	bad[3].ids[2] = 3;
	bad[4].id = 5;
	bad[5].n = VIEW_INFO_MAX_MEMBERS + 1;
	bad[6].last_version = 0;
	bad[7] = (struct restart_info){ .id = 7, .last_vid = 3 };
	unsigned refused[] = { 1, 5, 6, 7 };
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(restart_info_encode(&bad[refused[i]], buf, sizeof buf, &len),
				 GRP_EINVAL);
	unsigned encodable[] = { 0, 2, 3, 4 };
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(restart_info_encode(&bad[encodable[i]], buf, sizeof buf, &len), 0);
		assert_int_equal(restart_info_decode(buf, len, &out), GRP_EPROTO);
	}
	/* The refused ones, written by hand: n = 0 with a version, n too
	 * large, a version of 0 with members, a vid without a log. */
	struct restart_info ok = sample_restart();
	assert_int_equal(restart_info_encode(&ok, buf, sizeof buf, &len), 0);
	memset(buf + 16, 0, 4);
	assert_int_equal(restart_info_decode(buf, 20, &out), GRP_EPROTO);
	uint32_t huge = VIEW_INFO_MAX_MEMBERS + 1;
	memcpy(buf + 16, &huge, 4);
	assert_int_equal(restart_info_decode(buf, len, &out), GRP_EPROTO);
	assert_int_equal(restart_info_encode(&ok, buf, sizeof buf, &len), 0);
	memset(buf + 8, 0, 8);
	assert_int_equal(restart_info_decode(buf, len, &out), GRP_EPROTO);
	struct restart_info empty = { .id = 7 };
	assert_int_equal(restart_info_encode(&empty, buf, sizeof buf, &len), 0);
	memset(buf + 4, 1, 1);
	assert_int_equal(restart_info_decode(buf, len, &out), GRP_EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_header_fields_validated),
		cmocka_unit_test(test_hello_round_trip),
		cmocka_unit_test(test_hello_id_out_of_range_rejected),
		cmocka_unit_test(test_hello_every_truncation_rejected),
		cmocka_unit_test(test_hello_bad_fields_rejected),
		cmocka_unit_test(test_hello_outside_formation_round_trip),
		cmocka_unit_test(test_hello_flags_validated),
		cmocka_unit_test(test_hello_boot_address_validated),
		cmocka_unit_test(test_view_info_round_trip),
		cmocka_unit_test(test_restart_info_round_trip_and_truncations),
		cmocka_unit_test(test_restart_info_empty_log_round_trip),
		cmocka_unit_test(test_restart_info_bad_fields_rejected),
		cmocka_unit_test(test_view_info_largest_fits_a_frame),
		cmocka_unit_test(test_view_info_every_truncation_rejected),
		cmocka_unit_test(test_view_info_bad_fields_rejected),
		cmocka_unit_test(test_reject_round_trip_and_validation),
		cmocka_unit_test(test_fuzz_decoders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
