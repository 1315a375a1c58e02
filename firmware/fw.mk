# Firmware sources. Portable C, freestanding: no libc headers.
# FW_SRCS are plain C; FW_SIMD_SRCS need AVX2/FMA/F16C and are only entered
# after a run-time CPUID check.
FW_SRCS      := firmware/cp.c
FW_SIMD_SRCS :=
