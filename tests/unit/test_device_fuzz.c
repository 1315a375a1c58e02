// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Fuzz the in-process NPU through libtnpu with random command streams
 * (tests/kselftest/tnpu_fuzz_gen.h): every job must end with a status, none
 * may be reported as a hang, nothing may touch memory outside the buffers
 * (ASan watches in the asan suite), and a FILL must still work after.
 * TNPU_FUZZ_SEED=N and TNPU_FUZZ_STREAMS=N change the run.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tnpu.h"
#include "../kselftest/tnpu_fuzz_gen.h"

#define PAGE 4096ULL
#define DATA_SIZE (64 * PAGE)

static uint64_t env_u64(const char *name, uint64_t fallback)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : fallback;
}

static void test_random_streams(void **state)
{
	unsigned int outcomes[5] = { 0 }, errors[16] = { 0 };
	struct fuzz_rng rng = { env_u64("TNPU_FUZZ_SEED", 1) };
	uint64_t streams = env_u64("TNPU_FUZZ_STREAMS", 2000);
	struct tnpu_bo *cmd, *data, *bos[2];
	struct tnpu_device *dev;
	struct tnpu_queue *queue;
	struct tnpu_syncobj *done;
	struct tnpu_job_status st;
	uint8_t *cmd_cpu;
	uint32_t *words;
	uint64_t seqno;

	(void)state;
	assert_int_equal(tnpu_device_open(&dev, TNPU_BACKEND_INPROC), 0);
	assert_int_equal(tnpu_queue_create(dev, DRM_TNPU_PRIORITY_NORMAL, &queue), 0);
	assert_int_equal(tnpu_syncobj_create(dev, &done), 0);
	assert_int_equal(tnpu_bo_create(dev, PAGE, 0, &cmd), 0);
	assert_int_equal(tnpu_bo_map(cmd, (void **)&cmd_cpu), 0);
	assert_int_equal(tnpu_bo_create(dev, DATA_SIZE, 0, &data), 0);
	assert_int_equal(tnpu_bo_map(data, (void **)&words), 0);
	bos[0] = cmd;
	bos[1] = data;

	for (uint64_t i = 0; i < streams; i++) {
		struct tnpu_submit s = { .cmd_bo = cmd, .bos = bos, .bo_count = 2,
					 .out_sync = { .sync = done, .point = i + 1 } };

		/* The stream is rewritten for the next job: one at a time. */
		s.cmd_size = fuzz_stream(&rng, cmd_cpu, PAGE, tnpu_bo_npu_va(data), DATA_SIZE);
		if (tnpu_queue_submit(queue, &s, &seqno))
			fail_msg("stream %llu: submit: %s", (unsigned long long)i, tnpu_last_error());
		assert_int_equal(tnpu_syncobj_wait(done, i + 1, 60000000000LL), 0);
		assert_int_equal(tnpu_job_status(queue, seqno, &st), 0);
		if (st.state != DRM_TNPU_JOB_DONE && st.state != DRM_TNPU_JOB_FAILED)
			fail_msg("stream %llu: state %u", (unsigned long long)i, st.state);
		if (st.error == DRM_TNPU_ERR_HANG)
			fail_msg("stream %llu: reported as a hang", (unsigned long long)i);
		outcomes[st.state]++;
		errors[st.error < 16 ? st.error : 15]++;
	}
	print_message("%u done, %u failed (bad opcode %u, bad command %u, MMU fault %u, MMU perm %u, wait timeout %u)\n",
		      outcomes[DRM_TNPU_JOB_DONE], outcomes[DRM_TNPU_JOB_FAILED],
		      errors[DRM_TNPU_ERR_BAD_OPCODE], errors[DRM_TNPU_ERR_BAD_COMMAND],
		      errors[DRM_TNPU_ERR_MMU_FAULT], errors[DRM_TNPU_ERR_MMU_PERM],
		      errors[DRM_TNPU_ERR_WAIT_TIMEOUT]);
	/* Some streams must get through, or the generator tests nothing. */
	assert_true(outcomes[DRM_TNPU_JOB_DONE] > streams / 20);

	/* The NPU still computes correctly. */
	{
		struct tnpu_cmd_fill f = {
			.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(f) },
			.dst = tnpu_bo_npu_va(data), .size = DATA_SIZE, .value = 0x600dcafe,
		};
		struct tnpu_submit s = { .cmd_bo = cmd, .cmd_size = sizeof(f), .bos = bos,
					 .bo_count = 2, .out_sync = { .sync = done } };

		memcpy(cmd_cpu, &f, sizeof(f));
		assert_int_equal(tnpu_queue_submit(queue, &s, &seqno), 0);
		assert_int_equal(tnpu_syncobj_wait(done, 0, 60000000000LL), 0);
		assert_int_equal(tnpu_job_status(queue, seqno, &st), 0);
		assert_int_equal(st.state, DRM_TNPU_JOB_DONE);
		for (uint64_t w = 0; w < DATA_SIZE / 4; w++)
			if (words[w] != 0x600dcafe)
				fail_msg("word %llu is 0x%x", (unsigned long long)w, words[w]);
	}
	tnpu_bo_free(data);
	tnpu_bo_free(cmd);
	tnpu_syncobj_destroy(done);
	tnpu_queue_destroy(queue);
	tnpu_device_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_streams),
	};

	return cmocka_run_group_tests_name("device_fuzz", tests, NULL, NULL);
}
