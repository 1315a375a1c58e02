/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A scratch file for unit tests that write model files: tmp_path names an
 * empty file created for the test group and removed after it.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_TMP_FILE_TEST_UTIL_H
#define TNPU_TMP_FILE_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char tmp_path[64];

/* Create /tmp/@prefix.XXXXXX into tmp_path; 0 or -1 (a cmocka setup result). */
static inline int tmp_file_create(const char *prefix)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/%s.XXXXXX", prefix);
	fd = mkstemp(tmp_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static inline int tmp_file_teardown(void **state)
{
	(void)state;
	unlink(tmp_path);
	return 0;
}

#endif /* TNPU_TMP_FILE_TEST_UTIL_H */
