/* Seeds of the bootstrap channel: plain frames (frame) and a client's
 * side of the handshake with one sealed frame (session). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "auth.h"
#include "corpus.h"
#include "frame.h"
#include "fuzz.h"

static uint8_t payload[FRAME_MAX_PAYLOAD];

static void ok(int rc)
{
	if (rc) {
		fprintf(stderr, "make_corpus: an encoder failed: %d\n", rc);
		exit(1);
	}
}

/* A header and its payload, as the receiver reads them. */
static void write_frame(const char *name, enum frame_type type, const uint8_t *p, size_t len)
{
	static uint8_t frame[FRAME_HEADER_LEN + FRAME_MAX_PAYLOAD];
	frame_header_encode(frame, type, (uint32_t)len, fuzz_group_id());
	if (len)
		memcpy(frame + FRAME_HEADER_LEN, p, len);
	corpus_write("frame", name, frame, FRAME_HEADER_LEN + len);
}

static struct hello hello_of(uint32_t flags, uint32_t id, unsigned n_regions)
{
	struct hello h = { .flags = flags, .id = id, .boot_port = 7000, .n_regions = (uint8_t)n_regions };
	if (flags == 0) {
		h.rank = 1;
		h.n_members = 3;
	}
	strcpy(h.provider, "tcp");
	strcpy(h.boot_host, "127.0.0.1");
	h.fabric_addr_len = 16;
	for (unsigned i = 0; i < h.fabric_addr_len; i++)
		h.fabric_addr[i] = (uint8_t)(i * 7);
	for (unsigned i = 0; i < n_regions; i++)
		h.regions[i] = (struct fab_remote_region){ .key = i + 1, .addr = 0x7f0000001000u * i,
							   .len = 4096u << i };
	return h;
}

static void write_hello(const char *name, enum frame_type type, const struct hello *h)
{
	size_t len;
	ok(hello_encode(h, payload, sizeof payload, &len));
	write_frame(name, type, payload, len);
}

static void seed_hellos(void)
{
	struct hello forming = hello_of(0, 1, 2);
	write_hello("hello_forming", FRAME_HELLO, &forming);
	struct hello join = hello_of(HELLO_JOIN | HELLO_SENDER, 7, 1);
	join.log_version = 42;
	write_hello("hello_join_sender", FRAME_HELLO, &join);
	struct hello peer = hello_of(HELLO_PEER, 4095, 0);
	write_hello("hello_peer", FRAME_HELLO, &peer);
	/* The longest names, the largest address and every region. */
	struct hello reply = hello_of(0, 0, HELLO_MAX_REGIONS);
	reply.token = 0x0123456789abcdefu;
	memset(reply.provider, 'p', HELLO_PROVIDER_MAX);
	memset(reply.boot_host, 'h', FRAME_HOST_MAX);
	reply.fabric_addr_len = FAB_ADDR_MAX;
	write_hello("hello_reply_largest", FRAME_HELLO_REPLY, &reply);
}

static void seed_views(void)
{
	static struct view_info v;
	v.vid = 5;
	v.n = 3;
	v.n_senders = 2;
	for (unsigned i = 0; i < v.n; i++) {
		v.members[i] = (struct view_member){ .id = 10 + i, .port = (uint16_t)(7000 + i) };
		snprintf(v.members[i].host, sizeof v.members[i].host, "10.0.0.%u", i + 1);
	}
	v.members[2].flags = VIEW_MEMBER_NEW;
	v.senders[0] = 2;
	v.senders[1] = 0;
	size_t len;
	ok(view_info_encode(&v, payload, sizeof payload, &len));
	write_frame("view_info_3_members", FRAME_VIEW_INFO, payload, len);
	v.n = 1;
	v.n_senders = 0;
	ok(view_info_encode(&v, payload, sizeof payload, &len));
	write_frame("view_info_1_member_no_sender", FRAME_VIEW_INFO, payload, len);
}

static void seed_restarts(void)
{
	static struct restart_info r = { .id = 3, .last_vid = 9, .last_version = 9ull << 32 | 17, .n = 3,
					 .ids = { 1, 3, 5 } };
	size_t len;
	ok(restart_info_encode(&r, payload, sizeof payload, &len));
	write_frame("restart_info", FRAME_RESTART_INFO, payload, len);
	r = (struct restart_info){ .id = 3 };
	ok(restart_info_encode(&r, payload, sizeof payload, &len));
	write_frame("restart_info_empty_log", FRAME_RESTART_INFO, payload, len);
}

