# SPDX-License-Identifier: GPL-2.0
#
# PerSecMon top-level build.
#
# When Kbuild runs this directory (DKMS, or `make -C $KDIR M=$PWD`), only
# the Kbuild file matters; this Makefile is for people and CI:
#
#   make                 module for every installed kernel + userspace
#   make module KDIR=..  module for one kernel tree
#   make check           everything CI runs (unit, builds, checkpatch, VM)
#   make demo            the full pipeline in a VM on real workloads
#   make bench           benchmarks (not part of check), results in docs/
#
# Build outputs go to build/ only.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build
VERSION := $(shell cat $(TOP)/VERSION)

# Kernels to build for: every installed tree with a build directory, plus
# the prebuilt debug kernel (see tests/vm/README.md) when it is present.
KVERS ?= $(notdir $(patsubst %/build,%,$(wildcard /lib/modules/*/build)))
DEBUG_KERNEL_DIR ?= $(or $(PERSECMON_DEBUG_KERNEL_DIR),$(abspath $(TOP)/../shared/kernels))
DEBUG_KTAR := $(firstword $(wildcard $(DEBUG_KERNEL_DIR)/build-*.tar.xz))
DEBUG_KREL := $(patsubst build-%.tar.xz,%,$(notdir $(DEBUG_KTAR)))

MODULE_SRCS := Kbuild VERSION module include
CHECKPATCH ?= $(firstword $(wildcard $(TOP)/../shared/tools/checkpatch/checkpatch.pl) \
	$(wildcard $(TOP)/scripts/checkpatch.pl))

.PHONY: all module modules userspace unit checkpatch vmtest check demo bench \
	install dkms-source dkms-install clean help

all: modules userspace

help:
	@sed -n '3,16p' $(TOP)/Makefile

# One kernel tree: KDIR=/lib/modules/<kver>/build (or any prepared tree).
# Sources are copied so that several kernels can be built side by side
# without mixing objects, and the source tree stays clean.
module:
	@test -n "$(KDIR)" || { echo "make module: set KDIR=<kernel build dir>" >&2; exit 2; }
	$(TOP)/tests/build-module.sh "$(KDIR)" "$(BUILD)"

modules:
	@set -e; for k in $(KVERS); do \
		$(TOP)/tests/build-module.sh /lib/modules/$$k/build "$(BUILD)"; \
	done
	@if [ -n "$(DEBUG_KTAR)" ]; then \
		$(TOP)/tests/build-module.sh --debug-tar "$(DEBUG_KTAR)" "$(BUILD)"; \
	fi

userspace:
	$(MAKE) -C $(TOP)/userspace O=$(BUILD)

unit:
	$(MAKE) -C $(TOP)/tests/unit O=$(BUILD)/unit run

# checkpatch.pl: the team's copy, else the kernel tree's, else one taken
# from Debian's linux-source package (tests/get-checkpatch.sh).
checkpatch:
	@cp="$(CHECKPATCH)"; \
	[ -n "$$cp" ] || cp=$$($(TOP)/tests/get-checkpatch.sh $(BUILD)/tools) || exit 2; \
	$(TOP)/tests/checkpatch.sh "$$cp"

vmtest: modules userspace
	$(TOP)/tests/vm/run-all.sh

# The one test command (README.md, .ci/run). Ends with "N passed, N failed".
check:
	$(TOP)/tests/run-tests.sh

demo: modules userspace
	$(TOP)/tests/demo/run.sh

bench: modules userspace
	$(TOP)/bench/run.sh

# Install on a real host, for the running kernel (DKMS is the other way).
install:
	$(MAKE) module KDIR=/lib/modules/$(shell uname -r)/build
	install -D -m 0644 $(BUILD)/modules/$(shell uname -r)/persecmon.ko \
		/lib/modules/$(shell uname -r)/updates/persecmon.ko
	depmod -a $(shell uname -r)
	$(MAKE) -C $(TOP)/userspace O=$(BUILD) install

# DKMS: the source tree DKMS expects, with the version filled in.
DKMS_SRC ?= /usr/src
dkms-source:
	rm -rf $(DKMS_SRC)/persecmon-$(VERSION)
	mkdir -p $(DKMS_SRC)/persecmon-$(VERSION)
	cp -r $(addprefix $(TOP)/,$(MODULE_SRCS)) $(DKMS_SRC)/persecmon-$(VERSION)/
	sed 's/@VERSION@/$(VERSION)/' $(TOP)/dkms.conf >$(DKMS_SRC)/persecmon-$(VERSION)/dkms.conf

dkms-install: dkms-source
	dkms add -m persecmon -v $(VERSION)
	dkms build -m persecmon -v $(VERSION)
	dkms install -m persecmon -v $(VERSION)

clean:
	rm -rf $(BUILD)
