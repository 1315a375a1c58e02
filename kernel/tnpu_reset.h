/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: hang detection and recovery.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_RESET_H__
#define __TNPU_RESET_H__

struct tnpu_device;

void tnpu_reset_request(struct tnpu_device *tdev);
void tnpu_reset_init(struct tnpu_device *tdev);

#endif /* __TNPU_RESET_H__ */
