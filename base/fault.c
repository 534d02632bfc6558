#include "fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *kill_at;
static pthread_once_t kill_at_once = PTHREAD_ONCE_INIT;

static void read_kill_at(void)
{
	kill_at = getenv("GROUP_TEST_KILL_AT");
}

void fault_point(const char *name)
{
	pthread_once(&kill_at_once, read_kill_at);
	if (kill_at && strcmp(kill_at, name) == 0)
		raise(SIGKILL);
}
