// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the command processor. Walks a command stream, copies each
 * command out of NPU memory, checks its header against the op table, runs
 * it and writes its profile record. Also the control ops.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops.h"

/* Bytes handled between two checkpoints by the DMA-like ops. */
#define CHUNK_BYTES (256U * 1024)
/* Default WAIT_VALUE timeout. */
#define WAIT_DEFAULT_NS 1000000000ULL
/*
 * Longest WAIT_VALUE timeout: a job's fence must signal in bounded time,
 * and a wait is the one command that need not end by itself.
 */
#define WAIT_MAX_NS (10 * WAIT_DEFAULT_NS)

int tnpu_fw_fail(struct tnpu_fw_exec *ex, int err, __u64 fault_addr)
{
	/* The first failure of a command is the one reported. */
	if (!ex->job->error) {
		ex->job->error = err;
		ex->job->cmd_index = ex->cmd_index;
		ex->job->fault_addr = fault_addr;
	}
	return err;
}

int tnpu_fw_checkpoint(struct tnpu_fw_exec *ex)
{
	const struct tnpu_fw_platform *plat = ex->plat;

	tnpu_fw_progress(ex);
	if (plat->should_abort(plat->priv))
		return tnpu_fw_fail(ex, TNPU_FW_ERR_ABORTED, 0);
	plat->preempt_point(plat->priv);
	return 0;
}

int tnpu_fw_want_pause(struct tnpu_fw_exec *ex)
{
	const struct tnpu_fw_platform *plat = ex->plat;

	return plat->should_preempt && plat->should_preempt(plat->priv);
}

int tnpu_fw_pause(struct tnpu_fw_exec *ex, __u64 state)
{
	ex->job->resume_op_state = state;
	return TNPU_FW_PAUSED;
}

int tnpu_fw_pause_point(struct tnpu_fw_exec *ex, __u64 state)
{
	int ret = tnpu_fw_checkpoint(ex);

	if (ret)
		return ret;
	return tnpu_fw_want_pause(ex) ? tnpu_fw_pause(ex, state) : 0;
}

static __u64 now_ns(struct tnpu_fw_exec *ex)
{
	return ex->plat->now_ns(ex->plat->priv);
}

int tnpu_fw_op_nop(struct tnpu_fw_exec *ex, const void *cmd)
{
	(void)ex;
	(void)cmd;
	return 0;
}

int tnpu_fw_op_fill(struct tnpu_fw_exec *ex, const void *cmd)
{
	const struct tnpu_cmd_fill *c = cmd;
	__u64 done;
	__u32 *dst;
	int ret;

	if (c->pad || (c->dst & 3) || (c->size & 3))
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	ret = tnpu_fw_mem(ex, c->dst, c->size, 1, (void **)&dst);
	if (ret)
		return ret;
	/* A resumed fill goes on from the words it had written. */
	done = ex->resume_state < c->size ? ex->resume_state / 4 : 0;
	while (done < c->size / 4) {
		__u64 end = done + CHUNK_BYTES / 4;

		if (end > c->size / 4)
			end = c->size / 4;
		for (; done < end; done++)
			dst[done] = c->value;
		/* Past the last chunk there is nothing left to pause. */
		ret = done < c->size / 4 ? tnpu_fw_pause_point(ex, done * 4) :
					   tnpu_fw_checkpoint(ex);
		if (ret)
			return ret;
	}
	return 0;
}

int tnpu_fw_op_copy(struct tnpu_fw_exec *ex, const void *cmd)
{
	const struct tnpu_cmd_copy *c = cmd;
	unsigned char *dst;
	const unsigned char *src;
	void *p;
	__u64 done;
	int ret;

	ret = tnpu_fw_mem(ex, c->src, c->size, 0, &p);
	if (ret)
		return ret;
	src = p;
	ret = tnpu_fw_mem(ex, c->dst, c->size, 1, &p);
	if (ret)
		return ret;
	dst = p;
	/* Both ranges are valid here, so neither end overflows. */
	if (c->size && c->src < c->dst + c->size && c->dst < c->src + c->size)
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	/* The ranges do not overlap: a resumed copy goes on from where it was. */
	for (done = ex->resume_state < c->size ? ex->resume_state : 0; done < c->size; ) {
		__u64 n = c->size - done < CHUNK_BYTES ? c->size - done : CHUNK_BYTES;

		tnpu_fw_memcpy(dst + done, src + done, n);
		done += n;
		ret = done < c->size ? tnpu_fw_pause_point(ex, done) : tnpu_fw_checkpoint(ex);
		if (ret)
			return ret;
	}
	return 0;
}

int tnpu_fw_op_write_value(struct tnpu_fw_exec *ex, const void *cmd)
{
	const struct tnpu_cmd_write_value *c = cmd;
	void *p;
	int ret;

	if (c->addr & 7)
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	ret = tnpu_fw_mem(ex, c->addr, 8, 1, &p);
	if (ret)
		return ret;
	__atomic_store_n((__u64 *)p, c->value, __ATOMIC_RELEASE);
	return 0;
}

