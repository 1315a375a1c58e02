// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module: triggers one kernel warning at load, so that
 * tests/vm/selftest.sh can check run-vm.sh fails on a WARN in the guest log.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/bug.h>
#include <linux/module.h>

static int __init tnpu_vm_warn_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit tnpu_vm_warn_exit(void)
{
}

module_init(tnpu_vm_warn_init);
module_exit(tnpu_vm_warn_exit);

MODULE_DESCRIPTION("tnpu VM harness self-test: warns at load");
MODULE_LICENSE("GPL");
