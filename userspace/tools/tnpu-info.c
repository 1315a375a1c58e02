// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-info: print what the NPU reports about itself: every GET_PARAM,
 * the DEVICE_INFO query, this process's memory use, and the backend used.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tnpu.h"

#define LAST_PARAM DRM_TNPU_PARAM_TIMESTAMP_FREQ

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tnpu-info [--backend auto|kernel|inproc] [--device PATH]\n"
		"\n"
		"Print every device parameter (GET_PARAM), the DEVICE_INFO query and the\n"
		"memory this process owns on the NPU.\n"
		"\n"
		"  -b, --backend B   auto (default: kernel driver, else in-process),\n"
		"                    kernel (tnpu.ko via /dev/accel) or inproc\n"
		"  -d, --device PATH use this accel node (implies --backend kernel)\n"
		"  -h, --help        this text\n"
		"\n"
		"Examples:\n"
		"  tnpu-info\n"
		"  tnpu-info --backend inproc\n"
		"  tnpu-info --device /dev/accel/accel0\n");
}

static void print_version(const char *what, uint64_t v)
{
	printf("  %-16s %" PRIu64 ".%" PRIu64 "\n", what, v >> 16, v & 0xffff);
}

static void print_caps(uint64_t caps)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ DRM_TNPU_CAP_USERPTR, "userptr" },
		{ DRM_TNPU_CAP_TIMELINE_SYNCOBJ, "timeline-syncobj" },
		{ DRM_TNPU_CAP_PRIME, "prime" },
		{ DRM_TNPU_CAP_PROFILING, "profiling" },
	};

	printf("  %-16s 0x%" PRIx64 " (", "capabilities", caps);
	for (size_t i = 0, n = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (caps & names[i].bit)
			printf("%s%s", n++ ? " " : "", names[i].name);
	printf(")\n");
}

static void print_param(uint32_t param, uint64_t v)
{
	switch (param) {
	case DRM_TNPU_PARAM_UAPI_VERSION:
	case DRM_TNPU_PARAM_FW_VERSION:
	case DRM_TNPU_PARAM_CMD_ISA_VERSION:
		print_version(tnpu_param_name(param), v);
		break;
	case DRM_TNPU_PARAM_CAPABILITIES:
		print_caps(v);
		break;
	case DRM_TNPU_PARAM_DEVICE_ID:
		printf("  %-16s 0x%04" PRIx64 "\n", tnpu_param_name(param), v);
		break;
	case DRM_TNPU_PARAM_VA_SIZE:
	case DRM_TNPU_PARAM_MEM_LIMIT:
	case DRM_TNPU_PARAM_MAX_BO_SIZE:
		printf("  %-16s %" PRIu64 " bytes (%.1f MiB)\n", tnpu_param_name(param), v,
		       (double)v / (1 << 20));
		break;
	case DRM_TNPU_PARAM_TIMESTAMP_FREQ:
		printf("  %-16s %" PRIu64 " Hz\n", tnpu_param_name(param), v);
		break;
	default:
		printf("  %-16s %" PRIu64 "\n", tnpu_param_name(param), v);
	}
}

static int print_all(struct tnpu_device *dev)
{
	struct drm_tnpu_memory_info mem;
	struct tnpu_device_info info;
	int ret;

	printf("backend:  %s\n", tnpu_backend_name(tnpu_device_backend(dev)));
	printf("device:   %s\n", tnpu_device_path(dev));
	printf("params (GET_PARAM):\n");
	for (uint32_t p = 0; p <= LAST_PARAM; p++) {
		uint64_t v;

		ret = tnpu_device_get_param(dev, p, &v);
		if (ret) {
			fprintf(stderr, "tnpu-info: %s\n", tnpu_last_error());
			return ret;
		}
		print_param(p, v);
	}

	ret = tnpu_device_query_info(dev, &info);
	if (ret) {
		fprintf(stderr, "tnpu-info: %s\n", tnpu_last_error());
		return ret;
	}
	printf("device info (QUERY DEVICE_INFO):\n");
	printf("  %-16s 0x%04x rev %u\n", "device", info.device_id, info.revision);
	print_version("uapi", info.uapi_version);
	print_version("firmware", info.fw_version);
	print_version("isa", info.isa_version);
	printf("  %-16s %s\n", "fw_name", info.fw_name);
	printf("  %-16s %u\n", "hw_queues", info.num_hw_queues);
	printf("  %-16s %u\n", "cores", info.num_cores);
	printf("  %-16s %" PRIu64 "\n", "va_size", info.va_size);
	printf("  %-16s %" PRIu64 "\n", "mem_limit", info.mem_limit);
	print_caps(info.capabilities);

	ret = tnpu_device_query_memory(dev, &mem);
	if (ret) {
		fprintf(stderr, "tnpu-info: %s\n", tnpu_last_error());
		return ret;
	}
	printf("this process (QUERY MEMORY):\n");
	printf("  %-16s %" PRIu64 " bytes in %" PRIu64 " buffers, limit %" PRIu64 "\n",
	       "allocated", (uint64_t)mem.allocated, (uint64_t)mem.bo_count,
	       (uint64_t)mem.limit);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	enum tnpu_backend_kind kind = TNPU_BACKEND_AUTO;
	const char *path = NULL;
	struct tnpu_device *dev;
	int c, ret;

	while ((c = getopt_long(argc, argv, "b:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (tnpu_backend_from_name(optarg, &kind)) {
				fprintf(stderr,
					"tnpu-info: unknown backend '%s': expected auto, kernel or inproc\n",
					optarg);
				return 2;
			}
			break;
		case 'd':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tnpu-info: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (path && kind == TNPU_BACKEND_INPROC) {
		fprintf(stderr, "tnpu-info: --device needs the kernel backend, not inproc\n");
		return 2;
	}

	ret = path ? tnpu_device_open_path(&dev, path) : tnpu_device_open(&dev, kind);
	if (ret) {
		fprintf(stderr, "tnpu-info: cannot open the NPU: %s\n", tnpu_last_error());
		return 1;
	}
	ret = print_all(dev);
	tnpu_device_close(dev);
	return ret ? 1 : 0;
}
