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
FW_FPU_SRCS += firmware/matmul_portable.c

FW_SIMD_SRCS += firmware/simd_avx2.c

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
FW_SIMD_SRCS += firmware/simd_ops_attn.c
FW_SIMD_SRCS += firmware/simd_ops_act.c

FW_SRCS += $(FW_FPU_SRCS)
