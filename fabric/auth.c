#include "auth.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <group/error.h>

#include "codec.h"

/* Labels keep every MAC computed with one key from standing in for another. */
static const char KEY_LABEL[] = "libgroup group key";
static const char CLIENT_LABEL[] = "client";
static const char SERVER_LABEL[] = "server";
static const char SESSION_LABEL[] = "session";
enum { DIR_FROM_CLIENT = 'c', DIR_FROM_SERVER = 's' };

struct part {
	const void *p;
	size_t len;
};

/* Fetched once: the lookup walks OpenSSL's provider tables. */
static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void fetch_hmac(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

static int hmac(const uint8_t *key, size_t key_len, const struct part *parts, size_t n,
		uint8_t out[AUTH_MAC_LEN])
{
	pthread_once(&hmac_once, fetch_hmac);
	EVP_MAC_CTX *ctx = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
	if (!ctx)
		return GRP_ENOMEM;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t got = 0;
	int ok = EVP_MAC_init(ctx, key, key_len, params);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, parts[i].p, parts[i].len);
	ok = ok && EVP_MAC_final(ctx, out, &got, AUTH_MAC_LEN) && got == AUTH_MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : GRP_ENOMEM;
}

static int derive_key(const void *secret, size_t len, struct auth_key *out)
{
	struct part label = { KEY_LABEL, sizeof KEY_LABEL - 1 };
	return hmac(secret, len, &label, 1, out->k);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int auth_key_parse(const char *text, size_t len, struct auth_key *out, const char **why)
{
	if (len && text[len - 1] == '\n')
		len--;
	uint8_t secret[AUTH_SECRET_MAX];
	size_t n = 0;
	*why = NULL;
	if (len % 2)
		*why = "an odd number of hex digits";
	else if (len / 2 < AUTH_SECRET_MIN)
		*why = "fewer than 32 bytes (64 hex digits)";
	else if (len / 2 > AUTH_SECRET_MAX)
		*why = "more than 1024 bytes";
	for (size_t i = 0; !*why && i < len; i += 2) {
		int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
		if (hi < 0 || lo < 0)
			*why = "a character that is not a hex digit";
		else
			secret[n++] = (uint8_t)(hi << 4 | lo);
	}
	int rc = *why ? GRP_ECONFIG : derive_key(secret, n, out);
	OPENSSL_cleanse(secret, sizeof secret);
	return rc;
}

int auth_key_from_name(const char *group_name, struct auth_key *out)
{
	return derive_key(group_name, strlen(group_name), out);
}

/* HMAC(K, label | group_id | nonce_s | nonce_c): the proofs and the session key. */
static int bound_mac(const struct auth_key *k, const char *label, uint64_t group_id,
		     const uint8_t *nonce_s, const uint8_t *nonce_c, uint8_t out[AUTH_MAC_LEN])
{
	uint8_t gid[8];
	struct wcursor w = { .p = gid, .cap = sizeof gid };
	wc_u64(&w, group_id);
	struct part parts[] = {
		{ label, strlen(label) + 1 }, /* the NUL ends the label: no label is another's prefix */
		{ gid, sizeof gid },
		{ nonce_s, AUTH_NONCE_LEN },
		{ nonce_c, AUTH_NONCE_LEN },
	};
	return hmac(k->k, AUTH_KEY_LEN, parts, sizeof parts / sizeof parts[0], out);
}

static int session_start(const struct auth_key *k, uint64_t group_id, const uint8_t *nonce_s,
			 const uint8_t *nonce_c, bool server, struct auth_session *s)
{
	*s = (struct auth_session){ .server = server };
	return bound_mac(k, SESSION_LABEL, group_id, nonce_s, nonce_c, s->key);
}

/* A proof received against the one expected, in constant time. */
static int check_proof(const struct auth_key *k, const char *label, uint64_t group_id,
		       const uint8_t *nonce_s, const uint8_t *nonce_c, const uint8_t *got)
{
	uint8_t want[AUTH_MAC_LEN];
	int rc = bound_mac(k, label, group_id, nonce_s, nonce_c, want);
	if (!rc && CRYPTO_memcmp(want, got, AUTH_MAC_LEN) != 0)
		rc = GRP_ESTRANGER;
	return rc;
}

int auth_client_answer(const struct auth_key *k, uint64_t group_id,
		       const uint8_t nonce_s[AUTH_NONCE_LEN], const uint8_t nonce_c[AUTH_NONCE_LEN],
		       uint8_t out[AUTH_PAYLOAD_LEN])
{
	memcpy(out, nonce_c, AUTH_NONCE_LEN);
	return bound_mac(k, CLIENT_LABEL, group_id, nonce_s, nonce_c, out + AUTH_NONCE_LEN);
}

int auth_server_accept(const struct auth_key *k, uint64_t group_id,
		       const uint8_t nonce_s[AUTH_NONCE_LEN], const uint8_t in[AUTH_PAYLOAD_LEN],
		       uint8_t proof[AUTH_MAC_LEN], struct auth_session *s)
{
	const uint8_t *nonce_c = in;
	int rc = check_proof(k, CLIENT_LABEL, group_id, nonce_s, nonce_c, in + AUTH_NONCE_LEN);
	if (!rc)
		rc = bound_mac(k, SERVER_LABEL, group_id, nonce_s, nonce_c, proof);
	return rc ? rc : session_start(k, group_id, nonce_s, nonce_c, true, s);
}

int auth_client_finish(const struct auth_key *k, uint64_t group_id,
		       const uint8_t nonce_s[AUTH_NONCE_LEN], const uint8_t nonce_c[AUTH_NONCE_LEN],
		       const uint8_t proof[AUTH_MAC_LEN], struct auth_session *s)
{
	int rc = check_proof(k, SERVER_LABEL, group_id, nonce_s, nonce_c, proof);
	return rc ? rc : session_start(k, group_id, nonce_s, nonce_c, false, s);
}

static int frame_mac(const struct auth_session *s, uint8_t dir, uint64_t seq,
		     const uint8_t *hdr, const uint8_t *payload, size_t len, uint8_t out[AUTH_MAC_LEN])
{
	uint8_t where[9];
	struct wcursor w = { .p = where, .cap = sizeof where };
	wc_u8(&w, dir);
	wc_u64(&w, seq);
	struct part parts[] = {
		{ where, sizeof where },
		{ hdr, FRAME_HEADER_LEN },
		{ payload, len },
	};
	return hmac(s->key, AUTH_KEY_LEN, parts, sizeof parts / sizeof parts[0], out);
}

static uint8_t direction(const struct auth_session *s, bool sending)
{
	return s->server == sending ? DIR_FROM_SERVER : DIR_FROM_CLIENT;
}

int auth_seal(struct auth_session *s, const uint8_t hdr[FRAME_HEADER_LEN], const uint8_t *payload,
	      size_t len, uint8_t mac[AUTH_MAC_LEN])
{
	int rc = frame_mac(s, direction(s, true), s->seq_out, hdr, payload, len, mac);
	if (!rc)
		s->seq_out++;
	return rc;
}

int auth_open(struct auth_session *s, const uint8_t hdr[FRAME_HEADER_LEN], const uint8_t *body,
	      size_t len, size_t *payload_len)
{
	if (len < AUTH_MAC_LEN)
		return GRP_ESTRANGER;
	size_t plen = len - AUTH_MAC_LEN;
	uint8_t want[AUTH_MAC_LEN];
	int rc = frame_mac(s, direction(s, false), s->seq_in, hdr, body, plen, want);
	if (!rc && CRYPTO_memcmp(want, body + plen, AUTH_MAC_LEN) != 0)
		rc = GRP_ESTRANGER;
	if (rc)
		return rc;
	s->seq_in++;
	*payload_len = plen;
	return 0;
}
