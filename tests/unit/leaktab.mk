# SPDX-License-Identifier: GPL-2.0
#
# module/core/leaktab.c (the memleak group's outstanding-block table),
# built unchanged in userspace through tests/unit/kshim: exact counts, a
# full window, stack dedup, the report, a randomized run against a model,
# concurrent threads (also TSan).
UNIT_TESTS += test_leaktab
UNIT_TESTS_TSAN += test_leaktab
test_leaktab_SRCS := module/core/leaktab.c tests/unit/kshim/kshim.c \
	tests/unit/kshim/kshim-agg.c
test_leaktab_CFLAGS := -I$(TOP)/tests/unit/kshim -I$(TOP)/module/core

$(addprefix $(O)/,asan/test_leaktab plain/test_leaktab tsan/test_leaktab): \
	$(TOP)/module/core/leaktab.h $(TOP)/module/core/hashmix.h \
	$(TOP)/tests/unit/kshim/kshim.h $(TOP)/tests/unit/kshim/kshim-agg.h
