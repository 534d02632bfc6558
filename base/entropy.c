#include "entropy.h"

#include <errno.h>
#include <sys/random.h>

#include <group/error.h>

int entropy_fill(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return GRP_EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

uint64_t entropy_u64(void)
{
	uint64_t v = 0;
	while (v == 0)
		if (entropy_fill(&v, sizeof v) != 0)
			return 0;
	return v;
}
