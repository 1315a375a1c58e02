# Test programs. Every tests/unit/test_*.c is a cmocka binary; every
# tests/kselftest/*.c is a kselftest_harness.h binary run inside the VM.
UNIT_TEST_SRCS := $(wildcard $(TOP)/tests/unit/test_*.c)
KSELFTEST_SRCS := $(wildcard $(TOP)/tests/kselftest/*.c)
UNIT_TEST_BINS := $(patsubst $(TOP)/tests/unit/%.c,$(O)/tests/%,$(UNIT_TEST_SRCS))
KSELFTEST_BINS := $(patsubst $(TOP)/tests/kselftest/%.c,$(O)/kselftest/%,$(KSELFTEST_SRCS))

.PHONY: unit-tests kselftests
unit-tests: $(UNIT_TEST_BINS)
kselftests: $(KSELFTEST_BINS)

$(O)/tests/%: $(TOP)/tests/unit/%.c $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -I$(TOP)/tests/unit $(LDFLAGS) -o $@ $< $(O)/lib/libtnpu.a -lcmocka $(LDLIBS_LIB)

# The harness header comes from the kernel tree unpacked by the dependency
# setup; it uses GNU extensions, hence gnu11.
$(O)/kselftest/%: $(TOP)/tests/kselftest/%.c $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -std=c11,$(CFLAGS_COMMON)) -std=gnu11 -Wno-unused-parameter \
		-I$(KSRC_TREE)/tools/testing/selftests $(LDFLAGS) -o $@ $< $(O)/lib/libtnpu.a $(LDLIBS_LIB)
