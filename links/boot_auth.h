/* The server's side of the bootstrap handshake (fabric/auth.h), one step
 * at a time inside the bootstrap thread's non-blocking reads, and the log
 * of refused connections.
 *
 * Until a connection has authenticated, the only frame it may send is an
 * AUTH of exactly its length: an unauthenticated peer costs one connection
 * slot and a 64-byte buffer until its deadline, and no protocol code sees
 * anything it sends. A refused connection gets nothing of ours but the
 * challenge (and, for a failed proof, a bare REJECT). */
#ifndef GRP_BOOT_AUTH_H
#define GRP_BOOT_AUTH_H

#include <stdbool.h>

#include "auth.h"
#include "links_internal.h"

struct boot_auth {
	bool done;           /* authenticated: every later frame carries a MAC */
	const char *refused; /* why the connection is refused; NULL if it is not */
	uint8_t nonce_s[AUTH_NONCE_LEN];
	struct auth_session s;
};

/* Sends the challenge to a connection just accepted. False: drop it. */
bool boot_auth_start(const struct links *l, int fd, struct boot_auth *a);
/* Whether a frame with this (valid) header may be read; else a->refused
 * says why not. Called before anything is allocated for its payload. */
bool boot_auth_admits(struct boot_auth *a, const struct frame_header *h);
/* Checks a complete AUTH and sends our proof. False: refused. */
bool boot_auth_answer(const struct links *l, int fd, struct boot_auth *a, const uint8_t *payload);
/* Checks a complete frame's MAC; *len becomes its payload's length.
 * False: refused. */
bool boot_auth_open(const struct links *l, struct boot_auth *a, const struct frame_header *h,
		    const uint8_t *body, size_t *len);
/* A connection is being closed: a refused or never authenticated one is
 * logged with its peer's address, once. The log is rate-limited per
 * process, so that a flood writes a few lines and a count. */
void boot_auth_end(int fd, struct boot_auth *a);

#endif
