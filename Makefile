# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# tnpu top-level build. The kernel module is built by Kbuild (see ./Kbuild);
# everything else is built here into $(O).
#
#   make              libtnpu, tools, firmware checks and tnpu.ko
#   make check        every test suite (unit, ASan/UBSan, fuzzers, kselftests in a VM)
#   make fuzz         the libFuzzer fuzzers, open-ended (tests/fuzz/run.sh)
#   make run          the main job: tnpu.ko in a VM doing real work
#   make soak         tests/soak/soak.sh for SOAK_TIME seconds (default 600;
#                     SOAK_ARGS="--debug" for the debug kernel); not in make check,
#                     which runs a 60 s version (suite soak)
#   make install      PREFIX=/usr/local DESTDIR=

TOP        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
O          ?= $(TOP)/build
PREFIX     ?= /usr/local
DESTDIR    ?=
TNPU_CACHE ?= /var/cache/tnpu
export TNPU_CACHE

VERSION    := 0.1.0

# Dependencies: installed on demand, quickly skipped when present.
DEPS_STAMP := $(O)/.deps-ok
SETUP_DEPS := $(TOP)/tests/setup-deps.sh

# Installed at parse time, because pkg-config flags below need the packages.
# Quick and silent when everything is present.
ifeq ($(filter clean uninstall,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(DEPS_STAMP)),)
DEPS_RC := $(shell mkdir -p $(O) && $(SETUP_DEPS) >&2 && touch $(DEPS_STAMP) && echo ok)
ifneq ($(DEPS_RC),ok)
$(error tnpu: dependency setup failed (tests/setup-deps.sh))
endif
endif
endif

KREL        = $(shell cat $(TNPU_CACHE)/kernel-release 2>/dev/null)
KDIR       ?= /usr/src/linux-headers-$(KREL)
KSRC_TREE   = $(TNPU_CACHE)/linux-source

CC         ?= cc
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g \
	-fvisibility=hidden -fPIC \
	-I$(TOP)/uapi -I$(TOP)/uapi/drm -I$(TOP)/firmware -I$(TOP)/userspace/include \
	$(shell pkg-config --cflags libdrm libudev libpcre2-8 libutf8proc 2>/dev/null)
LDLIBS_LIB := $(shell pkg-config --libs libdrm libudev libpcre2-8 libutf8proc 2>/dev/null) -lpthread -lm

# Each layer lists its own sources.
include $(TOP)/firmware/fw.mk
include $(TOP)/userspace/userspace.mk
include $(TOP)/tests/tests.mk
include $(TOP)/tests/fuzz/fuzz.mk
include $(TOP)/kernel/kernel.mk

.DEFAULT_GOAL := all
.PHONY: all deps lib tools module firmware-check check check-unit check-asan \
	check-vm check-style run soak install uninstall clean
all: lib tools firmware-check module

deps:
	@$(SETUP_DEPS)
	@mkdir -p $(O) && touch $(DEPS_STAMP)

# ---- kernel module -------------------------------------------------------
module:
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 modules

module-sparse:
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 C=2 modules

module-clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean

# ---- tests ---------------------------------------------------------------
check:
	@$(TOP)/tests/run-all.sh

run:
	@$(TOP)/tests/vm/main-job.sh

SOAK_TIME ?= 600
SOAK_ARGS ?=
soak: all
	@$(TOP)/tests/soak/soak.sh --time $(SOAK_TIME) $(SOAK_ARGS)

# ---- install -------------------------------------------------------------
install: lib tools
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/tnpu/drm $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)/etc/udev/rules.d
	install -m 644 $(O)/lib/libtnpu.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(O)/lib/libtnpu.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libtnpu.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libtnpu.so.0
	ln -sf libtnpu.so.0 $(DESTDIR)$(PREFIX)/lib/libtnpu.so
	install -m 644 $(TOP)/userspace/include/*.h $(DESTDIR)$(PREFIX)/include/tnpu/
	install -m 644 $(TOP)/uapi/drm/*.h $(DESTDIR)$(PREFIX)/include/tnpu/drm/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		$(TOP)/userspace/tnpu.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/tnpu.pc
	install -m 755 $(TOOL_BINS) $(O)/bin/tnpu-server $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(TOP)/userspace/70-tnpu.rules $(DESTDIR)/etc/udev/rules.d/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libtnpu.a $(DESTDIR)$(PREFIX)/lib/libtnpu.so*
	rm -f $(DESTDIR)$(PREFIX)/lib/pkgconfig/tnpu.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/tnpu
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(notdir $(TOOL_BINS)) tnpu-server)
	rm -f $(DESTDIR)/etc/udev/rules.d/70-tnpu.rules

clean: module-clean
	rm -rf $(O)
