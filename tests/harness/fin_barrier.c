#include "fin_barrier.h"

#include <string.h>

void fin_barrier_init(struct fin_barrier *b)
{
	memset(b, 0, sizeof *b);
	delivery_count_init(&b->finished);
}

void fin_barrier_view(struct fin_barrier *b, const grp_view *v)
{
	b->view_n = v->n_members < FIN_BARRIER_MAX_IDS ? v->n_members : FIN_BARRIER_MAX_IDS;
	memcpy(b->view_ids, v->members, b->view_n * sizeof *b->view_ids);
}

bool fin_barrier_end(struct fin_barrier *b, uint64_t count, uint64_t hash)
{
	if (delivery_count_get(&b->finished))
		return false;
	b->end_count = count;
	b->end_hash = hash;
	delivery_count_add(&b->finished);
	return true;
}

bool fin_barrier_note(struct fin_barrier *b, unsigned sender, uint64_t count, uint64_t hash)
{
	if (sender < FIN_BARRIER_MAX_IDS)
		b->fin_from[sender] = true;
	for (unsigned i = 0; i < b->view_n; i++)
		if (b->view_ids[i] >= FIN_BARRIER_MAX_IDS || !b->fin_from[b->view_ids[i]])
			return false;
	return fin_barrier_end(b, count, hash);
}
