# SPDX-License-Identifier: GPL-2.0
#
# module/core/ring.c, built unchanged in userspace through tests/unit/kshim:
#   test_ring         single-threaded: layout, PAD, drops/LOST, reader side
#   test_ring_mt      a writer and a reader thread per ring (also TSan)
#   test_ring_signal  writers nested by signal handlers, three deep
#   test_ring_step    a nested writer after every instruction of another
#                     (x86-64 trap flag)
# The last two are not built with TSan, which defers signals.

RING_TEST_SRCS := module/core/ring.c tests/unit/kshim/kshim.c \
	tests/unit/test_ring_common.c
RING_TEST_CFLAGS := -I$(TOP)/tests/unit/kshim -I$(TOP)/module/core
RING_TESTS := test_ring test_ring_mt test_ring_signal
ifeq ($(shell uname -m),x86_64)
RING_TESTS += test_ring_step
endif

UNIT_TESTS += $(RING_TESTS)
# test_ring here covers the shim's generic (__atomic) local_t as well.
UNIT_TESTS_TSAN += test_ring test_ring_mt

$(foreach t,$(RING_TESTS),$(eval $(t)_SRCS := $(RING_TEST_SRCS)))
$(foreach t,$(RING_TESTS),$(eval $(t)_CFLAGS := $(RING_TEST_CFLAGS)))

# Headers outside tests/unit that the generic rule does not track.
$(foreach v,asan plain,$(addprefix $(O)/$(v)/,$(RING_TESTS))) \
$(addprefix $(O)/tsan/,test_ring test_ring_mt): \
	$(TOP)/module/core/ring.h $(TOP)/tests/unit/kshim/kshim.h
