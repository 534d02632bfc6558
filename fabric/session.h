/* Authenticated bootstrap connections over sock.c (the handshake and the
 * frame MAC are auth.h's): the client's side of the handshake, and sealed
 * frames that either side sends or receives once authenticated. Blocking,
 * each call bounded by an absolute deadline. The server's side of the
 * handshake is incremental, in the bootstrap thread's state machine
 * (links/boot_auth.c), on the same pure functions. */
#ifndef GRP_SESSION_H
#define GRP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "frame.h"

/* Runs the client's side of the handshake on a connected socket.
 * GRP_ESTRANGER: another group, or the server refused our proof or failed
 * its own (another key); GRP_EPROTO: not a handshake; GRP_EPEER,
 * GRP_ETIMEDOUT: connection closed or deadline passed. */
int session_client_open(int fd, const struct auth_key *k, uint64_t group_id, uint64_t deadline,
			struct auth_session *s);

/* Sends one frame with its MAC. */
int session_send(int fd, struct auth_session *s, enum frame_type type, uint64_t group_id,
		 const uint8_t *payload, size_t len, uint64_t deadline);
/* Receives one frame into payload (FRAME_MAX_PAYLOAD bytes) and checks its
 * MAC: hdr->length is then the payload's length. GRP_ESTRANGER if the MAC
 * fails. */
int session_recv(int fd, struct auth_session *s, uint64_t group_id, struct frame_header *hdr,
		 uint8_t *payload, uint64_t deadline);

#endif
