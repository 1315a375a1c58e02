/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: compiles a transformer model into NPU command streams.
 *
 * The weights stay in place (the mapped GGUF file wrapped as a read-only
 * buffer, struct plan_weights, shared by every plan of the model); the
 * activations live in the slots graph_plan() gives the model's
 * graph (model_build_graph()), sized for a prefill chunk and shared by every
 * layer; each layer has the F16 (or Q8_0) cache its attention node asks for
 * (K and V, or MLA's one latent cache). Two kinds of stream are
 * recorded from the planned graph: a prefill stream for a chunk of T prompt
 * tokens (ids written by the host) and the decode stream for one token,
 * which embeds the token the previous step chose on the NPU. Both read the
 * position from the parameter block (TNPU_CMD_F_INDIRECT), so each is
 * recorded once and replayed.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_COMPILE_H
#define TNPU_COMPILE_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "model.h"
#include "tnpu.h"

struct sampling_cfg {
	float temperature, top_p;
	uint32_t top_k;
	uint64_t seed;
};

struct stream_buf {
	uint64_t offset, size, cap;	/* in the command buffer */
	uint32_t count;			/* commands */
	uint16_t *ops;			/* opcode of each command, for profiles */
};

/* The cache one attention node owns (one per layer). */
struct plan_cache {
	bool used, mla;			/* MLA: one latent cache, no V */
	uint32_t n_kv, dk, dv;
	uint64_t k_off, v_off;		/* in kv_bo */
	uint64_t row_bytes_k, row_bytes_v;	/* one head of one token */
};

/* A model's tensors on the device: made once, read by every plan of it. */
struct plan_weights {
	struct tnpu_bo *weights_bo;	/* the file (or a copy), from offset 0 */
	struct tnpu_bo *aux_bo;		/* tensors derived at load, or NULL */
	uint64_t weights_va, aux_va;
	bool zero_copy;			/* weights_bo is the mapped file itself */
	/* Per file tensor: laid out by eights of rows (repack.h), or NULL: none. */
	uint8_t *x8;
};

/*
 * Wraps (or with @copy, copies) @m's file and derived tensors for @dev.
 * With @repack, the Q4_0 and Q8_0 tensors the graphs read only whole as
 * MATMUL weights become %TNPU_DT_Q4_0_X8 and %TNPU_DT_Q8_0_X8, in the copy,
 * or in the file's memory
 * itself, which then must be libtnpu's own and writable (a file read in).
 */
int plan_weights_create(struct tnpu_device *dev, const struct model *m, bool copy, bool repack,
			struct plan_weights *w);
void plan_weights_destroy(struct plan_weights *w);

/* One sequence's buffers and streams over shared weights. */
struct plan {
	struct tnpu_device *dev;
	const struct model *m;
	const struct plan_weights *w;
	uint32_t n_ctx, max_batch, num_cores;
	bool q8_act, kv_q8;

	struct tnpu_bo *acts_bo, *kv_bo, *cmd_bo;
	uint8_t *acts_cpu, *cmd_cpu;
	uint64_t acts_va, kv_va;

	/* offsets in acts_bo: the planned activation slots, then fixed buffers */
	uint64_t slots, slots_bytes, naive_bytes;
	int n_slots;
	uint64_t logits, ids, next, params, seq, route;
	uint64_t attn_scratch, attn_scratch_floats, mm_scratch, mm_scratch_size, sample_scratch;
	uint64_t moe_scratch, moe_scratch_size;	/* MOE_MATMUL working memory, bytes */
	uint32_t seq_len;		/* GV_SEQ row length */
	uint32_t route_k;		/* experts per token (0: no MoE) */
	bool *route_layer;		/* layers with routing, n_layer entries */

	/* one cache per layer, sized from the graph's attention nodes */
	struct plan_cache *caches;
	uint32_t n_caches;
	uint64_t kv_bytes;

	struct stream_buf decode, prefill;
	uint64_t decode_weight_bytes;	/* weight bytes one decode step reads */

	/*
	 * Paged plans (plan_create_paged()): the caches are pools of blocks of
	 * block_tokens positions shared by n_seq sequences, each with a row of
	 * the block table (max_blocks entries); every token row of a stream is
	 * at its own position (rows_pos) of its own sequence (rows_seq). The
	 * decode stream (plan_record_rows()) takes a token of each of up to
	 * n_seq sequences and samples each row with its settings (a row of
	 * settings per sequence); prefill streams take a chunk of one sequence
	 * and sample its last token with prefill_settings.
	 */
	bool paged;
	uint32_t block_tokens, n_blocks, n_seq, max_blocks;
	uint64_t rows_pos, rows_seq, blocks, settings, prefill_settings;
	uint32_t rows;			/* rows of the decode stream recorded */
	uint32_t prefill_tokens;	/* chunk length the prefill stream is for */
	struct sampling_cfg samp;
	bool recorded;
};

/*
 * Buffers and memory plan over @w (which must outlive the plan); @max_batch
 * tokens per prefill chunk.
 */
int plan_create(struct tnpu_device *dev, const struct model *m, const struct plan_weights *w,
		uint32_t n_ctx, uint32_t max_batch, bool q8_act, bool kv_q8, struct plan *p);
void plan_destroy(struct plan *p);

/* (Re)records the decode stream for @samp; forgets the prefill stream. */
int plan_record_decode(struct plan *p, const struct sampling_cfg *samp);
/* Records the prefill stream for chunks of @tokens (<= max_batch). */
int plan_record_prefill(struct plan *p, uint32_t tokens);

/*
 * A paged plan over @w: pools of @n_blocks blocks of @block_tokens
 * positions, for @n_seq sequences of up to @n_ctx tokens (@n_seq <=
 * @max_batch, tokens per prefill chunk).
 */
int plan_create_paged(struct tnpu_device *dev, const struct model *m,
		      const struct plan_weights *w, uint32_t n_ctx, uint32_t max_batch,
		      uint32_t n_seq, uint32_t n_blocks, uint32_t block_tokens, bool q8_act,
		      bool kv_q8, struct plan *p);
/* Records the decode stream of a paged plan for @rows sequences (1 to n_seq). */
int plan_record_rows(struct plan *p, uint32_t rows);

/* Every buffer a stream touches (at most PLAN_MAX_BOS), for struct tnpu_submit. */
#define PLAN_MAX_BOS	4
uint32_t plan_bos(const struct plan *p, struct tnpu_bo **bos);

/*
 * Runs stream @s of @p on @queue and waits for it: the job signals point
 * *@point + 1 of @sync (*@point advances once the job is submitted);
 * @profile_bo, or NULL, gets a record per command. Returns 0, or the
 * error; a failed job's message names its state, error, command (with its
 * opcode) and fault address.
 */
int plan_run(const struct plan *p, const struct stream_buf *s, struct tnpu_queue *queue,
	     struct tnpu_syncobj *sync, uint64_t *point, struct tnpu_bo *profile_bo);

/* When plan_run_timed() submitted and waited (CLOCK_MONOTONIC ns), and the job's id. */
struct plan_run_times {
	uint64_t submit_start, submit_end, wait_end;
	uint64_t seqno;
};

/*
 * A buffer for a profile record per command of @p's longest stream
 * (plan_run()'s @profile_bo), mapped at *@rec; *@ts_freq: the records'
 * timestamps per second.
 */
int plan_profile_create(const struct plan *p, struct tnpu_device *dev, struct tnpu_bo **bo,
			struct tnpu_profile_record **rec, uint64_t *ts_freq);

/* plan_run(), noting its times in @times (for traces). */
int plan_run_timed(const struct plan *p, const struct stream_buf *s, struct tnpu_queue *queue,
		   struct tnpu_syncobj *sync, uint64_t *point, struct tnpu_bo *profile_bo,
		   struct plan_run_times *times);

/*
 * Routing of layer @layer for token @row of the last stream run: ids and
 * weights of route_k experts, or NULL for a layer without MoE.
 */
const int32_t *plan_route_ids(const struct plan *p, uint32_t layer, uint32_t row);
const float *plan_route_weights(const struct plan *p, uint32_t layer, uint32_t row);

#endif /* TNPU_COMPILE_H */
