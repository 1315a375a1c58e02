# libtnpu and tools. Sources relative to the project root.
# One item per line with +=, so that each layer adds its own lines.
LIB_SRCS   :=
LIB_SRCS   += userspace/lib/device.c
LIB_SRCS   += userspace/lib/device_discover.c
LIB_SRCS   += userspace/lib/device_kernel.c
LIB_SRCS   += userspace/lib/device_inproc.c
LIB_SRCS   += userspace/lib/inproc.c
LIB_SRCS   += userspace/lib/gguf.c
LIB_SRCS   += userspace/lib/repack.c
LIB_SRCS   += userspace/lib/pretokenize.c
LIB_SRCS   += userspace/lib/tokenizer.c
LIB_SRCS   += userspace/lib/graph.c
LIB_SRCS   += userspace/lib/model.c
# arch/: one file per architecture, each listed in model.c's table
LIB_SRCS   += $(patsubst $(TOP)/%,%,$(sort $(wildcard $(TOP)/userspace/lib/arch/*.c)))
LIB_SRCS   += userspace/lib/kv_pool.c
LIB_SRCS   += userspace/lib/compile.c
LIB_SRCS   += userspace/lib/generate.c
LIB_SRCS   += userspace/lib/trace.c
LIB_SRCS   += userspace/lib/engine.c

TOOL_NAMES :=
TOOL_NAMES += tnpu-info
TOOL_NAMES += tnpu-ioctl
TOOL_NAMES += tnpu-run
TOOL_NAMES += tnpu-gguf-gen
TOOL_NAMES += tnpu-opbench
TOOL_NAMES += tnpu-tokenize
TOOL_NAMES += tnpu-bench
TOOL_NAMES += tnpu-batch-bench
TOOL_NAMES += tnpu-top

# tnpu-top reads /proc, not the device: ncurses instead of libtnpu.
TOP_CFLAGS := $(shell pkg-config --cflags ncurses 2>/dev/null)
TOP_LDLIBS := $(shell pkg-config --libs ncurses 2>/dev/null || echo -lncurses)

# Tools that use only the public API (tnpu.h, tnpu_llm.h). With
# TOOLS_SHARED=1 (the Debian build) they link libtnpu.so.0; the other tools
# use libtnpu's internals and always link libtnpu.a.
TOOLS_SHARED ?= 0
TOOL_PUBLIC_NAMES := tnpu-info tnpu-ioctl tnpu-run

# tnpu-server (userspace/server/): its parts in a library the unit tests link too.
SERVER_SRCS :=
SERVER_SRCS += userspace/server/buf.c
SERVER_SRCS += userspace/server/template.c
SERVER_SRCS += userspace/server/api.c
SERVER_SRCS += userspace/server/engine.c
SERVER_SRCS += userspace/server/metrics.c
SERVER_SRCS += userspace/server/http.c
SERVER_MAIN_SRCS := userspace/server/main.c userspace/server/page.c
SERVER_CFLAGS := $(shell pkg-config --cflags libmicrohttpd jansson 2>/dev/null)
SERVER_LDLIBS := $(shell pkg-config --libs libmicrohttpd jansson 2>/dev/null)

# ---- rules (generic) ------------------------------------------------------
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ifeq ($(SAN),1)
CFLAGS_COMMON += $(SAN_FLAGS)
LDFLAGS       += $(SAN_FLAGS)
endif

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

FW_OBJS      := $(call obj,$(FW_SRCS))
FW_SIMD_OBJS := $(call obj,$(FW_SIMD_SRCS))
LIB_OBJS     := $(call obj,$(LIB_SRCS)) $(FW_OBJS) $(FW_SIMD_OBJS)
TOOL_BINS    := $(addprefix $(O)/bin/,$(TOOL_NAMES))

$(FW_SIMD_OBJS): CFLAGS_EXTRA := -mavx2 -mfma -mf16c
# The float ops' plain loops (norms, activations, element-wise) vectorise
# with SSE2 only under a cost model above -O2's "very cheap": element-wise
# results are unchanged (no reassociation), the ops run 1.4-3x faster. Not
# in tnpu.ko: there these files also hold code that runs outside FPU
# sections, where compiler-made vector code must not appear.
$(call obj,$(FW_FPU_SRCS)): CFLAGS_EXTRA := -fvect-cost-model=dynamic

$(O)/obj/%.o: $(TOP)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_EXTRA) -MMD -MP -c $< -o $@

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)

lib: $(O)/lib/libtnpu.a $(O)/lib/libtnpu.so.$(VERSION) $(O)/lib/tnpu.pc

$(O)/lib/libtnpu.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Exports exactly the public headers' TNPU_API functions, versioned
# (userspace/lib/libtnpu.map; doc/versioning.md).
LIB_MAP := $(TOP)/userspace/lib/libtnpu.map
LIB_PUBLIC_HDRS := $(TOP)/userspace/include/tnpu.h $(TOP)/userspace/include/tnpu_llm.h

$(O)/lib/libtnpu.so.$(VERSION): $(LIB_OBJS) $(LIB_MAP) $(LIB_PUBLIC_HDRS)
	@mkdir -p $(dir $@)
	$(TOP)/userspace/lib/abi-check.sh $(LIB_MAP) $(LIB_PUBLIC_HDRS)
	$(CC) -shared -Wl,-soname,libtnpu.so.0 -Wl,--version-script=$(LIB_MAP) $(LDFLAGS) \
		-o $@ $(LIB_OBJS) $(LDLIBS_LIB)
	$(TOP)/userspace/lib/abi-check.sh $(LIB_MAP) $(LIB_PUBLIC_HDRS) -- $@
	ln -sf libtnpu.so.$(VERSION) $(O)/lib/libtnpu.so.0
	ln -sf libtnpu.so.0 $(O)/lib/libtnpu.so

# Directories under PREFIX are written relative to ${prefix}, so that the
# file can be relocated by changing prefix= alone.
PC_REL = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
PC_SED = -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call PC_REL,$(LIBDIR))|' \
	-e 's|@INCLUDEDIR@|$(call PC_REL,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|'

$(O)/lib/tnpu.pc: $(TOP)/userspace/tnpu.pc.in
	@mkdir -p $(dir $@)
	sed $(PC_SED) $< > $@

tools: $(TOOL_BINS) $(O)/bin/tnpu-server

# ---- tnpu-server ------------------------------------------------------------
SERVER_OBJS := $(call obj,$(SERVER_SRCS))
SERVER_LIB  := $(O)/lib/libtnpu-server.a

$(SERVER_OBJS) $(call obj,$(SERVER_MAIN_SRCS)): CFLAGS_EXTRA := $(SERVER_CFLAGS)
# The chat page is built in (page.c includes it with .incbin).
$(call obj,userspace/server/page.c): CFLAGS_EXTRA := \
	-DPAGE_HTML='"$(TOP)/userspace/server/page.html"'
$(call obj,userspace/server/page.c): $(TOP)/userspace/server/page.html

$(SERVER_LIB): $(SERVER_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/bin/tnpu-server: $(call obj,$(SERVER_MAIN_SRCS)) $(SERVER_LIB) $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(LDFLAGS) -o $@ $^ $(SERVER_LDLIBS) $(LDLIBS_LIB)

.PHONY: server
server: $(O)/bin/tnpu-server

$(O)/bin/%: $(TOP)/userspace/tools/%.c $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(LDFLAGS) -o $@ $< $(O)/lib/libtnpu.a $(LDLIBS_LIB)

$(O)/bin/tnpu-top: $(TOP)/userspace/tools/tnpu-top.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(TOP_CFLAGS) $(LDFLAGS) -o $@ $< $(TOP_LDLIBS)

ifeq ($(TOOLS_SHARED),1)
$(addprefix $(O)/bin/,$(TOOL_PUBLIC_NAMES)): $(O)/bin/%: $(TOP)/userspace/tools/%.c \
		$(O)/lib/libtnpu.so.$(VERSION)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(LDFLAGS) -o $@ $< -L$(O)/lib -ltnpu -lm
endif

# ---- freestanding firmware check (host and RISC-V 64) -----------------------
FW_FREESTANDING_FLAGS := -std=c11 -Wall -Wextra -Werror -O2 -ffreestanding -nostdlib -nostdinc \
	-I$(TOP)/firmware/shim -I$(TOP)/uapi -I$(TOP)/uapi/drm -I$(TOP)/firmware
RISCV_CC ?= riscv64-linux-gnu-gcc
FW_HDRS  := $(wildcard $(TOP)/firmware/*.h $(TOP)/firmware/kernels/*.h \
	$(TOP)/firmware/kernels/*/*.h $(TOP)/uapi/drm/*.h)

firmware-check: $(O)/fw-check/host.ok $(O)/fw-check/riscv64.ok

$(O)/fw-check/host.ok: $(addprefix $(TOP)/,$(FW_SRCS) $(FW_SIMD_SRCS)) $(FW_HDRS)
	@mkdir -p $(dir $@)
	@for f in $(FW_SRCS); do \
		$(CC) $(FW_FREESTANDING_FLAGS) -isystem $$($(CC) -print-file-name=include) \
			-c $(TOP)/$$f -o $(O)/fw-check/host-$$(echo $${f%.c} | tr / -).o || exit 1; done
	@for f in $(FW_SIMD_SRCS); do \
		$(CC) $(FW_FREESTANDING_FLAGS) -mavx2 -mfma -mf16c -isystem $$($(CC) -print-file-name=include) \
			-c $(TOP)/$$f -o $(O)/fw-check/host-$$(echo $${f%.c} | tr / -).o || exit 1; done
	@touch $@
	@echo "firmware: freestanding x86-64 build OK"

$(O)/fw-check/riscv64.ok: $(addprefix $(TOP)/,$(FW_SRCS)) $(FW_HDRS)
	@mkdir -p $(dir $@)
	@for f in $(FW_SRCS); do \
		$(RISCV_CC) $(FW_FREESTANDING_FLAGS) -march=rv64gc -mabi=lp64d -mcmodel=medany \
			-isystem $$($(RISCV_CC) -print-file-name=include) \
			-c $(TOP)/$$f -o $(O)/fw-check/rv64-$$(echo $${f%.c} | tr / -).o || exit 1; done
	@touch $@
	@echo "firmware: freestanding riscv64 build OK"
