// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server: the chat page (page.html), built into the binary so that the
 * server is one file. PAGE_HTML is its path, given by the Makefile.
 *
 * Copyright (C) 2026 The tnpu authors
 */
__asm__(".section .rodata\n"
	".global tnpu_server_page\n"
	".type tnpu_server_page, @object\n"
	"tnpu_server_page:\n"
	".incbin \"" PAGE_HTML "\"\n"
	".global tnpu_server_page_end\n"
	"tnpu_server_page_end:\n"
	".byte 0\n"
	".previous\n");