static int wait_done(__u64 v, __u32 cond, __u64 value)
{
	switch (cond) {
	case TNPU_WAIT_GE:
		return v >= value;
	case TNPU_WAIT_EQ:
		return v == value;
	default:
		return v != value;
	}
}

int tnpu_fw_op_wait_value(struct tnpu_fw_exec *ex, const void *cmd)
{
	const struct tnpu_cmd_wait_value *c = cmd;
	__u64 timeout = !c->timeout_ns ? WAIT_DEFAULT_NS :
			c->timeout_ns > WAIT_MAX_NS ? WAIT_MAX_NS : c->timeout_ns;
	/* Only time on the NPU counts: a paused wait carries what it waited. */
	__u64 waited = ex->resume_state, start;
	void *p;
	int ret;

	if ((c->addr & 7) || c->pad || c->cond > TNPU_WAIT_NE)
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	ret = tnpu_fw_mem(ex, c->addr, 8, 0, &p);
	if (ret)
		return ret;
	start = now_ns(ex);
	while (!wait_done(__atomic_load_n((__u64 *)p, __ATOMIC_ACQUIRE), c->cond, c->value)) {
		__u64 total = waited + (now_ns(ex) - start);

		if (total >= timeout)
			return tnpu_fw_fail(ex, DRM_TNPU_ERR_WAIT_TIMEOUT, c->addr);
		ret = tnpu_fw_pause_point(ex, total);
		if (ret)
			return ret;
	}
	return 0;
}

int tnpu_fw_op_set_params(struct tnpu_fw_exec *ex, const void *cmd)
{
	const struct tnpu_cmd_set_params *c = cmd;
	void *p;
	int ret;

	if (!c->addr || (c->addr & 7))
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	/* Checked now so a bad address fails here, not at its first user. */
	ret = tnpu_fw_mem(ex, c->addr, sizeof(struct tnpu_param_block), 0, &p);
	if (ret)
		return ret;
	ex->params_va = c->addr;
	return 0;
}

int tnpu_fw_op_test_hang(struct tnpu_fw_exec *ex, const void *cmd)
{
	const struct tnpu_fw_platform *plat = ex->plat;

	(void)cmd;
	/* Deliberately no progress: only the host's hang detection ends this. */
	for (;;) {
		if (plat->should_abort(plat->priv))
			return tnpu_fw_fail(ex, TNPU_FW_ERR_ABORTED, 0);
		plat->preempt_point(plat->priv);
	}
}

int tnpu_fw_op_test_spin(struct tnpu_fw_exec *ex, const void *cmd)
{
	const struct tnpu_cmd_test_spin *c = cmd;
	__u64 spun = ex->resume_state, start = now_ns(ex);
	int ret;

	/* Like a wait, a paused spin owes only what it has not spun yet. */
	while (spun + (now_ns(ex) - start) < c->duration_ns) {
		ret = tnpu_fw_pause_point(ex, spun + (now_ns(ex) - start));
		if (ret)
			return ret;
	}
	return 0;
}

/* Load the current parameter block for a TNPU_CMD_F_INDIRECT command. */
static int load_params(struct tnpu_fw_exec *ex)
{
	void *p;
	int ret;

	if (!ex->params_va)
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	ret = tnpu_fw_mem(ex, ex->params_va, sizeof(ex->params_copy), 0, &p);
	if (ret)
		return ret;
	tnpu_fw_memcpy(&ex->params_copy, p, sizeof(ex->params_copy));
	return 0;
}

static int write_profile(struct tnpu_fw_exec *ex, __u64 start, __u64 end)
{
	struct tnpu_fw_job *job = ex->job;
	struct tnpu_profile_record rec = { .start = start, .end = end };
	__u64 off = (__u64)ex->cmd_index * sizeof(rec);
	void *p;
	int ret;

	if (!job->profile_va || off >= job->profile_size ||
	    job->profile_size - off < sizeof(rec))
		return 0;
	ret = tnpu_fw_mem(ex, job->profile_va + off, sizeof(rec), 1, &p);
	if (ret)
		return ret;
	tnpu_fw_memcpy(p, &rec, sizeof(rec));
	return 0;
}

/*
 * Commands are copied into this buffer before being checked or run, so that
 * a stream rewritten while it executes cannot change a command after its
 * checks.
 */
union cmd_buf {
	struct tnpu_cmd_header hdr;
	__u64 words[TNPU_CMD_MAX_SIZE / 8];
};

/*
 * Copy the command at @offset into @buf (@cap bytes) after checking its
 * header against the stream and the op table, and its copied header
 * against the one checked: the stream may change meanwhile. Returns 0,
 * DRM_TNPU_ERR_BAD_COMMAND or DRM_TNPU_ERR_BAD_OPCODE.
 */
