#include "session.h"

#include <group/error.h>

#include "entropy.h"
#include "log.h"
#include "sock.h"

static const char *MOD = "bootstrap";

/* A handshake frame of one type and length: anything else is refused
 * before a byte of its payload is read. */
static int recv_step(int fd, uint64_t group_id, enum frame_type type, uint8_t *buf, size_t len,
		     uint64_t deadline)
{
	uint8_t raw[FRAME_HEADER_LEN];
	struct frame_header hdr;
	int rc = sock_recv_all(fd, raw, sizeof raw, deadline);
	if (!rc)
		rc = frame_header_decode(raw, group_id, &hdr);
	if (rc)
		return rc;
	if (hdr.type == FRAME_REJECT)
		return GRP_ESTRANGER;
	if (hdr.type != type || hdr.length != len)
		return GRP_EPROTO;
	return sock_recv_all(fd, buf, len, deadline);
}

int session_client_open(int fd, const struct auth_key *k, uint64_t group_id, uint64_t deadline,
			struct auth_session *s)
{
	uint8_t nonce_s[AUTH_NONCE_LEN], nonce_c[AUTH_NONCE_LEN], answer[AUTH_PAYLOAD_LEN];
	uint8_t proof[AUTH_MAC_LEN];
	int rc = recv_step(fd, group_id, FRAME_CHALLENGE, nonce_s, sizeof nonce_s, deadline);
	if (!rc)
		rc = entropy_fill(nonce_c, sizeof nonce_c);
	if (!rc)
		rc = auth_client_answer(k, group_id, nonce_s, nonce_c, answer);
	if (!rc)
		rc = sock_send_frame(fd, FRAME_AUTH, group_id, answer, sizeof answer, deadline);
	if (!rc)
		rc = recv_step(fd, group_id, FRAME_AUTH_OK, proof, sizeof proof, deadline);
	if (!rc)
		rc = auth_client_finish(k, group_id, nonce_s, nonce_c, proof, s);
	return rc;
}

int session_send(int fd, struct auth_session *s, enum frame_type type, uint64_t group_id,
		 const uint8_t *payload, size_t len, uint64_t deadline)
{
	if (len > FRAME_MAX_PAYLOAD - AUTH_MAC_LEN)
		return GRP_EMSGSIZE;
	uint8_t hdr[FRAME_HEADER_LEN], mac[AUTH_MAC_LEN];
	frame_header_encode(hdr, type, (uint32_t)(len + AUTH_MAC_LEN), group_id);
	int rc = auth_seal(s, hdr, payload, len, mac);
	if (!rc)
		rc = sock_send_all(fd, hdr, sizeof hdr, deadline);
	if (!rc)
		rc = sock_send_all(fd, payload, len, deadline);
	return rc ? rc : sock_send_all(fd, mac, sizeof mac, deadline);
}

int session_recv(int fd, struct auth_session *s, uint64_t group_id, struct frame_header *hdr,
		 uint8_t *payload, uint64_t deadline)
{
	int rc = sock_recv_frame(fd, group_id, hdr, payload, deadline);
	if (rc)
		return rc;
	/* The decoder accepted only the bytes this re-encodes to. */
	uint8_t raw[FRAME_HEADER_LEN];
	frame_header_encode(raw, hdr->type, hdr->length, group_id);
	size_t plen;
	rc = auth_open(s, raw, payload, hdr->length, &plen);
	if (rc) {
		log_warn(MOD, "a frame failed its MAC: altered, replayed or forged");
		return rc;
	}
	hdr->length = (uint32_t)plen;
	return 0;
}
