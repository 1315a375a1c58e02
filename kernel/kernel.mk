# The firmware image tnpu/tnpu_fw.bin (header + op table, see
# firmware/mkimage.c), built for `make all` and `make module`. Install it as
# /lib/firmware/tnpu/tnpu_fw.bin (the VM harness does) before loading tnpu.ko.
# Included after userspace.mk, which builds the host firmware objects.
MKIMAGE  := $(O)/host/tnpu-mkimage
FW_IMAGE := $(O)/firmware/tnpu/tnpu_fw.bin

.PHONY: fw-image
fw-image: $(FW_IMAGE)
all: fw-image
module: fw-image

$(MKIMAGE): $(TOP)/firmware/mkimage.c $(FW_OBJS) $(FW_SIMD_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -o $@ $< $(FW_OBJS) $(FW_SIMD_OBJS) -lm

$(FW_IMAGE): $(MKIMAGE)
	@mkdir -p $(dir $@)
	$(MKIMAGE) -o $@ --build "tnpu-fw $(VERSION)"
