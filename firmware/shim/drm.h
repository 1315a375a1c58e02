/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Freestanding stand-in for <drm/drm.h>, used only by the firmware build
 * check: the firmware needs tnpu_accel.h's error codes, never its ioctls.
 */
#ifndef TNPU_FW_SHIM_DRM_H
#define TNPU_FW_SHIM_DRM_H

#include <linux/types.h>

#endif
