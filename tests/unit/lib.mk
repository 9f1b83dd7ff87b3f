# SPDX-License-Identifier: GPL-2.0
#
# libpersecmon unit tests (userspace/lib). Included by tests/unit/Makefile.

LIB_TEST_CFLAGS := -I$(TOP)/userspace/include
LIB_NL_CFLAGS := $(shell pkg-config --cflags libnl-3.0 libnl-genl-3.0)
LIB_NL_LIBS := $(shell pkg-config --libs libnl-3.0 libnl-genl-3.0)
# What decode.c needs around it.
LIB_DECODE_SRCS := userspace/lib/decode.c userspace/lib/names.c \
	userspace/lib/output.c userspace/lib/proc.c

UNIT_TESTS += test_lib_decode
test_lib_decode_SRCS := $(LIB_DECODE_SRCS)
test_lib_decode_CFLAGS := $(LIB_TEST_CFLAGS)

# The proc group's records (exec, fork, exit).
UNIT_TESTS += test_lib_proc_decode
test_lib_proc_decode_SRCS := $(LIB_DECODE_SRCS)
test_lib_proc_decode_CFLAGS := $(LIB_TEST_CFLAGS)

# The k-way merge over per-CPU buffers laid out per the uapi protocol; the
# TSan variant runs its producer/consumer thread test.
UNIT_TESTS += test_lib_merge
UNIT_TESTS_TSAN += test_lib_merge
test_lib_merge_SRCS := userspace/lib/consume.c userspace/lib/error.c \
	$(LIB_DECODE_SRCS)
test_lib_merge_CFLAGS := $(LIB_TEST_CFLAGS)

UNIT_TESTS += test_lib_verify
test_lib_verify_SRCS := userspace/lib/verify.c $(LIB_DECODE_SRCS)
test_lib_verify_CFLAGS := $(LIB_TEST_CFLAGS)

# The reader (consume + verify) against the module's own writer,
# module/core/ring.c, built through the kernel shim.
UNIT_TESTS += test_lib_kring
UNIT_TESTS_TSAN += test_lib_kring
test_lib_kring_SRCS := module/core/ring.c tests/unit/kshim/kshim.c \
	userspace/lib/consume.c userspace/lib/verify.c userspace/lib/error.c \
	$(LIB_DECODE_SRCS)
test_lib_kring_CFLAGS := $(LIB_TEST_CFLAGS) -I$(TOP)/module/core \
	-I$(TOP)/tests/unit/kshim

UNIT_TESTS += test_lib_hist
test_lib_hist_SRCS := userspace/lib/hist.c userspace/lib/output.c
test_lib_hist_CFLAGS := $(LIB_TEST_CFLAGS)

# Option parsing and the text/JSON output layer.
UNIT_TESTS += test_lib_cli
test_lib_cli_SRCS := userspace/lib/cli.c userspace/lib/output.c
test_lib_cli_CFLAGS := $(LIB_TEST_CFLAGS)
test_lib_cli_LDLIBS := -lm

# Netlink message building, status parsing and extended ACKs, on messages
# built in memory (no socket).
UNIT_TESTS += test_lib_control
test_lib_control_SRCS := userspace/lib/control.c userspace/lib/error.c \
	userspace/lib/names.c
test_lib_control_CFLAGS := $(LIB_TEST_CFLAGS) $(LIB_NL_CFLAGS)
test_lib_control_LDLIBS := $(LIB_NL_LIBS)

# Rebuild the tests when a library header changes (the generic rule only
# knows tests/unit/*.h and the uapi header).
LIB_TEST_HEADERS := $(wildcard $(TOP)/userspace/include/persecmon/*.h)
$(foreach t,test_lib_decode test_lib_proc_decode test_lib_merge test_lib_verify test_lib_kring \
	test_lib_hist test_lib_cli test_lib_control, \
	$(eval $(O)/asan/$(t) $(O)/plain/$(t) $(O)/tsan/$(t): $(LIB_TEST_HEADERS)))

# Latency summaries by key: nearest-rank percentiles, table growth.
UNIT_TESTS += test_lib_latstat
test_lib_latstat_SRCS := userspace/lib/latstat.c
test_lib_latstat_CFLAGS := $(LIB_TEST_CFLAGS)
test_lib_latstat_LDLIBS := -lm

# Naming cgroups: ids and paths (the real cgroup2 case is a VM test).
UNIT_TESTS += test_lib_cgroup
test_lib_cgroup_SRCS := userspace/lib/cgroup.c userspace/lib/cli.c \
	userspace/lib/error.c userspace/lib/output.c
test_lib_cgroup_CFLAGS := $(LIB_TEST_CFLAGS)
test_lib_cgroup_LDLIBS := -lm

# A command held before its exec and stopped at exec and exit (memleak -c).
UNIT_TESTS += test_lib_child
test_lib_child_SRCS := userspace/lib/child.c userspace/lib/error.c
test_lib_child_CFLAGS := $(LIB_TEST_CFLAGS)
