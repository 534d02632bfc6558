#include "segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <group/error.h>

#include "codec.h"
#include "log.h"
#include "plog.h"

static const char segment_magic[8] = { 'G', 'R', 'P', 'P', 'L', 'O', 'G', '1' };
#define SEGMENT_CRC_OFFSET 60u
/* Reads ahead this much so that a scan costs few system calls. */
#define WINDOW_READ_BYTES (1u << 20)

int segment_errno_error(int err)
{
	if (err == ENOSPC || err == EDQUOT)
		return GRP_ENOSPC;
	if (err == ENOMEM)
		return GRP_ENOMEM;
	return GRP_EIO;
}

void segment_name(char out[SEGMENT_NAME_MAX], uint32_t index, bool tmp)
{
	snprintf(out, SEGMENT_NAME_MAX, "seg-%08" PRIx32 ".%s", index, tmp ? "tmp" : "log");
}

static bool lower_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Only the exact form we write: a name we did not make is not ours. */
bool segment_name_parse(const char *name, uint32_t *index)
{
	if (strlen(name) != 16 || strncmp(name, "seg-", 4) != 0 || strcmp(name + 12, ".log") != 0)
		return false;
	uint32_t v = 0;
	for (int i = 4; i < 12; i++) {
		if (!lower_hex_digit(name[i]))
			return false;
		v = v << 4 | (uint32_t)(name[i] <= '9' ? name[i] - '0' : name[i] - 'a' + 10);
	}
	*index = v;
	return true;
}

void segment_header_encode(uint8_t out[SEGMENT_HEADER_BYTES], const struct segment_header *h)
{
	memset(out, 0, SEGMENT_HEADER_BYTES);
	struct wcursor w = { .p = out, .cap = SEGMENT_HEADER_BYTES };
	wc_bytes(&w, segment_magic, sizeof segment_magic);
	wc_u32(&w, PLOG_FORMAT_VERSION);
	wc_u32(&w, SEGMENT_HEADER_BYTES);
	wc_u64(&w, h->group_id);
	wc_u64(&w, h->first_version);
	wc_u32(&w, h->index);
	struct wcursor c = { .p = out + SEGMENT_CRC_OFFSET, .cap = 4 };
	wc_u32(&c, plog_crc32c(0, out, SEGMENT_CRC_OFFSET));
}

int segment_header_decode(const uint8_t in[SEGMENT_HEADER_BYTES], uint64_t group_id,
			  struct segment_header *out, const char **reason)
{
	struct rcursor r = { .p = in, .len = SEGMENT_HEADER_BYTES };
	char magic[sizeof segment_magic];
	rc_bytes(&r, magic, sizeof magic);
	uint32_t format = rc_u32(&r);
	uint32_t header_bytes = rc_u32(&r);
	struct segment_header h;
	h.group_id = rc_u64(&r);
	h.first_version = rc_u64(&r);
	h.index = rc_u32(&r);
	bool reserved_zero = true;
	while (r.off < SEGMENT_CRC_OFFSET)
		reserved_zero &= rc_u8(&r) == 0;
	uint32_t crc = rc_u32(&r);
	if (memcmp(magic, segment_magic, sizeof magic) != 0) {
		*reason = "bad segment magic";
		return GRP_ECORRUPT;
	}
	/* Before the crc: a later format may lay its header out otherwise. */
	if (format != PLOG_FORMAT_VERSION) {
		*reason = "unknown segment format version";
		return GRP_EVERSION;
	}
	if (crc != plog_crc32c(0, in, SEGMENT_CRC_OFFSET)) {
		*reason = "segment header crc mismatch";
		return GRP_ECORRUPT;
	}
	if (header_bytes != SEGMENT_HEADER_BYTES || !reserved_zero) {
		*reason = "bad segment header size or reserved bytes";
		return GRP_ECORRUPT;
	}
	/* After the crc: a corrupt byte is reported as such, not as a stranger. */
	if (h.group_id != group_id) {
		*reason = "segment of another group";
		return GRP_ESTRANGER;
	}
	*out = h;
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int segment_create(int dirfd, const char *dir, const struct segment_header *h, uint64_t bytes,
		   int *fd_out)
{
	char tmp[SEGMENT_NAME_MAX], name[SEGMENT_NAME_MAX];
	segment_name(tmp, h->index, true);
	segment_name(name, h->index, false);
	unlinkat(dirfd, tmp, 0);
	const char *step = "create";
	int err = 0;
	int fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		goto fail;
	}
	/* Preallocated so that a full disk shows here, not in the middle of
	 * a batch of appends. */
	step = "preallocate";
	err = posix_fallocate(fd, 0, (off_t)bytes);
	if (err == ENOSPC || err == EDQUOT) {
		log_error("persist", "no space in %s for a segment of %" PRIu64 " bytes", dir, bytes);
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return GRP_ENOSPC;
	}
	if (err)
		goto fail;
	uint8_t header[SEGMENT_HEADER_BYTES];
	segment_header_encode(header, h);
	step = "write header";
	if ((err = pwrite_all(fd, header, sizeof header, 0)) != 0)
		goto fail;
	step = "sync";
	if (fdatasync(fd) != 0) {
		err = errno;
		goto fail;
	}
	step = "rename";
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		err = errno;
		goto fail;
	}
	step = "sync directory";
	if (fsync(dirfd) != 0) {
		err = errno;
		goto fail;
	}
	*fd_out = fd;
	return 0;
