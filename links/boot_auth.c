#include "boot_auth.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>

#include <group/error.h>

#include "clock.h"
#include "entropy.h"
#include "log.h"
#include "sock.h"

static const char *MOD = "bootstrap";

/* Writing the challenge into a fresh socket's empty buffer never waits;
 * the deadline only bounds a pathological kernel. */
#define CHALLENGE_SEND_MS 100u

bool boot_auth_start(const struct links *l, int fd, struct boot_auth *a)
{
	*a = (struct boot_auth){ 0 };
	if (entropy_fill(a->nonce_s, sizeof a->nonce_s) != 0) {
		log_error(MOD, "no randomness for a challenge");
		return false;
	}
	return sock_send_frame(fd, FRAME_CHALLENGE, l->params.group_id, a->nonce_s,
			       sizeof a->nonce_s, clock_deadline_ms(CHALLENGE_SEND_MS)) == 0;
}

bool boot_auth_admits(struct boot_auth *a, const struct frame_header *h)
{
	if (!a->done && (h->type != FRAME_AUTH || h->length != AUTH_PAYLOAD_LEN))
		a->refused = "it sent something other than the answer to our challenge";
	else if (a->done && (h->length < AUTH_MAC_LEN || h->type >= FRAME_CHALLENGE))
		a->refused = "an authenticated frame without room for its MAC, or a second handshake";
	return !a->refused;
}

bool boot_auth_answer(const struct links *l, int fd, struct boot_auth *a, const uint8_t *payload)
{
	uint8_t proof[AUTH_MAC_LEN];
	int rc = auth_server_accept(&l->params.key, l->params.group_id, a->nonce_s, payload, proof,
				    &a->s);
	uint64_t deadline = clock_deadline_ms(CHALLENGE_SEND_MS);
	if (rc == GRP_ESTRANGER) {
		a->refused = "its proof is not of our key (another group.secret_file, or a replay)";
		/* A bare refusal, so that a member with the wrong key learns it at
		 * once; it says nothing an outsider did not know. */
		sock_send_frame(fd, FRAME_REJECT, l->params.group_id, NULL, 0, deadline);
		return false;
	}
	if (!rc)
		rc = sock_send_frame(fd, FRAME_AUTH_OK, l->params.group_id, proof, sizeof proof,
				     deadline);
	if (rc) {
		a->refused = "the handshake could not be completed";
		return false;
	}
	a->done = true;
	return true;
}

bool boot_auth_open(const struct links *l, struct boot_auth *a, const struct frame_header *h,
		    const uint8_t *body, size_t *len)
{
	uint8_t raw[FRAME_HEADER_LEN];
	frame_header_encode(raw, h->type, h->length, l->params.group_id);
	if (auth_open(&a->s, raw, body, h->length, len) == 0)
		return true;
	a->refused = "a frame failed its MAC (altered, replayed or forged)";
	return false;
}

/* At most REFUSALS_PER_WINDOW lines per window; the rest are counted and
 * the count logged with the first refusal of a later window. */
#define REFUSALS_PER_WINDOW 5u
#define REFUSAL_WINDOW_NS (10ull * 1000000000ull)

static pthread_mutex_t refusal_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t window_start;
static unsigned logged_in_window;
static uint64_t suppressed;

/* Whether this refusal gets its line; logs the count of those that did not. */
static bool refusal_logged(void)
{
	pthread_mutex_lock(&refusal_lock);
	uint64_t now = clock_now_ns();
	if (window_start == 0 || now - window_start >= REFUSAL_WINDOW_NS) {
		if (suppressed)
			log_warn(MOD, "%llu more bootstrap connections were refused without a line each",
				 (unsigned long long)suppressed);
		window_start = now;
		logged_in_window = 0;
		suppressed = 0;
	}
	bool log = logged_in_window < REFUSALS_PER_WINDOW;
	if (log)
		logged_in_window++;
	else
		suppressed++;
	pthread_mutex_unlock(&refusal_lock);
	return log;
}

void boot_auth_end(int fd, struct boot_auth *a)
{
	if (a->done && !a->refused)
		return;
	if (!refusal_logged())
		return;
	struct sockaddr_storage sa;
	socklen_t len = sizeof sa;
	char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
	if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0)
		getnameinfo((struct sockaddr *)&sa, len, host, sizeof host, port, sizeof port,
			    NI_NUMERICHOST | NI_NUMERICSERV);
	log_warn(MOD, "refused the bootstrap connection from %s:%s: %s", host, port,
		 a->refused ? a->refused : "it closed or timed out before authenticating");
}
