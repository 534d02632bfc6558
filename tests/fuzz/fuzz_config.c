/* A configuration file: loaded from a file and from a string, which must
 * agree, then dumped, loaded back and dumped again, which must give the
 * same text (grp_config_dump promises output that loads back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <group/config.h>
#include <group/error.h>

#include "fuzz.h"

/* The dump as a string (malloc'd). */
static char *dump(const grp_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(grp_config_dump(cfg, f) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	return text;
}

/* grp_config_load_file on the input, through a memory file: it reads the
 * bytes itself, NULs included. */
static int load_file(grp_config *cfg, const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.ini", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int rc = grp_config_load_file(cfg, path);
	close(fd);
	return rc;
}

/* The configuration of the dump must dump the same. */
static void check_dump_loads_back(const char *text)
{
	grp_config *again;
	FUZZ_CHECK(grp_config_new(&again) == 0);
	FUZZ_CHECK(grp_config_load_string(again, text, "dump") == 0);
	char *text_again = dump(again);
	FUZZ_CHECK(strcmp(text, text_again) == 0);
	free(text_again);
	grp_config_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size);
	grp_config *from_string, *from_file;
	FUZZ_CHECK(text && grp_config_new(&from_string) == 0 && grp_config_new(&from_file) == 0);
	int rc_string = grp_config_load_string(from_string, text, "fuzz");
	int rc_file = load_file(from_file, data, size);
	if (strlen(text) < size) {
		FUZZ_CHECK(rc_file == GRP_ECONFIG);
	} else {
		FUZZ_CHECK(rc_string == rc_file);
	}
	if (rc_string == 0) {
		char *dumped = dump(from_string);
		check_dump_loads_back(dumped);
		if (rc_file == 0) {
			char *dumped_file = dump(from_file);
			FUZZ_CHECK(strcmp(dumped, dumped_file) == 0);
			free(dumped_file);
		}
		free(dumped);
	}
	grp_config_free(from_file);
	grp_config_free(from_string);
	free(text);
	return 0;
}
