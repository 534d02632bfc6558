/* groupctl's side of a member's admin socket (admin.socket). */
#ifndef GROUPCTL_ADMIN_CLIENT_H
#define GROUPCTL_ADMIN_CLIENT_H

#include <stdbool.h>
#include <stdio.h>

/* Sends "command format" and copies the answer to out; 0, or 1 with the
 * reason on stderr. */
int admin_ask(const char *socket_path, const char *command, bool json, FILE *out);
/* stats every interval_s seconds, count times (0: until interrupted): each
 * counter's total and its rate over the interval. */
int admin_stats_rates(const char *socket_path, unsigned interval_s, unsigned count, bool json);

#endif
