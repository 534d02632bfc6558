/* The bootstrap channel's authentication (fabric/auth.h) as pure
 * functions: a handshake between two keys, every bit of a sealed frame
 * flipped, replays and reflections, and the secret file's syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <group/error.h>

#include "auth.h"

#define GROUP 0x1122334455667788u
#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static struct auth_key key_of(const char *hex)
{
	struct auth_key k;
	const char *why;
	assert_int_equal(auth_key_parse(hex, strlen(hex), &k, &why), 0);
	return k;
}

struct pair {
	struct auth_session client, server;
};

static int handshake(const struct auth_key *kc, const struct auth_key *ks, struct pair *p)
{
	uint8_t nonce_s[AUTH_NONCE_LEN], nonce_c[AUTH_NONCE_LEN], answer[AUTH_PAYLOAD_LEN];
	uint8_t proof[AUTH_MAC_LEN];
	memset(nonce_s, 0x5a, sizeof nonce_s);
	memset(nonce_c, 0xc3, sizeof nonce_c);
	assert_int_equal(auth_client_answer(kc, GROUP, nonce_s, nonce_c, answer), 0);
	int rc = auth_server_accept(ks, GROUP, nonce_s, answer, proof, &p->server);
	return rc ? rc : auth_client_finish(kc, GROUP, nonce_s, nonce_c, proof, &p->client);
}

/* A frame as it travels: header (length counting the MAC), payload, MAC. */
struct wire {
	uint8_t hdr[FRAME_HEADER_LEN];
	uint8_t body[64];
	size_t len;
};

static void seal(struct auth_session *s, const char *text, struct wire *w)
{
	size_t n = strlen(text);
	w->len = n + AUTH_MAC_LEN;
	frame_header_encode(w->hdr, FRAME_HELLO, (uint32_t)w->len, GROUP);
	memcpy(w->body, text, n);
	assert_int_equal(auth_seal(s, w->hdr, w->body, n, w->body + n), 0);
}

static void test_handshake_and_frames(void **state)
{
	(void)state;
	struct auth_key k = key_of(HEX64);
	struct pair p;
	assert_int_equal(handshake(&k, &k, &p), 0);
	struct wire w;
	size_t plen;
	seal(&p.client, "hello", &w);
	assert_int_equal(auth_open(&p.server, w.hdr, w.body, w.len, &plen), 0);
	assert_int_equal(plen, 5);
	seal(&p.server, "reply", &w);
	assert_int_equal(auth_open(&p.client, w.hdr, w.body, w.len, &plen), 0);
}

static void test_wrong_key_refused_both_ways(void **state)
{
	(void)state;
	struct auth_key k = key_of(HEX64), other = key_of(HEX64);
	other.k[0] ^= 1;
	struct pair p;
	assert_int_equal(handshake(&other, &k, &p), GRP_ESTRANGER);
	/* A server without the key cannot produce the client's expected proof. */
	uint8_t nonce[AUTH_NONCE_LEN] = { 0 }, proof[AUTH_MAC_LEN] = { 0 };
	struct auth_session s;
	assert_int_equal(auth_client_finish(&k, GROUP, nonce, nonce, proof, &s), GRP_ESTRANGER);
}

/* An answer captured for one challenge proves nothing for another, or for
 * another group. */
static void test_replayed_answer_refused(void **state)
{
	(void)state;
	struct auth_key k = key_of(HEX64);
	uint8_t nonce_s[AUTH_NONCE_LEN] = { 1 }, nonce_c[AUTH_NONCE_LEN] = { 2 };
	uint8_t answer[AUTH_PAYLOAD_LEN], proof[AUTH_MAC_LEN];
	struct auth_session s;
	assert_int_equal(auth_client_answer(&k, GROUP, nonce_s, nonce_c, answer), 0);
	nonce_s[0] = 3;
	assert_int_equal(auth_server_accept(&k, GROUP, nonce_s, answer, proof, &s), GRP_ESTRANGER);
	nonce_s[0] = 1;
	assert_int_equal(auth_server_accept(&k, GROUP + 1, nonce_s, answer, proof, &s),
			 GRP_ESTRANGER);
	assert_int_equal(auth_server_accept(&k, GROUP, nonce_s, answer, proof, &s), 0);
}

