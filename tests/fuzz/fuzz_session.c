/* What a stranger sends to a member's bootstrap port, after the member's
 * challenge: the server's side of the handshake and the one sealed frame
 * that follows, as links/bootstrap.c reads them (header, admission, then
 * the payload), through the same functions of boot_auth.c. A proof or MAC
 * the fuzzer cannot forge ends the input; the seeds hold a valid
 * handshake with the group's key, so mutations behind it are reached. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "boot_auth.h"
#include "fuzz.h"

/* boot_auth_answer sends its proof for real: into a socket pair whose
 * other end is drained after each input. */
static struct links server_links;
static int server_fd = -1, client_fd = -1;

static void close_sockets(void)
{
	close(server_fd);
	close(client_fd);
}

static void server_init(void)
{
	if (server_fd >= 0)
		return;
	int sv[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	server_fd = sv[0];
	client_fd = sv[1];
	atexit(close_sockets);
	server_links.params.group_id = fuzz_group_id();
	FUZZ_CHECK(auth_key_from_name(FUZZ_GROUP_NAME, &server_links.params.key) == 0);
}

static void drain_client(void)
{
	uint8_t sink[4096];
	while (recv(client_fd, sink, sizeof sink, MSG_DONTWAIT) > 0)
		;
}

/* The next frame of the input: its header admitted and its whole payload
 * there, or false. */
static bool next_frame(const uint8_t **data, size_t *size, struct boot_auth *a,
		       struct frame_header *h, const uint8_t **payload)
{
	if (*size < FRAME_HEADER_LEN || frame_header_decode(*data, fuzz_group_id(), h) != 0 ||
	    !boot_auth_admits(a, h) || *size - FRAME_HEADER_LEN < h->length)
		return false;
	*payload = *data + FRAME_HEADER_LEN;
	*data += FRAME_HEADER_LEN + h->length;
	*size -= FRAME_HEADER_LEN + h->length;
	return true;
}

/* What serve_frame decodes of an authenticated frame. */
static void serve(const struct frame_header *h, const uint8_t *payload, size_t len)
{
	struct hello hello;
	if (h->type == FRAME_HELLO && hello_decode(payload, len, &hello) == 0)
		FUZZ_CHECK(hello.id < FAB_MAX_PEERS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	server_init();
	struct boot_auth a = { 0 };
	memset(a.nonce_s, FUZZ_NONCE_S_BYTE, sizeof a.nonce_s);
	struct frame_header h;
	const uint8_t *payload;
	if (next_frame(&data, &size, &a, &h, &payload)) {
		FUZZ_CHECK(h.type == FRAME_AUTH && h.length == AUTH_PAYLOAD_LEN);
		if (boot_auth_answer(&server_links, server_fd, &a, payload) &&
		    next_frame(&data, &size, &a, &h, &payload)) {
			size_t len;
			if (boot_auth_open(&server_links, &a, &h, payload, &len)) {
				FUZZ_CHECK(len == h.length - AUTH_MAC_LEN);
				serve(&h, payload, len);
			}
		}
	}
	drain_client();
	return 0;
}
