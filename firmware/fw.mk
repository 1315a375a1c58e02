# Firmware sources. Portable C, freestanding: no libc headers.
# FW_SRCS are plain C; FW_SIMD_SRCS need AVX2/FMA/F16C and are only entered
# after a run-time CPUID check.
# FW_FPU_SRCS (part of FW_SRCS) compute in floating point: the kernel builds
# them with its FPU flags and runs them only between plat->fpu_begin() and
# plat->fpu_end(); the other FW_SRCS never touch the FPU.
FW_SRCS      :=
FW_FPU_SRCS  :=
FW_SIMD_SRCS :=

FW_SRCS += firmware/cp.c
FW_SRCS += firmware/mmu.c
FW_SRCS += firmware/op_table.c
FW_SRCS += firmware/matmul_cmd.c
FW_SRCS += firmware/moe_cmd.c

FW_FPU_SRCS += firmware/quant.c
FW_FPU_SRCS += firmware/matmul.c

FW_FPU_SRCS += firmware/act_unit.c
FW_FPU_SRCS += firmware/ops_math.c
FW_FPU_SRCS += firmware/ops_tensor.c
FW_FPU_SRCS += firmware/ops_eltwise.c
FW_FPU_SRCS += firmware/ops_act.c
FW_FPU_SRCS += firmware/ops_norm.c
FW_FPU_SRCS += firmware/ops_rope.c
FW_FPU_SRCS += firmware/ops_softmax.c
FW_FPU_SRCS += firmware/ops_attention.c
FW_FPU_SRCS += firmware/ops_sample.c
FW_FPU_SRCS += firmware/ops_moe.c

# Compute kernels (firmware/kernels/kernels.h): one folder per instruction
# set, one file per kernel family, each folder's set.c gathering its set.
# select.c picks the set outside FPU sections: never an FW_FPU_SRCS. The
# AVX-512 files build as the AVX2 ones do and mark their AVX-512 functions.
FW_SRCS += firmware/kernels/select.c

FW_SRCS += firmware/kernels/portable/set.c
FW_FPU_SRCS += firmware/kernels/portable/act.c
FW_FPU_SRCS += firmware/kernels/portable/attention.c
FW_FPU_SRCS += firmware/kernels/portable/dot.c
FW_FPU_SRCS += firmware/kernels/portable/dot_x8.c
FW_FPU_SRCS += firmware/kernels/portable/exp.c

FW_SIMD_SRCS += firmware/kernels/avx2/set.c
FW_SIMD_SRCS += firmware/kernels/avx2/act.c
FW_SIMD_SRCS += firmware/kernels/avx2/attention.c
FW_SIMD_SRCS += firmware/kernels/avx2/dec_layout.c
FW_SIMD_SRCS += firmware/kernels/avx2/dec_q4_0.c
FW_SIMD_SRCS += firmware/kernels/avx2/dec_q4_k.c
FW_SIMD_SRCS += firmware/kernels/avx2/dec_q6_k.c
FW_SIMD_SRCS += firmware/kernels/avx2/dot_float.c
FW_SIMD_SRCS += firmware/kernels/avx2/dot_q4_0.c
FW_SIMD_SRCS += firmware/kernels/avx2/dot_q4_k.c
FW_SIMD_SRCS += firmware/kernels/avx2/dot_q5_k.c
FW_SIMD_SRCS += firmware/kernels/avx2/dot_q6_k.c
FW_SIMD_SRCS += firmware/kernels/avx2/dot_q8_0.c
FW_SIMD_SRCS += firmware/kernels/avx2/dot_x8.c
FW_SIMD_SRCS += firmware/kernels/avx2/exp.c
FW_SIMD_SRCS += firmware/kernels/avx2/quantize.c

FW_SIMD_SRCS += firmware/kernels/avx512/set.c
FW_SIMD_SRCS += firmware/kernels/avx512/attention.c
FW_SIMD_SRCS += firmware/kernels/avx512/dec_layout.c
FW_SIMD_SRCS += firmware/kernels/avx512/dec_q4_0_q8_0.c
FW_SIMD_SRCS += firmware/kernels/avx512/dec_q4_k.c
FW_SIMD_SRCS += firmware/kernels/avx512/dec_q6_k.c
FW_SIMD_SRCS += firmware/kernels/avx512/dot_q4_0.c
FW_SIMD_SRCS += firmware/kernels/avx512/dot_q4_k.c
FW_SIMD_SRCS += firmware/kernels/avx512/dot_q6_k.c
FW_SIMD_SRCS += firmware/kernels/avx512/dot_q8_0.c
FW_SIMD_SRCS += firmware/kernels/avx512/dot_x8.c

FW_SRCS += $(FW_FPU_SRCS)
