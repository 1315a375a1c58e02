# libFuzzer fuzzers: every tests/fuzz/fuzz_*.c is a fuzz target, linked
# against libtnpu and the firmware built again by clang with coverage
# instrumentation and ASan/UBSan, all under $(O)/fuzz (tests/fuzz/run.sh
# runs them; `make fuzz` open-ended, the fuzz suite of `make check`
# bounded). tests/fuzz/gen_seeds.c writes the seed inputs the committed
# corpora started from.
FUZZ_CC      ?= clang
FUZZ_SRCS    := $(wildcard $(TOP)/tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst $(TOP)/tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g $(FUZZ_SAN) \
	-I$(TOP)/uapi -I$(TOP)/uapi/drm -I$(TOP)/firmware -I$(TOP)/userspace/include \
	$(shell pkg-config --cflags libdrm libudev libpcre2-8 libutf8proc 2>/dev/null)
FUZZ_LIB_OBJS := $(patsubst %.c,$(O)/fuzz/obj/%.o,$(LIB_SRCS) $(FW_SRCS) $(FW_SIMD_SRCS))

.PHONY: fuzzers fuzz fuzz-seeds
fuzzers: $(FUZZ_BINS)

fuzz: fuzzers
	@$(TOP)/tests/fuzz/run.sh

# Instrumented for coverage, linked without libFuzzer's main.
$(O)/fuzz/obj/%.o: $(TOP)/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_EXTRA) -MMD -MP -c $< -o $@

$(patsubst %.c,$(O)/fuzz/obj/%.o,$(FW_SIMD_SRCS)): FUZZ_EXTRA := -mavx2 -mfma -mf16c

$(O)/fuzz/libtnpu-fuzz.a: $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/fuzz/fuzz_%: $(TOP)/tests/fuzz/fuzz_%.c $(O)/fuzz/libtnpu-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< \
		$(O)/fuzz/libtnpu-fuzz.a $(LDLIBS_LIB)

# tnpu-server's request and chat-template parsers: its parts instrumented too.
FUZZ_SERVER_OBJS := $(patsubst %.c,$(O)/fuzz/obj/%.o,$(SERVER_SRCS))
$(FUZZ_SERVER_OBJS): FUZZ_EXTRA := $(SERVER_CFLAGS)

$(O)/fuzz/libserver-fuzz.a: $(FUZZ_SERVER_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/fuzz/fuzz_server: $(TOP)/tests/fuzz/fuzz_server.c $(O)/fuzz/libserver-fuzz.a \
		$(O)/fuzz/libtnpu-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SERVER_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< \
		$(O)/fuzz/libserver-fuzz.a $(O)/fuzz/libtnpu-fuzz.a $(SERVER_LDLIBS) $(LDLIBS_LIB)

# The seed generator is an ordinary program (no instrumentation needed).
$(O)/fuzz/gen-seeds: $(TOP)/tests/fuzz/gen_seeds.c $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -MMD -MP $(LDFLAGS) -o $@ $< $(O)/lib/libtnpu.a $(LDLIBS_LIB)

# Seed inputs into $(O)/fuzz/seeds/<fuzzer>/ (to start a corpus afresh).
fuzz-seeds: $(O)/fuzz/gen-seeds
	rm -rf $(O)/fuzz/seeds
	$(O)/fuzz/gen-seeds $(O)/fuzz/seeds

-include $(shell find $(O)/fuzz -name '*.d' 2>/dev/null)
