/* Authentication of the bootstrap (control) channel: the group key, the
 * handshake's proofs and the MAC of every later frame, with HMAC-SHA256
 * from OpenSSL's libcrypto (maintained, in Debian as libssl-dev, already
 * on every host that has TLS; its HMAC and constant-time compare are
 * what the handshake needs, nothing more).
 *
 * Handshake, on every bootstrap connection, before any protocol frame:
 *
 *     server                                  client
 *     CHALLENGE  nonce_s (32 fresh bytes)  ─►
 *                                          ◄─ AUTH  nonce_c, HMAC(K, "client" | gid | nonce_s | nonce_c)
 *     AUTH_OK    HMAC(K, "server" | gid | nonce_s | nonce_c) ─►
 *
 * Both sides then hold the session key HMAC(K, "session" | gid | nonce_s |
 * nonce_c); every later frame ends with HMAC(session, direction | sequence
 * number | header | payload), so an altered, replayed, reordered or
 * reflected frame fails. A captured handshake is worth nothing on another
 * connection: the server's nonce is fresh.
 *
 * K is HMAC("libgroup group key", secret) for a secret of at least 32 bytes
 * (group.secret_file), or the same of the group name when no secret is
 * configured: one code path, but then anyone who knows the name gets in.
 *
 * Everything here is a pure function of its inputs (no I/O, no clock), so
 * it can be tested and fuzzed on its own; nonces come from the caller. */
#ifndef GRP_AUTH_H
#define GRP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define AUTH_KEY_LEN 32u
#define AUTH_NONCE_LEN 32u
#define AUTH_MAC_LEN 32u
/* A secret file holds at least this many random bytes, as hex. */
#define AUTH_SECRET_MIN 32u
#define AUTH_SECRET_MAX 1024u

struct auth_key {
	uint8_t k[AUTH_KEY_LEN];
};

/* One authenticated connection: the session key and the next sequence
 * number of each direction. `server` says which direction is ours. */
struct auth_session {
	uint8_t key[AUTH_KEY_LEN];
	uint64_t seq_out, seq_in;
	bool server;
};

/* Parses a secret file's text: hex digits (either case), at least
 * 2 * AUTH_SECRET_MIN of them, in pairs, optionally followed by one line
 * end. GRP_ECONFIG with *why naming the fault. */
int auth_key_parse(const char *text, size_t len, struct auth_key *out, const char **why);
/* The key of an open group: derived from its name, which is no secret. */
int auth_key_from_name(const char *group_name, struct auth_key *out);

/* The client's AUTH payload for the server's nonce and its own. */
#define AUTH_PAYLOAD_LEN (AUTH_NONCE_LEN + AUTH_MAC_LEN)
int auth_client_answer(const struct auth_key *k, uint64_t group_id,
		       const uint8_t nonce_s[AUTH_NONCE_LEN], const uint8_t nonce_c[AUTH_NONCE_LEN],
		       uint8_t out[AUTH_PAYLOAD_LEN]);
/* The server checks an AUTH payload; on success fills the server's proof
 * (the AUTH_OK payload) and starts its session. GRP_ESTRANGER if the proof
 * is not the key's. */
int auth_server_accept(const struct auth_key *k, uint64_t group_id,
		       const uint8_t nonce_s[AUTH_NONCE_LEN], const uint8_t in[AUTH_PAYLOAD_LEN],
		       uint8_t proof[AUTH_MAC_LEN], struct auth_session *s);
/* The client checks the server's proof and starts its session.
 * GRP_ESTRANGER if the server does not hold the key. */
int auth_client_finish(const struct auth_key *k, uint64_t group_id,
		       const uint8_t nonce_s[AUTH_NONCE_LEN], const uint8_t nonce_c[AUTH_NONCE_LEN],
		       const uint8_t proof[AUTH_MAC_LEN], struct auth_session *s);

/* The MAC that ends the next frame we send: over its header (whose length
 * counts the MAC) and payload. */
int auth_seal(struct auth_session *s, const uint8_t hdr[FRAME_HEADER_LEN], const uint8_t *payload,
	      size_t len, uint8_t mac[AUTH_MAC_LEN]);
/* Checks the next frame received: `body` is its `len` bytes after the
 * header, the MAC last. Sets *payload_len. GRP_ESTRANGER if the MAC is not
 * the session's for this frame at this place in the stream. */
int auth_open(struct auth_session *s, const uint8_t hdr[FRAME_HEADER_LEN], const uint8_t *body,
	      size_t len, size_t *payload_len);

#endif
