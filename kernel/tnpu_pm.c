// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: runtime and system power management.
 *
 * The NPU is powered while jobs are in flight: every job holds a runtime-PM
 * reference from SUBMIT (which resumes the NPU if needed, before the job is
 * pushed) until its fence signals, including the time it waits for its
 * in-fences. When the last one ends the NPU suspends after the autosuspend
 * delay (power/autosuspend_delay_ms, TNPU_AUTOSUSPEND_MS by default).
 *
 * Suspend keeps the dispatcher from putting jobs on the rings, then powers
 * the NPU off: the firmware stops and its threads park (TASK_PARKED), so a
 * suspended NPU costs no CPU. Resume powers it on and boots the firmware and
 * programs the rings as probe does, then lets the dispatcher run again.
 *
 * Hang detection never races a suspend: it watches jobs on the rings, which
 * hold references, and a job's clock starts when it goes on a ring, after
 * the NPU resumed. A reset requested through debugfs resumes the NPU first.
 * &tnpu_device.hw_lock serializes suspend, resume and resets, so a reset
 * that comes anyway while the NPU is off (a system suspend does not wait for
 * references) finds it suspended and leaves it alone: nothing runs there.
 *
 * System suspend forces the runtime suspend; it fails with -EBUSY, as
 * panfrost's does, while a job is on a ring. Jobs that become ready
 * meanwhile wait in their queues until the system resumes.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/pm_runtime.h>
#include <linux/sysfs.h>

#include "tnpu_dispatch.h"
#include "tnpu_drv.h"
#include "tnpu_hw.h"
#include "tnpu_pm.h"

/* Idle time before the NPU suspends, unless power/autosuspend_delay_ms says. */
#define TNPU_AUTOSUSPEND_MS	100

static int tnpu_pm_runtime_suspend(struct device *dev)
{
	struct tnpu_device *tdev = dev_get_drvdata(dev);
	int ret;

	mutex_lock(&tdev->hw_lock);
	/* Only a forced (system) suspend finds a job on a ring. */
	ret = tnpu_dispatch_park(tdev);
	if (ret)
		goto out;
	tnpu_reg_write(tdev, TNPU_REG_IRQ_MASK, 0);
	tnpu_reg_write(tdev, TNPU_REG_POWER, TNPU_POWER_OFF);
	if (tnpu_reg_read(tdev, TNPU_REG_POWER) != TNPU_POWER_OFF) {
		/* Only a core stuck in a job ignores it: the NPU is lost. */
		tnpu_err(tdev, "NPU did not power off: lost until reload\n");
		tdev->dead = true;
		tnpu_dispatch_unpark(tdev);
		ret = -EIO;
		goto out;
	}
	tdev->suspended = true;
	atomic64_inc(&tdev->suspend_count);
	tnpu_dbg(tdev, FW, "suspended: firmware stopped, cores parked\n");
out:
	mutex_unlock(&tdev->hw_lock);
	return ret;
}

static int tnpu_pm_runtime_resume(struct device *dev)
{
	struct tnpu_device *tdev = dev_get_drvdata(dev);
	int ret;

	mutex_lock(&tdev->hw_lock);
	tnpu_reg_write(tdev, TNPU_REG_POWER, TNPU_POWER_ON);
	/* The way probe brings the NPU up: boot, then empty rings. */
	ret = tnpu_fw_boot(tdev);
	if (!ret)
		ret = tnpu_hw_ring_start(tdev);
	if (ret) {
		tnpu_err(tdev, "resume failed (%d): NPU lost until reload\n", ret);
		/* Jobs waiting in their queues then end canceled. */
		tdev->dead = true;
	} else {
		atomic64_inc(&tdev->resume_count);
		tnpu_dbg(tdev, FW, "resumed\n");
	}
	tdev->suspended = false;
	tnpu_dispatch_unpark(tdev);
	mutex_unlock(&tdev->hw_lock);
	return ret;
}

const struct dev_pm_ops tnpu_pm_ops = {
	SYSTEM_SLEEP_PM_OPS(pm_runtime_force_suspend, pm_runtime_force_resume)
	RUNTIME_PM_OPS(tnpu_pm_runtime_suspend, tnpu_pm_runtime_resume, NULL)
};

/**
 * tnpu_pm_get() - power the NPU for a job, resuming it if needed
 * @tdev: device.
 *
 * Sleeps. Each successful call is paired with tnpu_pm_put().
 *
 * Return: 0 or a negative errno.
 */