fail:
	log_error("persist", "segment %s/%s: %s failed: %s", dir, tmp, step, strerror(err));
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	return segment_errno_error(err);
}

static int index_compare(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static DIR *open_dir_stream(int dirfd)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

int segment_list(int dirfd, const char *dir, uint32_t **out, size_t *n)
{
	DIR *d = open_dir_stream(dirfd);
	if (!d) {
		log_error("persist", "listing %s: %s", dir, strerror(errno));
		return segment_errno_error(errno);
	}
	uint32_t *indices = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint32_t index;
		if (!segment_name_parse(e->d_name, &index))
			continue;
		if (count == cap) {
			size_t next = cap ? 2 * cap : 16;
			uint32_t *grown = realloc(indices, next * sizeof *grown);
			if (!grown) {
				free(indices);
				closedir(d);
				return GRP_ENOMEM;
			}
			indices = grown;
			cap = next;
		}
		indices[count++] = index;
	}
	closedir(d);
	if (count)
		qsort(indices, count, sizeof *indices, index_compare);
	*out = indices;
	*n = count;
	return 0;
}

void segment_remove_leftovers(int dirfd, const char *dir)
{
	DIR *d = open_dir_stream(dirfd);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len == 16 && strncmp(e->d_name, "seg-", 4) == 0 && strcmp(e->d_name + 12, ".tmp") == 0) {
			log_info("persist", "removing %s/%s, left by a crash while it was created", dir,
				 e->d_name);
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

void segment_window_init(struct segment_window *w)
{
	memset(w, 0, sizeof *w);
	w->fd = -1;
}

void segment_window_drop(struct segment_window *w)
{
	w->fd = -1;
	w->len = 0;
}

void segment_window_free(struct segment_window *w)
{
	free(w->buf);
	segment_window_init(w);
}

int segment_window_get(struct segment_window *w, int fd, uint64_t off, size_t need, uint64_t limit,
		       const uint8_t **out)
{
	if (w->fd == fd && off >= w->start && off - w->start <= w->len &&
	    w->len - (off - w->start) >= need) {
		*out = w->buf + (off - w->start);
		return 0;
	}
	if (off > limit || limit - off < need)
		return GRP_EIO;
	uint64_t want = need > WINDOW_READ_BYTES ? need : WINDOW_READ_BYTES;
	if (want > limit - off)
		want = limit - off;
	if (want > w->cap) {
		uint8_t *grown = realloc(w->buf, want);
		if (!grown)
			return GRP_ENOMEM;
		w->buf = grown;
		w->cap = want;
	}
	segment_window_drop(w);
	size_t got = 0;
	while (got < want) {
		ssize_t n = pread(fd, w->buf + got, want - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("persist", "reading a segment at offset %" PRIu64 ": %s", off + got,
				  strerror(errno));
			return GRP_EIO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got < need)
		return GRP_EIO;
	w->fd = fd;
	w->start = off;
	w->len = got;
	*out = w->buf;
	return 0;
}
