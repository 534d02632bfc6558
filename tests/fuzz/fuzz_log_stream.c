/* The state-transfer stream a joiner with a log reads from the member
 * serving it (lib/log_stream.h): its kind, the table of where each
 * joiner's log must end, and the records, whose view records a restart
 * later decodes from the log. */
#include <stdlib.h>

#include <group/error.h>

#include "fuzz.h"
#include "log_stream.h"
#include "view_record.h"

/* The joiner's message limit: the decoding does not depend on its size,
 * and a small one keeps the fuzzer's allocations small. */
#define MESSAGE_MAX (64u * 1024u)

static void read_records(const struct log_stream_source *src)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	struct plog_record r;
	int rc;
	while ((rc = log_stream_read_record(src, MESSAGE_MAX, &buf, &cap, &r)) == 0) {
		FUZZ_CHECK(r.len <= cap && (r.kind == PLOG_MESSAGE || r.kind == PLOG_VIEW));
		uint32_t vid;
		unsigned ids[FAB_MAX_PEERS], n;
		if (r.kind == PLOG_VIEW && view_record_decode(&r, &vid, ids, FAB_MAX_PEERS, &n) == 0)
			FUZZ_CHECK(n >= 1 && n <= FAB_MAX_PEERS);
	}
	FUZZ_CHECK(rc == 1 || rc == GRP_EPROTO);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_bytes bytes = { .p = data, .len = size };
	struct log_stream_source src = { .read = fuzz_bytes_read, .arg = &bytes };
	uint8_t kind;
	uint64_t cut;
	if (log_stream_read_exactly(&src, &kind, 1) == 0 && kind == LOG_STREAM_LOG &&
	    log_stream_read_cut(&src, FUZZ_MY_ID, &cut) == 0)
		read_records(&src);
	return 0;
}
