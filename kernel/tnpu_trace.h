/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: tracepoints of a job's life (submit, run on a ring, preempt,
 * done) and of recovery (hang, reset), for trace-cmd and perf:
 * /sys/kernel/tracing/events/tnpu/. A job is named by its context, queue
 * and seqno; the seqno is also its fences' seqno.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM tnpu

#if !defined(__TNPU_TRACE_H__) || defined(TRACE_HEADER_MULTI_READ)
#define __TNPU_TRACE_H__

#include <linux/tracepoint.h>

#include "tnpu_drv.h"
#include "tnpu_job.h"
DECLARE_EVENT_CLASS(tnpu_job,
		    TP_PROTO(const struct tnpu_job *job),
		    TP_ARGS(job),
		    TP_STRUCT__entry(__field(u32, ctx)
				     __field(u32, queue)
				     __field(u64, seqno)
				     __field(u32, priority)),
		    TP_fast_assign(__entry->ctx = job->queue->ctx->id;
				   __entry->queue = job->queue->id;
				   __entry->seqno = job->seqno;
				   __entry->priority = job->queue->priority;),
		    TP_printk("ctx=%u queue=%u seqno=%llu priority=%u",
			      __entry->ctx,
			      __entry->queue,
			      __entry->seqno,
			      __entry->priority)
);

/* Submitted: the job joined its queue's scheduler entity. */
DEFINE_EVENT(tnpu_job, tnpu_job_submit,
	     TP_PROTO(const struct tnpu_job *job),
	     TP_ARGS(job)
);

/* The NPU stopped making progress on the job: it is guilty. */
DEFINE_EVENT(tnpu_job, tnpu_job_hang,
	     TP_PROTO(const struct tnpu_job *job),
	     TP_ARGS(job)
);

/* A run of the job was put on a device ring (from its start or resumed). */
TRACE_EVENT(tnpu_job_run,
	    TP_PROTO(const struct tnpu_job *job, u32 ring, u32 ring_index),
	    TP_ARGS(job, ring, ring_index),
	    TP_STRUCT__entry(__field(u32, ctx)
			     __field(u32, queue)
			     __field(u64, seqno)
			     __field(u32, ring)
			     __field(u32, ring_index)
			     __field(u32, resume_cmd)),
	    TP_fast_assign(__entry->ctx = job->queue->ctx->id;
			   __entry->queue = job->queue->id;
			   __entry->seqno = job->seqno;
			   __entry->ring = ring;
			   __entry->ring_index = ring_index;
			   __entry->resume_cmd = job->resume.cmd_index;),
	    TP_printk("ctx=%u queue=%u seqno=%llu ring=%u index=%u resume_cmd=%u",
		      __entry->ctx,
		      __entry->queue,
		      __entry->seqno,
		      __entry->ring,
		      __entry->ring_index,
		      __entry->resume_cmd)
);

/* The job's run on @ring is asked to stop at its next preemption point. */
TRACE_EVENT(tnpu_job_preempt,
	    TP_PROTO(const struct tnpu_job *job, u32 ring),
	    TP_ARGS(job, ring),
	    TP_STRUCT__entry(__field(u32, ctx)
			     __field(u32, queue)
			     __field(u64, seqno)
			     __field(u32, ring)),
	    TP_fast_assign(__entry->ctx = job->queue->ctx->id;
			   __entry->queue = job->queue->id;
			   __entry->seqno = job->seqno;
			   __entry->ring = ring;),
	    TP_printk("ctx=%u queue=%u seqno=%llu ring=%u",
		      __entry->ctx,
		      __entry->queue,
		      __entry->seqno,
		      __entry->ring)
);

/* The job ended and its fence signals: @error is DRM_TNPU_ERR_* (0: done). */
TRACE_EVENT(tnpu_job_done,
	    TP_PROTO(const struct tnpu_job *job, u32 error, u32 cmd_index,
		     u64 duration_ns),
	    TP_ARGS(job, error, cmd_index, duration_ns),
	    TP_STRUCT__entry(__field(u32, ctx)
			     __field(u32, queue)
			     __field(u64, seqno)
			     __field(u64, fence_context)
			     __field(u32, error)
			     __field(u32, cmd_index)
			     __field(u64, duration_ns)
			     __field(u32, preemptions)),
	    TP_fast_assign(__entry->ctx = job->queue->ctx->id;
			   __entry->queue = job->queue->id;
			   __entry->seqno = job->seqno;
			   __entry->fence_context = job->queue->fence_context;
			   __entry->error = error;
			   __entry->cmd_index = cmd_index;
			   __entry->duration_ns = duration_ns;
			   __entry->preemptions = job->preemptions;),
	    TP_printk("ctx=%u queue=%u seqno=%llu fence=%llu:%llu status=%s error=%u cmd=%u duration_ns=%llu preemptions=%u",
		      __entry->ctx,
		      __entry->queue,
		      __entry->seqno,
		      __entry->fence_context,
		      __entry->seqno,
		      __entry->error ? "failed" : "done",
		      __entry->error,
		      __entry->cmd_index,
		      __entry->duration_ns,
		      __entry->preemptions)
);

/*
 * Recovery: @stage is what it does ("abort" of the guilty job, "engine" and
 * "firmware" resets of the device), @reason why ("hang", "request",
 * "abort timeout", "engine reset failed"); @ring and @seqno name the
 * blamed job's run (ring -1 and seqno 0 when nothing is blamed).
 */
TRACE_EVENT(tnpu_reset,
	    TP_PROTO(const struct tnpu_device *tdev, const char *stage,
		     const char *reason, int ring, u64 seqno),
	    TP_ARGS(tdev, stage, reason, ring, seqno),
	    TP_STRUCT__entry(__field(int, minor)
			     __string(stage, stage)
			     __string(reason, reason)
			     __field(int, ring)
			     __field(u64, seqno)
			     __field(s64, resets)),
	    TP_fast_assign(__entry->minor = tdev->drm.accel->index;
			   __assign_str(stage);
			   __assign_str(reason);
			   __entry->ring = ring;
			   __entry->seqno = seqno;
			   __entry->resets = atomic64_read(&tdev->reset_count);),
	    TP_printk("accel%d stage=%s reason=%s ring=%d seqno=%llu resets_before=%lld",
		      __entry->minor,
		      __get_str(stage),
		      __get_str(reason),
		      __entry->ring,
		      __entry->seqno,
		      __entry->resets)
);

#endif /* __TNPU_TRACE_H__ */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE tnpu_trace
#include <trace/define_trace.h>
