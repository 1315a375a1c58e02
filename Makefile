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
#   make install      PREFIX=/usr/local DESTDIR= (also BINDIR LIBDIR INCLUDEDIR
#                     MANDIR FIRMWAREDIR UDEVRULESDIR); make install-dkms puts
#                     the module source and dkms.conf in DKMSDIR

TOP        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
O          ?= $(TOP)/build
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
FIRMWAREDIR  ?= /lib/firmware
UDEVRULESDIR ?= /etc/udev/rules.d
TNPU_CACHE ?= /var/cache/tnpu
export TNPU_CACHE

# The release; debian/changelog carries the same (doc/versioning.md).
VERSION    := 0.1.0
DKMSDIR    ?= /usr/src/tnpu-$(VERSION)

# Dependencies: installed on demand, quickly skipped when present.
DEPS_STAMP := $(O)/.deps-ok
SETUP_DEPS := $(TOP)/tests/setup-deps.sh

# Installed at parse time, because pkg-config flags below need the packages.
# Quick and silent when everything is present. TNPU_SKIP_DEPS=1 (package
# builds) leaves it to the Build-Depends.
ifeq ($(filter clean uninstall,$(MAKECMDGOALS))$(filter 1,$(TNPU_SKIP_DEPS)),)
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
# Distribution flags (dpkg-buildflags: hardening, debug prefix maps) last.
CFLAGS_COMMON += $(CPPFLAGS) $(CFLAGS)
LDLIBS_LIB := $(shell pkg-config --libs libdrm libudev libpcre2-8 libutf8proc 2>/dev/null) -lpthread -lm

# Each layer lists its own sources.
include $(TOP)/firmware/fw.mk
include $(TOP)/userspace/userspace.mk
include $(TOP)/tests/tests.mk
include $(TOP)/tests/fuzz/fuzz.mk
include $(TOP)/kernel/kernel.mk

.DEFAULT_GOAL := all
.PHONY: all deps lib tools module firmware-check check check-unit check-asan \
	check-vm check-style run soak install install-dkms uninstall clean
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
MAN_PAGES = $(addprefix $(TOP)/userspace/man/,$(addsuffix .1,$(TOOL_NAMES) tnpu-server))

install: lib tools fw-image
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/tnpu/drm \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UDEVRULESDIR) \
		$(DESTDIR)$(FIRMWAREDIR)/tnpu
	install -m 644 $(O)/lib/libtnpu.a $(DESTDIR)$(LIBDIR)/
	install -m 644 $(O)/lib/libtnpu.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libtnpu.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libtnpu.so.0
	ln -sf libtnpu.so.0 $(DESTDIR)$(LIBDIR)/libtnpu.so
	install -m 644 $(TOP)/userspace/include/*.h $(DESTDIR)$(INCLUDEDIR)/tnpu/
	install -m 644 $(TOP)/uapi/drm/*.h $(DESTDIR)$(INCLUDEDIR)/tnpu/drm/
	sed $(PC_SED) $(TOP)/userspace/tnpu.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/tnpu.pc
	install -m 755 $(TOOL_BINS) $(O)/bin/tnpu-server $(DESTDIR)$(BINDIR)/
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(FW_IMAGE) $(DESTDIR)$(FIRMWAREDIR)/tnpu/
	install -m 644 $(TOP)/userspace/70-tnpu.rules $(DESTDIR)$(UDEVRULESDIR)/

# The module source as DKMS builds it: Kbuild with the sources it names.
install-dkms:
	install -d $(DESTDIR)$(DKMSDIR)
	cd $(TOP) && cp --parents -t $(DESTDIR)$(DKMSDIR) Kbuild kernel/*.[ch] uapi/drm/*.h \
		firmware/fw.mk firmware/*.h $(filter-out firmware/mkimage.c,$(wildcard firmware/*.c)) \
		$(wildcard firmware/kernels/*.[ch] firmware/kernels/*/*.[ch])
	sed 's/#MODULE_VERSION#/$(VERSION)/' $(TOP)/kernel/dkms.conf > $(DESTDIR)$(DKMSDIR)/dkms.conf

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libtnpu.a $(DESTDIR)$(LIBDIR)/libtnpu.so*
	rm -f $(DESTDIR)$(LIBDIR)/pkgconfig/tnpu.pc
	rm -rf $(DESTDIR)$(INCLUDEDIR)/tnpu
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(TOOL_NAMES) tnpu-server)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_PAGES)))
	rm -f $(DESTDIR)$(FIRMWAREDIR)/tnpu/tnpu_fw.bin
	rm -f $(DESTDIR)$(UDEVRULESDIR)/70-tnpu.rules

clean: module-clean
	rm -rf $(O)
