/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: the NPU timeline as a Chrome/Perfetto trace-event JSON file
 * (struct tnpu_trace of tnpu_llm.h). Events are streamed to the file as
 * jobs complete; the file is closed into valid JSON by tnpu_trace_close().
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_TRACE_H
#define TNPU_TRACE_H

#include <stdint.h>

#include "tnpu.h"

struct tnpu_trace;

/* CLOCK_MONOTONIC in ns: the clock of host spans and of the NPU's timestamps. */
uint64_t trace_now_ns(void);

/*
 * A track (thread) for one session: its host side and the NPU queue it
 * submits to (@priority names it) on @device (the first one names the NPU
 * process). Returns the track id for trace_job().
 */
uint32_t trace_session(struct tnpu_trace *t, uint32_t priority, const char *device);

/* One job a session ran: its host spans and, from the profile, its commands. */
struct trace_job {
	uint32_t track;			/* from trace_session() */
	const char *step;		/* "prefill chunk", "decode step" */
	uint64_t seqno;			/* the queue's job id */
	uint32_t pos, tokens;		/* first position, tokens of the step */
	/* host CLOCK_MONOTONIC ns: the step, submit ioctl and fence wait */
	uint64_t step_start, step_end, submit_start, submit_end, wait_start, wait_end;
	/* record i for command i with opcode ops[i]; timestamps at ts_freq Hz */
	const struct tnpu_profile_record *rec;
	const uint16_t *ops;
	uint32_t count;
	uint64_t ts_freq;
};

/*
 * Writes @j's events, all of them or (the event limit reached) none, so
 * that every job in the file is complete. Returns 0 or a negative errno.
 */
int trace_job(struct tnpu_trace *t, const struct trace_job *j);

/* The name of NPU opcode @op (low byte of a stream's ops[]). */
const char *trace_op_name(unsigned int op);

#endif /* TNPU_TRACE_H */
