# Test programs. Every tests/unit/test_*.c is a cmocka binary; every
# tests/kselftest/*.c is a kselftest_harness.h binary run inside the VM.
UNIT_TEST_SRCS := $(wildcard $(TOP)/tests/unit/test_*.c)
KSELFTEST_SRCS := $(wildcard $(TOP)/tests/kselftest/*.c)
UNIT_TEST_BINS := $(patsubst $(TOP)/tests/unit/%.c,$(O)/tests/%,$(UNIT_TEST_SRCS))
KSELFTEST_BINS := $(patsubst $(TOP)/tests/kselftest/%.c,$(O)/kselftest/%,$(KSELFTEST_SRCS))

.PHONY: unit-tests kselftests
unit-tests: $(UNIT_TEST_BINS)
kselftests: $(KSELFTEST_BINS)

# Plain float references the unit tests check against (tests/ref/*.c).
REF_SRCS := $(wildcard $(TOP)/tests/ref/*.c)
REF_OBJS := $(patsubst $(TOP)/%.c,$(O)/obj/%.o,$(REF_SRCS))

$(O)/tests/%: $(TOP)/tests/unit/%.c $(REF_OBJS) $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -MMD -MP -I$(TOP)/tests/unit -I$(TOP)/tests/ref $(LDFLAGS) -o $@ $< $(REF_OBJS) $(O)/lib/libtnpu.a -lcmocka $(LDLIBS_LIB)

# tnpu-server's unit tests (test_server_*.c) also link the server's parts.
$(O)/tests/test_server_%: $(TOP)/tests/unit/test_server_%.c $(SERVER_LIB) $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(SERVER_CFLAGS) -MMD -MP -I$(TOP)/tests/unit $(LDFLAGS) -o $@ $< \
		$(SERVER_LIB) $(O)/lib/libtnpu.a -lcmocka $(SERVER_LDLIBS) $(LDLIBS_LIB)

# Helpers of the server suite (tests/server/*.c).
SERVER_TEST_SRCS := $(wildcard $(TOP)/tests/server/*.c)
SERVER_TEST_BINS := $(patsubst $(TOP)/tests/server/%.c,$(O)/server-tests/%,$(SERVER_TEST_SRCS))

.PHONY: server-tests
server-tests: $(SERVER_TEST_BINS) $(O)/bin/tnpu-server

$(O)/server-tests/%: $(TOP)/tests/server/%.c $(SERVER_LIB) $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(SERVER_CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< \
		$(SERVER_LIB) $(O)/lib/libtnpu.a $(SERVER_LDLIBS) $(LDLIBS_LIB)

# The harness header comes from the kernel tree unpacked by the dependency
# setup; it uses GNU extensions, hence gnu11.
$(O)/kselftest/%: $(TOP)/tests/kselftest/%.c $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -std=c11,$(CFLAGS_COMMON)) -std=gnu11 -Wno-unused-parameter -MMD -MP \
		-I$(KSRC_TREE)/tools/testing/selftests $(LDFLAGS) -o $@ $< $(O)/lib/libtnpu.a $(LDLIBS_LIB)

# End-to-end programs (tests/e2e/*.c): whole workloads checked against the
# float reference, run in-process by make check and through tnpu.ko in the VM.
E2E_SRCS := $(wildcard $(TOP)/tests/e2e/*.c)
E2E_BINS := $(patsubst $(TOP)/tests/e2e/%.c,$(O)/e2e/%,$(E2E_SRCS))

.PHONY: e2e-tests
e2e-tests: $(E2E_BINS)

$(O)/e2e/%: $(TOP)/tests/e2e/%.c $(REF_OBJS) $(O)/lib/libtnpu.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -MMD -MP -I$(TOP)/tests/ref $(LDFLAGS) -o $@ $< $(REF_OBJS) $(O)/lib/libtnpu.a $(LDLIBS_LIB)

# Keep the reference objects: they are shared by every test program.
.SECONDARY: $(REF_OBJS)

# Header dependencies of the test programs (written next to them by -MMD).
-include $(wildcard $(O)/tests/*.d $(O)/kselftest/*.d $(O)/e2e/*.d $(O)/server-tests/*.d)
