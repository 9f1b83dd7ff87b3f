# SPDX-License-Identifier: GPL-2.0
#
# persecmon memleak's userspace: symbols for stack frames (kallsyms files
# built in memory, the test binary's own functions, libc's malloc) and the
# outstanding-allocation bookkeeping (exact numbers on synthetic record
# sequences, and a randomized run against a naive model), and the checks
# and decoding of the four memory records.

UNIT_TESTS += test_lib_symbolize
test_lib_symbolize_SRCS := userspace/lib/symbolize.c userspace/lib/error.c
test_lib_symbolize_CFLAGS := -I$(TOP)/userspace/include
test_lib_symbolize_LDLIBS := -ldw -lelf

UNIT_TESTS += test_lib_leaks
test_lib_leaks_SRCS := userspace/lib/leaks.c userspace/lib/decode.c \
	userspace/lib/names.c userspace/lib/output.c userspace/lib/proc.c
test_lib_leaks_CFLAGS := -I$(TOP)/userspace/include

$(addprefix $(O)/,asan/test_lib_symbolize plain/test_lib_symbolize): \
	$(TOP)/userspace/include/persecmon/symbolize.h
$(addprefix $(O)/,asan/test_lib_leaks plain/test_lib_leaks): \
	$(TOP)/userspace/include/persecmon/leaks.h
