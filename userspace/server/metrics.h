/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu-server: counters and the /metrics page (Prometheus text format 0.0.4).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_SERVER_METRICS_H
#define TNPU_SERVER_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* An HTTP request to @endpoint answered with @status. */
void metrics_request(struct metrics *m, const char *endpoint, int status);
/* A finished generation request. */
void metrics_generation(struct metrics *m, const struct gen_request *r);
void metrics_connection(struct metrics *m, int delta);

/*
 * The whole page. NPU busy time comes from the device's fdinfo when a tnpu
 * device file is open (tnpu.ko), else from @s in process.
 */
char *metrics_render(struct metrics *m, const struct engine_stats *s);

/* Sum of drm-engine-npu over this process's tnpu files, in seconds; -1: none. */
double metrics_fdinfo_busy_s(const char *fdinfo_dir);

#endif /* TNPU_SERVER_METRICS_H */
