# SPDX-License-Identifier: GPL-2.0
#
# lib/elfsym.c (libelf) against libc.so.6, python3.11's USDT notes,
# synthetic ELF files and ld.so caches; and the UPROBE_ENABLE request that
# lib/control.c builds from its results.
UNIT_TESTS += test_lib_elfsym
test_lib_elfsym_SRCS := userspace/lib/elfsym.c userspace/lib/control.c \
	userspace/lib/error.c userspace/lib/names.c
test_lib_elfsym_CFLAGS := -I$(TOP)/userspace/include \
	$(shell pkg-config --cflags libnl-3.0 libnl-genl-3.0)
test_lib_elfsym_LDLIBS := -lelf -ldl \
	$(shell pkg-config --libs libnl-3.0 libnl-genl-3.0)
