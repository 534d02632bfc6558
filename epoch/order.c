#include "order.h"

uint64_t order_contiguous(const uint64_t *received, unsigned S)
{
	uint64_t first_gap = ORDER_ALL;
	for (unsigned r = 0; r < S; r++) {
		if (received[r] == ORDER_ALL)
			continue;
		uint64_t gap = order_seq(received[r], r, S);
		if (gap < first_gap)
			first_gap = gap;
	}
	return first_gap;
}

uint64_t order_null_target(const uint64_t *received, unsigned S, unsigned me)
{
	uint64_t target = 0;
	for (unsigned s = 0; s < S; s++) {
		if (s == me || received[s] == 0 || received[s] == ORDER_ALL)
			continue;
		uint64_t highest = order_seq(received[s] - 1, s, S);
		/* Our messages with k*S + me < highest must exist. */
		uint64_t need = highest > me ? (highest - me + S - 1) / S : 0;
		if (need > target)
			target = need;
	}
	return target;
}
