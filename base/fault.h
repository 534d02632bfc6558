/* Named protocol points where a test can have the process killed, to
 * provoke a failure at an exact step (GROUP_TEST_KILL_AT=name: SIGKILL on
 * reaching it). Off, the cost is one load per point reached. */
#ifndef GRP_FAULT_H
#define GRP_FAULT_H

void fault_point(const char *name);

#endif
