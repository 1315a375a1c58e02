// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: firmware image loading, compatibility check and boot handshake.
 *
 * The image (tnpu/tnpu_fw.bin, built by firmware/mkimage.c) carries a
 * versioned header and the table of opcodes the firmware implements. There
 * is no silicon to run firmware code on: the command processor itself is
 * compiled into tnpu.ko (the sources in firmware/) and the image tells the driver which
 * interfaces that build speaks. The driver refuses an image that does not
 * match the interfaces it was built against, with one clear log line.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/crc32.h>
#include <linux/firmware.h>
#include <linux/iopoll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <drm/drm_print.h>

#include "drm/tnpu_cmd.h"
#include "ops.h"
#include "tnpu_fw.h"
#include "tnpu_hw.h"

#define TNPU_FW_NAME		"tnpu/tnpu_fw.bin"
#define TNPU_FW_BOOT_POLL_US	1000
#define TNPU_FW_BOOT_TIMEOUT_US	(2 * 1000 * 1000)

MODULE_FIRMWARE(TNPU_FW_NAME);

/* One interface: the image's major must equal ours and its minor cover ours. */
static bool tnpu_fw_api_ok(struct tnpu_device *tdev, const char *what,
			   u16 major, u16 minor, u16 want_major, u16 want_minor)
{
	if (major == want_major && minor >= want_minor)
		return true;
	tnpu_err(tdev, "%s: %s interface %u.%u is incompatible with driver's %u.%u\n",
		 TNPU_FW_NAME, what, major, minor, want_major, want_minor);
	return false;
}

/* The image's op table must be exactly the built-in firmware's. */
static int tnpu_fw_check_ops(struct tnpu_device *tdev,
			     const struct tnpu_fw_image_header *hdr, const u8 *data)
{
	const struct tnpu_fw_image_op *ops = (const void *)(data + hdr->ops_offset);
	u32 i, builtin = 0;

	for (i = 0; i < TNPU_FW_NUM_OPCODES; i++)
		builtin += !!tnpu_fw_op_table[i].run;

	for (i = 0; i < hdr->num_ops; i++) {
		u16 op = ops[i].opcode;

		if (op >= TNPU_FW_NUM_OPCODES || !tnpu_fw_op_table[op].run ||
		    tnpu_fw_op_table[op].size != ops[i].size ||
		    tnpu_fw_op_table[op].flags != ops[i].flags)
			break;
	}
	if (i != hdr->num_ops || hdr->num_ops != builtin) {
		tnpu_err(tdev, "%s: op table (%u ops) does not match the built-in firmware (%u ops)\n",
			 TNPU_FW_NAME, hdr->num_ops, builtin);
		return -ENOEXEC;
	}
	return 0;
}

static int tnpu_fw_check(struct tnpu_device *tdev, const u8 *data, size_t size)
{
	const struct tnpu_fw_image_header *hdr = (const void *)data;
	struct tnpu_fw_image_header copy;
	u32 crc;

	if (size < sizeof(*hdr) || hdr->magic != TNPU_FW_IMAGE_MAGIC) {
		tnpu_err(tdev, "%s: not a tnpu firmware image\n", TNPU_FW_NAME);
		return -ENOEXEC;
	}
	if (hdr->image_version != TNPU_FW_IMAGE_VERSION ||
	    hdr->header_size != sizeof(*hdr)) {
		tnpu_err(tdev, "%s: image format %u (header %u bytes) unsupported, driver needs %u (%zu)\n",
			 TNPU_FW_NAME, hdr->image_version, hdr->header_size,
			 TNPU_FW_IMAGE_VERSION, sizeof(*hdr));
		return -ENOEXEC;
	}
	if (hdr->reserved0 || hdr->reserved1) {
		tnpu_err(tdev, "%s: reserved header fields set (image for a newer driver?)\n",
			 TNPU_FW_NAME);
		return -ENOEXEC;
	}
	if (hdr->image_size != size || hdr->ops_offset < sizeof(*hdr) ||
	    hdr->ops_offset > size ||
	    hdr->num_ops > (size - hdr->ops_offset) / sizeof(struct tnpu_fw_image_op)) {
		tnpu_err(tdev, "%s: truncated or inconsistent image (%zu bytes)\n",
			 TNPU_FW_NAME, size);
		return -ENOEXEC;
	}

	/* The CRC covers the image with its own field zeroed. */
	copy = *hdr;
	copy.crc32 = 0;
	crc = crc32_le(~0U, (const u8 *)&copy, sizeof(copy));
	crc = crc32_le(crc, data + sizeof(copy), size - sizeof(copy));
	if (~crc != hdr->crc32) {
		tnpu_err(tdev, "%s: checksum mismatch (corrupt image)\n", TNPU_FW_NAME);
		return -ENOEXEC;
	}

	if (!tnpu_fw_api_ok(tdev, "command ISA", hdr->isa_major, hdr->isa_minor,
			    TNPU_ISA_MAJOR, TNPU_ISA_MINOR) ||
	    !tnpu_fw_api_ok(tdev, "ring ABI", hdr->ring_major, hdr->ring_minor,
			    TNPU_RING_ABI_MAJOR, TNPU_RING_ABI_MINOR) ||
	    !tnpu_fw_api_ok(tdev, "MMU format", hdr->mmu_major, hdr->mmu_minor,
			    TNPU_MMU_FMT_MAJOR, TNPU_MMU_FMT_MINOR))
		return -ENOEXEC;

	/* The code is linked into this module: the image must describe that build. */
	if (hdr->fw_version >> 16 != TNPU_FW_VERSION_MAJOR) {
		tnpu_err(tdev, "%s: firmware %u.%u does not match the built-in firmware %u.%u\n",
			 TNPU_FW_NAME, hdr->fw_version >> 16, hdr->fw_version & 0xffff,
			 TNPU_FW_VERSION_MAJOR, TNPU_FW_VERSION_MINOR);
		return -ENOEXEC;
	}
	return tnpu_fw_check_ops(tdev, hdr, data);
}