static int fetch_command(const unsigned char *stream, __u64 stream_size, __u64 offset,
			 void *buf, __u32 cap, struct tnpu_cmd_header *hdr)
{
	const struct tnpu_fw_op *op;
	const struct tnpu_cmd_header *copy = buf;

	if (offset > stream_size || stream_size - offset < sizeof(*hdr))
		return DRM_TNPU_ERR_BAD_COMMAND;
	tnpu_fw_memcpy(hdr, stream + offset, sizeof(*hdr));
	if (hdr->size < sizeof(*hdr) || hdr->size % 8 || hdr->size > stream_size - offset)
		return DRM_TNPU_ERR_BAD_COMMAND;
	op = hdr->opcode < TNPU_FW_NUM_OPCODES ? &tnpu_fw_op_table[hdr->opcode] : NULL;
	if (!op || !op->run)
		return DRM_TNPU_ERR_BAD_OPCODE;
	if (hdr->size != op->size || (hdr->flags & ~op->flags) || hdr->size > cap)
		return DRM_TNPU_ERR_BAD_COMMAND;
	tnpu_fw_memcpy(buf, stream + offset, hdr->size);
	if (copy->opcode != hdr->opcode || copy->flags != hdr->flags || copy->size != hdr->size)
		return DRM_TNPU_ERR_BAD_COMMAND;
	return 0;
}

int tnpu_fw_peek_command(struct tnpu_fw_exec *ex, __u64 offset, __u16 opcode, void *buf,
			 __u32 size)
{
	struct tnpu_cmd_header hdr;

	return !fetch_command(ex->stream, ex->stream_size, offset, buf, size, &hdr) &&
	       hdr.opcode == opcode && hdr.size == size && !(hdr.flags & TNPU_CMD_F_INDIRECT);
}

static int run_command(struct tnpu_fw_exec *ex, const unsigned char *stream,
		       __u64 offset, __u64 stream_size, __u32 *cmd_size)
{
	union cmd_buf buf;
	struct tnpu_cmd_header hdr;
	int ret;

	ret = fetch_command(stream, stream_size, offset, &buf, sizeof(buf), &hdr);
	if (ret)
		return tnpu_fw_fail(ex, ret, 0);
	*cmd_size = hdr.size;
	if (hdr.opcode >= TNPU_OP_TEST_FIRST && !(ex->job->flags & TNPU_FW_JOB_TEST_OPS))
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_NOT_PERMITTED, 0);

	tnpu_fw_memset(&ex->params_copy, 0, sizeof(ex->params_copy));
	ex->next_offset = offset + hdr.size;
	ex->taken_cmds = 0;
	ex->taken_bytes = 0;
	if (hdr.flags & TNPU_CMD_F_INDIRECT) {
		ret = load_params(ex);
		if (ret)
			return ret;
	}
	return tnpu_fw_op_table[hdr.opcode].run(ex, &buf);
}

/* Stop here, to continue later with the command at @offset. */
static int pause_job(struct tnpu_fw_exec *ex, __u64 offset)
{
	struct tnpu_fw_job *job = ex->job;

	job->preempted = 1;
	job->resume_offset = offset;
	job->resume_cmd_index = ex->cmd_index;
	job->resume_params_va = ex->params_va;
	return 0;
}

int tnpu_fw_run_job(const struct tnpu_fw_platform *plat, struct tnpu_fw_job *job)
{
	struct tnpu_fw_exec ex = { .plat = plat, .job = job };
	const unsigned char *stream;
	__u64 offset;
	void *p;
	int ret;

	ex.params = &ex.params_copy;
	job->error = 0;
	job->cmd_index = 0;
	job->fault_addr = 0;
	job->preempted = 0;
	if (job->cmd_size == 0)
		return 0;
	ret = tnpu_fw_mem(&ex, job->cmd_va, job->cmd_size, 0, &p);
	if (ret)
		return ret;
	stream = p;
	ex.stream = stream;
	ex.stream_size = job->cmd_size;

	/* A resumed job starts where it stopped, in the state it had there. */
	offset = job->resume_offset;
	ex.cmd_index = job->resume_cmd_index;
	ex.params_va = job->resume_params_va;
	ex.resume_state = job->resume_op_state;
	job->resume_op_state = 0;

	for (; offset < job->cmd_size; ex.cmd_index++) {
		__u64 start = now_ns(&ex);
		__u32 cmd_size = 0;

		ret = run_command(&ex, stream, offset, job->cmd_size, &cmd_size);
		ex.resume_state = 0;
		if (ret == TNPU_FW_PAUSED)
			return pause_job(&ex, offset);
		if (!ret)
			ret = write_profile(&ex, start, now_ns(&ex));
		if (ret)
			return ret;
		offset += cmd_size + ex.taken_bytes;
		ex.cmd_index += ex.taken_cmds;
		tnpu_fw_progress(&ex);
		if (plat->should_abort(plat->priv))
			return tnpu_fw_fail(&ex, TNPU_FW_ERR_ABORTED, 0);
		if (offset < job->cmd_size && plat->should_preempt &&
		    plat->should_preempt(plat->priv)) {
			ex.cmd_index++;
			return pause_job(&ex, offset);
		}
	}
	return 0;
}
