// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-mkimage: build the firmware image tnpu/tnpu_fw.bin.
 *
 * The image is a versioned header (uapi/drm/tnpu_dev.h) plus the table of
 * opcodes this firmware build executes, read from the firmware's own op
 * table (this tool links the firmware objects). The code itself is not in
 * the image: the virtual NPU runs the firmware linked into tnpu.ko (or into
 * libtnpu), and the driver refuses an image that does not describe it.
 *
 *   tnpu-mkimage -o FILE [--build STRING] [--isa-major N] [--ring-major N]
 *                [--mmu-major N] [--fw-major N] [--corrupt]
 *
 * The overrides and --corrupt write deliberately incompatible or damaged
 * images, for the tests of the driver's refusal paths.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drm/tnpu_cmd.h"
#include "drm/tnpu_dev.h"
#include "ops.h"
#include "tnpu_fw.h"

static uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	int bit;

	while (len--) {
		crc ^= *p++;
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320U & -(crc & 1));
	}
	return crc;
}

static int parse_u16(const char *opt, const char *arg, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg ? arg : "", &end, 0);
	if (!arg || *end || errno || v > 0xffff) {
		fprintf(stderr, "tnpu-mkimage: %s needs a number 0-65535, got '%s'\n",
			opt, arg ? arg : "");
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: tnpu-mkimage -o FILE [--build STRING] [--isa-major N]\n"
			"       [--ring-major N] [--mmu-major N] [--fw-major N] [--corrupt]\n");
}

int main(int argc, char **argv)
{
	struct tnpu_fw_image_header hdr;
	struct tnpu_fw_image_op ops[TNPU_FW_NUM_OPCODES];
	const char *out = NULL, *build = "tnpu-fw";
	uint16_t fw_major = TNPU_FW_VERSION_MAJOR;
	int corrupt = 0, i;
	uint32_t num_ops = 0, crc;
	size_t size;
	unsigned char *image;
	FILE *f;

	memset(&hdr, 0, sizeof(hdr));
	hdr.isa_major = TNPU_ISA_MAJOR;
	hdr.isa_minor = TNPU_ISA_MINOR;
	hdr.ring_major = TNPU_RING_ABI_MAJOR;
	hdr.ring_minor = TNPU_RING_ABI_MINOR;
	hdr.mmu_major = TNPU_MMU_FMT_MAJOR;
	hdr.mmu_minor = TNPU_MMU_FMT_MINOR;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r = 0;

		if (!strcmp(a, "-o") && v) {
			out = v;
		} else if (!strcmp(a, "--build") && v) {
			build = v;
		} else if (!strcmp(a, "--isa-major")) {
			r = parse_u16(a, v, &hdr.isa_major);
		} else if (!strcmp(a, "--ring-major")) {
			r = parse_u16(a, v, &hdr.ring_major);
		} else if (!strcmp(a, "--mmu-major")) {
			r = parse_u16(a, v, &hdr.mmu_major);
		} else if (!strcmp(a, "--fw-major")) {
			r = parse_u16(a, v, &fw_major);
		} else if (!strcmp(a, "--corrupt")) {
			corrupt = 1;
			continue;
		} else {
			usage();
			return 2;
		}
		if (r)
			return 2;
		i++;
	}
	if (!out) {
		usage();
		return 2;
	}
	if (strlen(build) >= sizeof(hdr.build)) {
		fprintf(stderr, "tnpu-mkimage: build string longer than %zu bytes\n",
			sizeof(hdr.build) - 1);
		return 2;
	}

	for (i = 0; i < TNPU_FW_NUM_OPCODES; i++) {
		if (!tnpu_fw_op_table[i].run)
			continue;
		ops[num_ops].opcode = (uint16_t)i;
		ops[num_ops].flags = tnpu_fw_op_table[i].flags;
		ops[num_ops].size = tnpu_fw_op_table[i].size;
		num_ops++;
	}

	size = sizeof(hdr) + num_ops * sizeof(ops[0]);
	hdr.magic = TNPU_FW_IMAGE_MAGIC;
	hdr.image_version = TNPU_FW_IMAGE_VERSION;
	hdr.header_size = sizeof(hdr);
	hdr.image_size = (uint32_t)size;
	hdr.fw_version = ((uint32_t)fw_major << 16) | TNPU_FW_VERSION_MINOR;
	hdr.capabilities = TNPU_FW_CAP_PROFILING | TNPU_FW_CAP_SIMD | TNPU_FW_CAP_PREEMPT;
	hdr.num_ops = num_ops;
	hdr.ops_offset = sizeof(hdr);
	memcpy(hdr.build, build, strlen(build));

	image = calloc(1, size);
	if (!image) {
		fprintf(stderr, "tnpu-mkimage: out of memory\n");
		return 1;
	}
	memcpy(image, &hdr, sizeof(hdr));
	memcpy(image + sizeof(hdr), ops, num_ops * sizeof(ops[0]));
	crc = ~crc32_update(~0U, image, size);
	memcpy(image + offsetof(struct tnpu_fw_image_header, crc32), &crc, sizeof(crc));
	if (corrupt)
		image[size - 1] ^= 0xff;

	f = fopen(out, "wb");
	if (!f || fwrite(image, 1, size, f) != size || fclose(f)) {
		fprintf(stderr, "tnpu-mkimage: cannot write %s: %s\n", out, strerror(errno));
		free(image);
		return 1;
	}
	free(image);
	return 0;
}
