# SPDX-License-Identifier: GPL-2.0
#
# module/core/aggmap.c, built unchanged in userspace through
# tests/unit/kshim (kshim-agg.h adds atomic64_t, RCU, mutexes, allocation
# and the aggregate table types): lookup/insert, overflow, duplicate
# merge, sorting, histograms, concurrent writers and resets (also TSan),
# writers nested by signal handlers.

AGGMAP_TEST_SRCS := module/core/aggmap.c tests/unit/kshim/kshim.c \
	tests/unit/kshim/kshim-agg.c
UNIT_TESTS += test_aggmap
UNIT_TESTS_TSAN += test_aggmap
test_aggmap_SRCS := $(AGGMAP_TEST_SRCS)
test_aggmap_CFLAGS := -I$(TOP)/tests/unit/kshim -I$(TOP)/module/core

# Headers outside tests/unit that the generic rule does not track.
$(addprefix $(O)/,asan/test_aggmap plain/test_aggmap tsan/test_aggmap): \
	$(TOP)/module/core/aggmap.h $(TOP)/tests/unit/kshim/kshim.h \
	$(TOP)/tests/unit/kshim/kshim-agg.h