static void test_every_flipped_bit_refused(void **state)
{
	(void)state;
	struct auth_key k = key_of(HEX64);
	struct pair p;
	assert_int_equal(handshake(&k, &k, &p), 0);
	struct wire w;
	seal(&p.client, "a frame", &w);
	size_t total = FRAME_HEADER_LEN + w.len;
	for (size_t bit = 0; bit < total * 8; bit++) {
		struct wire bad = w;
		uint8_t *byte = bit / 8 < FRAME_HEADER_LEN ? &bad.hdr[bit / 8]
							  : &bad.body[bit / 8 - FRAME_HEADER_LEN];
		*byte ^= (uint8_t)(1u << (bit % 8));
		struct auth_session s = p.server;
		size_t plen;
		assert_int_equal(auth_open(&s, bad.hdr, bad.body, bad.len, &plen), GRP_ESTRANGER);
	}
	size_t plen;
	assert_int_equal(auth_open(&p.server, w.hdr, w.body, w.len - 1, &plen), GRP_ESTRANGER);
	assert_int_equal(auth_open(&p.server, w.hdr, w.body, 3, &plen), GRP_ESTRANGER);
}

/* A frame accepted once is refused again (sequence number), and so are
 * frames out of order and our own frames reflected back to us. */
static void test_replay_reorder_reflection_refused(void **state)
{
	(void)state;
	struct auth_key k = key_of(HEX64);
	struct pair p;
	assert_int_equal(handshake(&k, &k, &p), 0);
	struct wire first, second, mine;
	size_t plen;
	seal(&p.client, "one", &first);
	seal(&p.client, "two", &second);
	assert_int_equal(auth_open(&p.server, second.hdr, second.body, second.len, &plen),
			 GRP_ESTRANGER);
	assert_int_equal(auth_open(&p.server, first.hdr, first.body, first.len, &plen), 0);
	assert_int_equal(auth_open(&p.server, first.hdr, first.body, first.len, &plen),
			 GRP_ESTRANGER);
	assert_int_equal(auth_open(&p.server, second.hdr, second.body, second.len, &plen), 0);
	seal(&p.server, "me", &mine);
	struct auth_session server_in = p.server;
	server_in.seq_in = 0;
	assert_int_equal(auth_open(&server_in, mine.hdr, mine.body, mine.len, &plen), GRP_ESTRANGER);
}

static void expect_bad_secret(const char *text)
{
	struct auth_key k;
	const char *why = NULL;
	assert_int_equal(auth_key_parse(text, strlen(text), &k, &why), GRP_ECONFIG);
	assert_non_null(why);
}

static void test_secret_syntax(void **state)
{
	(void)state;
	expect_bad_secret("");
	expect_bad_secret("00112233");
	expect_bad_secret(HEX64 "0");
	expect_bad_secret("0011223344556677889900112233445566778899001122334455667788990011zz");
	expect_bad_secret(HEX64 "\n\n");
	expect_bad_secret(" " HEX64);
	char huge[2 * AUTH_SECRET_MAX + 3];
	memset(huge, 'a', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	expect_bad_secret(huge);
	struct auth_key a = key_of(HEX64), b = key_of(HEX64 "\n"), open_key;
	assert_memory_equal(a.k, b.k, AUTH_KEY_LEN);
	assert_int_equal(auth_key_from_name("libgroup", &open_key), 0);
	assert_memory_not_equal(a.k, open_key.k, AUTH_KEY_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_frames),
		cmocka_unit_test(test_wrong_key_refused_both_ways),
		cmocka_unit_test(test_replayed_answer_refused),
		cmocka_unit_test(test_every_flipped_bit_refused),
		cmocka_unit_test(test_replay_reorder_reflection_refused),
		cmocka_unit_test(test_secret_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