int tnpu_fw_load(struct tnpu_device *tdev)
{
	const struct tnpu_fw_image_header *hdr;
	const struct firmware *blob;
	int ret;

	ret = request_firmware(&blob, TNPU_FW_NAME, tdev->drm.dev);
	if (ret) {
		tnpu_err(tdev, "cannot load %s: %d (install build/firmware/tnpu/tnpu_fw.bin in /lib/firmware)\n",
			 TNPU_FW_NAME, ret);
		return ret;
	}

	ret = tnpu_fw_check(tdev, blob->data, blob->size);
	if (ret)
		goto out;

	/* The device reads the image from memory it owns for as long as it runs. */
	tdev->fw.image = kvmemdup(blob->data, blob->size, GFP_KERNEL);
	if (!tdev->fw.image) {
		ret = -ENOMEM;
		goto out;
	}
	tdev->fw.image_size = blob->size;
	hdr = tdev->fw.image;
	tdev->fw.fw_version = hdr->fw_version;
	tdev->fw.isa_version = ((u32)hdr->isa_major << 16) | hdr->isa_minor;
	tdev->fw.capabilities = hdr->capabilities;
	strscpy(tdev->fw.build, hdr->build, sizeof(tdev->fw.build));
	tnpu_info(tdev, "firmware %u.%u \"%s\", ISA %u.%u, %u ops\n",
		  hdr->fw_version >> 16, hdr->fw_version & 0xffff, tdev->fw.build,
		  hdr->isa_major, hdr->isa_minor, hdr->num_ops);
out:
	release_firmware(blob);
	return ret;
}

void tnpu_fw_unload(struct tnpu_device *tdev)
{
	kvfree(tdev->fw.image);
	tdev->fw.image = NULL;
}

int tnpu_fw_boot(struct tnpu_device *tdev)
{
	u64 addr = (u64)(uintptr_t)tdev->fw.image;
	u32 status;
	int ret;

	tnpu_reg_write(tdev, TNPU_REG_FW_IMAGE_LO, lower_32_bits(addr));
	tnpu_reg_write(tdev, TNPU_REG_FW_IMAGE_HI, upper_32_bits(addr));
	tnpu_reg_write(tdev, TNPU_REG_FW_IMAGE_SIZE, tdev->fw.image_size);
	tnpu_reg_write(tdev, TNPU_REG_FW_BOOT, TNPU_FW_BOOT_START);

	ret = read_poll_timeout(tnpu_reg_read, status,
				status == TNPU_FW_STATUS_READY || status == TNPU_FW_STATUS_ERROR,
				TNPU_FW_BOOT_POLL_US, TNPU_FW_BOOT_TIMEOUT_US, false,
				tdev, TNPU_REG_FW_STATUS);
	if (ret || status != TNPU_FW_STATUS_READY) {
		tnpu_err(tdev, "firmware did not boot (status %u)\n", status);
		return -EIO;
	}
	if (tnpu_reg_read(tdev, TNPU_REG_FW_VERSION) != tdev->fw.fw_version) {
		tnpu_err(tdev, "firmware reports version %#x, image says %#x\n",
			 tnpu_reg_read(tdev, TNPU_REG_FW_VERSION), tdev->fw.fw_version);
		return -EIO;
	}
	tnpu_dbg(tdev, FW, "firmware %#x booted\n", tdev->fw.fw_version);
	return 0;
}
