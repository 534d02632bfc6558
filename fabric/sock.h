/* Blocking-with-deadline TCP helpers for the bootstrap (control) channel.
 * Nothing of the data plane goes through here. Every call is bounded by an
 * absolute deadline (clock_deadline_ms), so a silent peer cannot hang us. */
#ifndef GRP_SOCK_H
#define GRP_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* A listening socket bound to host:port (SO_REUSEADDR, close-on-exec). */
int sock_listen(const char *host, uint16_t port, int *fd_out);
/* One connection attempt to host:port; GRP_EPEER if refused or unreachable,
 * GRP_ETIMEDOUT at the deadline. */
int sock_connect(const char *host, uint16_t port, uint64_t deadline, int *fd_out);
/* Accepts one pending connection if there is one within wait_ms; returns 0
 * with *fd_out = -1 if none. */
int sock_accept(int listen_fd, int wait_ms, int *fd_out);

/* Sends or receives exactly len bytes. GRP_EPEER if the peer closed or
 * broke the connection, GRP_ETIMEDOUT at the deadline. */
int sock_send_all(int fd, const uint8_t *buf, size_t len, uint64_t deadline);
int sock_recv_all(int fd, uint8_t *buf, size_t len, uint64_t deadline);

/* Sends one frame (header + payload). */
int sock_send_frame(int fd, enum frame_type type, uint64_t group_id, const uint8_t *payload,
		    size_t len, uint64_t deadline);
/* Receives one frame into payload (FRAME_MAX_PAYLOAD bytes); the header is
 * validated before any payload is read. */
int sock_recv_frame(int fd, uint64_t group_id, struct frame_header *hdr, uint8_t *payload,
		    uint64_t deadline);

#endif
