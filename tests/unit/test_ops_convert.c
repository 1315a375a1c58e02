// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The firmware's F16/BF16 conversions (ops_tensor.h), which every float op
 * uses on load and store, against the compiler's _Float16 and the
 * reference's bfloat16 rounding: every half value, and a dense sweep of
 * float bit patterns including subnormals, overflow, infinities and NaN.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops_tensor.h"
#include "ref_ops.h"

static float bits_to_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static void test_f16_to_f32_every_value(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 65536; h++) {
		float got = fw_f16_to_f32((uint16_t)h), want = ref_f16_to_f32((uint16_t)h);

		if (isnan(want))
			assert_true(isnan(got));
		else
			assert_memory_equal(&got, &want, 4);
	}
}

/* Every 9973rd bit pattern (about 430k floats) plus the edges. */
static void test_f32_to_f16_and_bf16_rounding(void **state)
{
	static const float edges[] = {
		0.0f, -0.0f, 65504.0f, 65519.99f, 65520.0f, 1e9f, 5.9604645e-8f, 2.9802322e-8f,
		2.9802326e-8f, 6.1035156e-5f, 6.1035152e-5f, 3.3895314e38f, 3.4028235e38f,
	};
	(void)state;
	for (uint64_t u = 0; u < (1ULL << 32); u += 9973) {
		float x = bits_to_f32((uint32_t)u);
		uint16_t h = fw_f32_to_f16(x), hr = ref_f32_to_f16(x);
		uint16_t b = fw_f32_to_bf16(x), br = ref_f32_to_bf16(x);

		if (isnan(x)) {
			assert_true((h & 0x7c00) == 0x7c00 && (h & 0x3ff));
			assert_true((b & 0x7f80) == 0x7f80 && (b & 0x7f));
			continue;
		}
		if (h != hr || b != br)
			fprintf(stderr, "x %a (%#x): f16 %#x want %#x, bf16 %#x want %#x\n", x,
				(uint32_t)u, h, hr, b, br);
		assert_int_equal(h, hr);
		assert_int_equal(b, br);
	}
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		for (int sign = 0; sign < 2; sign++) {
			float x = sign ? -edges[i] : edges[i];

			assert_int_equal(fw_f32_to_f16(x), ref_f32_to_f16(x));
			assert_int_equal(fw_f32_to_bf16(x), ref_f32_to_bf16(x));
		}
	}
	assert_int_equal(fw_f32_to_f16(INFINITY), 0x7c00);
	assert_int_equal(fw_f32_to_bf16(-INFINITY), 0xff80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_f16_to_f32_every_value),
		cmocka_unit_test(test_f32_to_f16_and_bf16_rounding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
