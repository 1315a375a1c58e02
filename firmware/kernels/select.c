// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: which kernel set the ops use. One table, best set first,
 * maps the CPU's features (read once: CPUID and XCR0 on x86-64) and the set
 * forced down to (tnpu_fw_force_portable(), tnpu_fw_force_avx2(): tests,
 * tnpu-opbench, TNPU_FW_PORTABLE and TNPU_FW_AVX2 in libtnpu) to a set, in
 * libtnpu as in tnpu.ko. Integer code only: the ops ask outside FPU
 * sections, so this file is no FW_FPU_SRCS.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "fw_internal.h"
#include "kernels/kernels.h"

/* CPU features a set needs. */
#define CPU_AVX2	0x1U	/* AVX2, FMA, F16C and the OS saving YMM state */
#define CPU_AVX512	0x2U	/* AVX-512 F/BW/VL/VBMI/VNNI, GFNI and ZMM state */

/* Where a set stands: forcing a level keeps to the sets at or below it. */
enum kernel_level { LEVEL_PORTABLE, LEVEL_AVX2, LEVEL_AVX512 };

static const struct kernel_choice {
	const struct tnpu_fw_kernel_set *set;
	enum kernel_level level;
	__u32 needs;	/* CPU_* */
} kernel_sets[] = {	/* best first */
#if defined(__x86_64__)
	{ &tnpu_fw_kernels_avx512, LEVEL_AVX512, CPU_AVX2 | CPU_AVX512 },
	{ &tnpu_fw_kernels_avx2, LEVEL_AVX2, CPU_AVX2 },
#endif
	{ &tnpu_fw_kernels_portable, LEVEL_PORTABLE, 0 },
};

static int force_portable;
static int force_avx2;
static int cpu_features = -1;	/* unknown until first asked */

#if defined(__x86_64__)
static void cpuid(__u32 leaf, __u32 sub, __u32 r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* AVX2, FMA and F16C, and the OS saving the YMM state. */
static int detect_avx2(void)
{
	__u32 r[4], lo, hi;

	cpuid(0, 0, r);
	if (r[0] < 7)
		return 0;
	cpuid(1, 0, r);
	if (!(r[2] & (1U << 12)) || !(r[2] & (1U << 27)) || !(r[2] & (1U << 28)) ||
	    !(r[2] & (1U << 29)))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	if ((lo & 6) != 6)
		return 0;
	cpuid(7, 0, r);
	return !!(r[1] & (1U << 5));
}

/*
 * On top of detect_avx2(): AVX-512 F, BW, VL (leaf 7 EBX 16, 30, 31), VBMI,
 * GFNI and VNNI (ECX 1, 8, 11), and the OS saving opmask and ZMM state
 * (XCR0 5-7).
 */
static int detect_avx512(void)
{
	const __u32 ebx = (1U << 16) | (1U << 30) | (1U << 31);
	const __u32 ecx = (1U << 1) | (1U << 8) | (1U << 11);
	__u32 r[4], lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	if ((lo & 0xe0) != 0xe0)
		return 0;
	cpuid(7, 0, r);
	return (r[1] & ebx) == ebx && (r[2] & ecx) == ecx;
}

static __u32 detect(void)
{
	if (!detect_avx2())
		return 0;
	return CPU_AVX2 | (detect_avx512() ? CPU_AVX512 : 0);
}
#else
static __u32 detect(void)
{
	return 0;
}
#endif

static __u32 cpu(void)
{
	int features = __atomic_load_n(&cpu_features, __ATOMIC_RELAXED);

	if (features < 0) {
		features = (int)detect();
		__atomic_store_n(&cpu_features, features, __ATOMIC_RELAXED);
	}
	return (__u32)features;
}

static const struct kernel_choice *choose(void)
{
	const struct kernel_choice *c = kernel_sets;
	enum kernel_level most = LEVEL_AVX512;
	__u32 have = cpu();

	if (__atomic_load_n(&force_portable, __ATOMIC_RELAXED))
		most = LEVEL_PORTABLE;
	else if (__atomic_load_n(&force_avx2, __ATOMIC_RELAXED))
		most = LEVEL_AVX2;
	/* The last set, portable, stands at the lowest level and needs nothing. */
	while (c->level > most || (c->needs & ~have))
		c++;
	return c;
}

const struct tnpu_fw_kernel_set *tnpu_fw_kernels(void)
{
	return choose()->set;
}

const struct tnpu_fw_mm_kernels *tnpu_fw_mm_kernels(void)
{
	return tnpu_fw_kernels()->mm;
}

void tnpu_fw_force_portable(int force)
{
	__atomic_store_n(&force_portable, !!force, __ATOMIC_RELAXED);
}

void tnpu_fw_force_avx2(int force)
{
	__atomic_store_n(&force_avx2, !!force, __ATOMIC_RELAXED);
}

int tnpu_fw_simd_active(void)
{
	return choose()->level >= LEVEL_AVX2;
}

int tnpu_fw_avx512_active(void)
{
	return choose()->level == LEVEL_AVX512;
}
