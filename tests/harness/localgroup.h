/* Runs a group of member processes on 127.0.0.1 from one program: the
 * benchmarks, the multi-process tests and the demo all use it. Or, for
 * tests of partitions, on separate hosts: each member in its namespace of
 * a partition rig (netns.h).
 *
 * The parent binds one listening socket per member on port 0 (the kernel
 * picks free ports, so parallel runs never collide) and forks the members;
 * each child inherits only its own socket (member.listen_fd) and a pipe to
 * report lines to the parent. Children die with the parent
 * (PR_SET_PDEATHSIG); local_group_finish kills and reaps whatever is left,
 * whatever happened before, and so does local_group_stop_all for every
 * group not finished yet, also at the parent's exit. Groups are started and
 * finished from one thread. The parent must not have opened a fabric
 * itself: a child forked after a verbs device is open inherits it broken. */
#ifndef GRP_LOCALGROUP_H
#define GRP_LOCALGROUP_H

#include <stdbool.h>
#include <stddef.h>

#include <group/config.h>

struct local_member {
	unsigned rank;
	unsigned n;
	int listen_fd;
	int report_fd; /* write lines for the parent here */
	const char *members; /* "127.0.0.1:p0,127.0.0.1:p1,...", or the rig's addresses */
	const char *group_name;
};

/* A member's body; its return value becomes the child's exit status. */
typedef int (*local_member_fn)(const struct local_member *m, void *arg);

struct local_group;
struct netns_rig;

/* Starts n members running fn. Returns NULL (with a message on stderr) if
 * sockets or processes cannot be created. */
struct local_group *local_group_start(unsigned n, local_member_fn fn, void *arg);

/* The port every member of a rig listens on. */
#define LOCAL_RIG_PORT 7100u

/* Starts one member in each of rig's namespaces, running fn. Each enters
 * its namespace and binds its listening socket to its rig address (all on
 * LOCAL_RIG_PORT, since no two share a namespace) before fn runs; a member that
 * cannot exits 125. The rig must outlive the group. */
struct local_group *local_group_start_in(const struct netns_rig *rig, local_member_fn fn,
					 void *arg);

/* Reads the next line member `rank` reported (without the newline) into buf;
 * 0, or -1 on timeout or if the member exited first. */
int local_group_read_line(struct local_group *lg, unsigned rank, char *buf, size_t len,
			  unsigned timeout_ms);

/* Waits until every member has reported `line` as its next line; 0, or -1
 * (naming the first member that did not on stderr) once timeout_ms have
 * passed or that member exited. */
int local_group_await_line(struct local_group *lg, const char *line, unsigned timeout_ms);
/* The same for member `rank` alone. */
int local_group_await_line_from(struct local_group *lg, unsigned rank, const char *line,
				unsigned timeout_ms);

/* Sends a signal to one member. */
void local_group_kill(struct local_group *lg, unsigned rank, int sig);

/* Waits for every member to exit, at most timeout_ms; members still running
 * then are killed. status[rank] gets the exit code, or 128+signal, or -1 if
 * it had to be killed. Returns 0 if every member exited with 0. Frees lg. */
int local_group_finish(struct local_group *lg, unsigned timeout_ms, int *status);

/* Finishes every group this process started and has not finished, killing
 * its members at once. For a test that failed between local_group_start and
 * local_group_finish (cmocka leaves a failed test by longjmp), so that its
 * members do not run on beside the next test; it also runs at exit. */
void local_group_stop_all(void);

/* Writes a line to the parent (printf format). */
void local_member_report(const struct local_member *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A configuration for this member: defaults (the suspicion timeout scaled
 * by test_ms), then GROUP_* environment overrides, then the member list,
 * rank, listening socket and group name.
 * NULL (with a message) on error. */
grp_config *local_member_config(const struct local_member *m);

/* A configuration for a group of one, on a fresh listening socket of its
 * own (defaults, then GROUP_* environment overrides). For a member process:
 * the process that starts members must not open a fabric itself. NULL on
 * error. */
grp_config *local_singleton_config(void);

#endif
