#include "state_read.h"

#include <stdint.h>

int state_read_exactly(grp_t *g, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		size_t got;
		int rc = grp_state_read(g, p, len, &got);
		if (rc)
			return rc;
		if (got == 0)
			return GRP_EPROTO;
		p += got;
		len -= got;
	}
	return 0;
}