static void seed_rejects(void)
{
	struct reject r = { .code = GRP_ESTRANGER };
	strcpy(r.reason, "node id 3 is taken");
	size_t len;
	ok(reject_encode(&r, payload, sizeof payload, &len));
	write_frame("reject", FRAME_REJECT, payload, len);
	r.reason[0] = '\0';
	ok(reject_encode(&r, payload, sizeof payload, &len));
	write_frame("reject_no_reason", FRAME_REJECT, payload, len);
}

static void seed_frames(void)
{
	seed_hellos();
	seed_views();
	seed_restarts();
	seed_rejects();
	write_frame("view_query", FRAME_VIEW_QUERY, NULL, 0);
	uint8_t header[FRAME_HEADER_LEN];
	frame_header_encode(header, FRAME_HELLO, FRAME_MAX_PAYLOAD + 1, fuzz_group_id());
	corpus_write("frame", "length_above_max", header, sizeof header);
	frame_header_encode(header, FRAME_HELLO, 0, fuzz_group_id() + 1);
	corpus_write("frame", "another_group", header, sizeof header);
	corpus_write("frame", "empty", "", 0);
}

/* A client that answered the fixed challenge: its AUTH frame, and its
 * session for the frames after. */
struct client {
	uint8_t bytes[2 * FRAME_HEADER_LEN + AUTH_PAYLOAD_LEN + FRAME_MAX_PAYLOAD];
	size_t len;
	struct auth_session s;
};

static void client_authenticate(struct client *c, bool with_right_key)
{
	struct auth_key key, server_key;
	ok(auth_key_from_name(FUZZ_GROUP_NAME, &server_key));
	ok(auth_key_from_name(with_right_key ? FUZZ_GROUP_NAME : "another group", &key));
	uint8_t nonce_s[AUTH_NONCE_LEN], nonce_c[AUTH_NONCE_LEN], answer[AUTH_PAYLOAD_LEN];
	memset(nonce_s, FUZZ_NONCE_S_BYTE, sizeof nonce_s);
	memset(nonce_c, FUZZ_NONCE_C_BYTE, sizeof nonce_c);
	ok(auth_client_answer(&key, fuzz_group_id(), nonce_s, nonce_c, answer));
	frame_header_encode(c->bytes, FRAME_AUTH, AUTH_PAYLOAD_LEN, fuzz_group_id());
	memcpy(c->bytes + FRAME_HEADER_LEN, answer, sizeof answer);
	c->len = FRAME_HEADER_LEN + AUTH_PAYLOAD_LEN;
	if (!with_right_key)
		return;
	/* The server's proof, as it would send it, finishes the client's side. */
	uint8_t proof[AUTH_MAC_LEN];
	struct auth_session server;
	ok(auth_server_accept(&server_key, fuzz_group_id(), nonce_s, answer, proof, &server));
	ok(auth_client_finish(&key, fuzz_group_id(), nonce_s, nonce_c, proof, &c->s));
}

static void client_seal(struct client *c, enum frame_type type, const uint8_t *p, size_t len)
{
	uint8_t *hdr = c->bytes + c->len;
	frame_header_encode(hdr, type, (uint32_t)(len + AUTH_MAC_LEN), fuzz_group_id());
	if (len)
		memcpy(hdr + FRAME_HEADER_LEN, p, len);
	ok(auth_seal(&c->s, hdr, p, len, hdr + FRAME_HEADER_LEN + len));
	c->len += FRAME_HEADER_LEN + len + AUTH_MAC_LEN;
}

static void seed_session(void)
{
	static struct client c;
	client_authenticate(&c, true);
	corpus_write("session", "auth_only", c.bytes, c.len);
	client_seal(&c, FRAME_VIEW_QUERY, NULL, 0);
	corpus_write("session", "auth_view_query", c.bytes, c.len);
	client_authenticate(&c, true);
	struct hello join = hello_of(HELLO_JOIN, 9, 1);
	size_t len;
	ok(hello_encode(&join, payload, sizeof payload, &len));
	client_seal(&c, FRAME_HELLO, payload, len);
	corpus_write("session", "auth_hello_join", c.bytes, c.len);
	client_authenticate(&c, true);
	struct hello forming = hello_of(0, 2, 2);
	ok(hello_encode(&forming, payload, sizeof payload, &len));
	client_seal(&c, FRAME_HELLO, payload, len);
	corpus_write("session", "auth_hello_forming", c.bytes, c.len);
	client_authenticate(&c, false);
	corpus_write("session", "auth_with_another_key", c.bytes, c.len);
	/* A protocol frame in place of the answer to the challenge. */
	frame_header_encode(c.bytes, FRAME_HELLO, (uint32_t)len, fuzz_group_id());
	memcpy(c.bytes + FRAME_HEADER_LEN, payload, len);
	corpus_write("session", "hello_before_auth", c.bytes, FRAME_HEADER_LEN + len);
}

void seed_wire(void)
{
	seed_frames();
	seed_session();
}