int tnpu_pm_get(struct tnpu_device *tdev)
{
	int ret = pm_runtime_resume_and_get(tdev->drm.dev);

	if (ret)
		tnpu_err_ratelimited(tdev, "cannot resume the NPU: %d\n", ret);
	return ret;
}

/**
 * tnpu_pm_put() - a job is over: suspend after the autosuspend delay if it
 *	was the last
 * @tdev: device.
 *
 * Any context: the completion interrupt calls it.
 */
void tnpu_pm_put(struct tnpu_device *tdev)
{
	pm_runtime_mark_last_busy(tdev->drm.dev);
	pm_runtime_put_autosuspend(tdev->drm.dev);
}

/* The NPU is up (probe booted it): let it suspend once idle. */
void tnpu_pm_init(struct tnpu_device *tdev)
{
	struct device *dev = tdev->drm.dev;

	mutex_init(&tdev->hw_lock);
	pm_runtime_set_autosuspend_delay(dev, TNPU_AUTOSUSPEND_MS);
	pm_runtime_use_autosuspend(dev);
	pm_runtime_set_active(dev);
	pm_runtime_mark_last_busy(dev);
	pm_runtime_enable(dev);
}

/*
 * Teardown: no PM callback runs after this. The NPU stays in whatever state
 * it is, on or suspended; tearing the virtual device down handles both.
 * Not devm_pm_runtime_enable(): its undo turns autosuspend off first,
 * which may suspend the NPU synchronously while it is being torn down.
 */
void tnpu_pm_fini(struct tnpu_device *tdev)
{
	struct device *dev = tdev->drm.dev;

	pm_runtime_get_noresume(dev);
	/* Waits for a suspend or resume in progress, cancels a pending one. */
	pm_runtime_disable(dev);
	pm_runtime_dont_use_autosuspend(dev);
	pm_runtime_put_noidle(dev);
}

/* ---- sysfs: counters and the firmware threads' state --------------------- */

static ssize_t npu_suspend_count_show(struct device *dev, struct device_attribute *attr,
				      char *buf)
{
	struct tnpu_device *tdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", (u64)atomic64_read(&tdev->suspend_count));
}
static DEVICE_ATTR_RO(npu_suspend_count);

static ssize_t npu_resume_count_show(struct device *dev, struct device_attribute *attr,
				     char *buf)
{
	struct tnpu_device *tdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", (u64)atomic64_read(&tdev->resume_count));
}
static DEVICE_ATTR_RO(npu_resume_count);

/* The scheduler's own view of each firmware thread, as /proc/PID/stat shows it. */
static ssize_t npu_fw_threads_show(struct device *dev, struct device_attribute *attr,
				   char *buf)
{
	struct tnpu_device *tdev = dev_get_drvdata(dev);
	const char *comm;
	unsigned int i;
	int len = 0;
	pid_t pid;
	char state;

	for (i = 0; i < tdev->num_cores; i++) {
		comm = tnpu_vdev_core_thread(tdev->vdev, i, &pid, &state);
		if (comm)
			len += sysfs_emit_at(buf, len, "%d %s %c\n", pid, comm, state);
	}
	return len;
}
static DEVICE_ATTR_RO(npu_fw_threads);

static ssize_t npu_fw_parked_show(struct device *dev, struct device_attribute *attr,
				  char *buf)
{
	struct tnpu_device *tdev = dev_get_drvdata(dev);
	unsigned int i, parked = 0;
	pid_t pid;
	char state;

	for (i = 0; i < tdev->num_cores; i++)
		if (tnpu_vdev_core_thread(tdev->vdev, i, &pid, &state) && state == 'P')
			parked++;
	return sysfs_emit(buf, "%d\n", parked == tdev->num_cores);
}
static DEVICE_ATTR_RO(npu_fw_parked);

static struct attribute *tnpu_pm_attrs[] = {
	&dev_attr_npu_suspend_count.attr,
	&dev_attr_npu_resume_count.attr,
	&dev_attr_npu_fw_threads.attr,
	&dev_attr_npu_fw_parked.attr,
	NULL,
};

static const struct attribute_group tnpu_pm_group = {
	.attrs = tnpu_pm_attrs,
};

/* The platform driver's dev_groups: created after probe, removed before remove. */
const struct attribute_group *tnpu_pm_groups[] = {
	&tnpu_pm_group,
	NULL,
};
