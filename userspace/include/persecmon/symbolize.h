/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Symbols for stack frames.
 *
 * Kernel addresses: /proc/kallsyms (root sees the real addresses with
 * kptr_restrict 1), text symbols only, without the __pfx_* padding
 * symbols of IBT kernels; "[kernel]" or "[module]" as the module.
 *
 * User addresses: the mappings of one process (/proc/PID/maps, else
 * those the module described in PERSECMON_EV_MAP records) and, per
 * mapped ELF file, the function symbols libdwfl finds for it: its
 * .symtab; for a stripped file the separate debug file's (build-id path
 * under /usr/lib/debug, .gnu_debuglink, debuginfod when DEBUGINFOD_URLS
 * is set), else .dynsym and MiniDebugInfo (.gnu_debugdata). An address
 * becomes a file offset through its mapping and an ELF address through
 * the PT_LOAD segment holding that offset (libelf). Files are parsed
 * once and shared by every process that maps them.
 *
 * Frames are return addresses: the symbol is looked up for addr - 1 (a
 * call may be the last instruction of a function), the offset printed is
 * from addr, as bcc does.
 */
#ifndef PERSECMON_SYMBOLIZE_H
#define PERSECMON_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "persecmon/error.h"

struct pm_sym {
	const char *name;	/* NULL: no symbol covers the address */
	uint64_t offset;	/* addr - symbol start */
	const char *module;	/* "kernel", a module or file base name; NULL */
};

struct pm_ksyms;

/* Loads @path (NULL: /proc/kallsyms). Fails if every address reads 0. */
int pm_ksyms_load(struct pm_ksyms **out, const char *path,
		  struct pm_error *err);
void pm_ksyms_free(struct pm_ksyms *ks);
size_t pm_ksyms_count(const struct pm_ksyms *ks);
/* Fills @sym for the return address @addr; false if nothing covers it. */
bool pm_ksyms_lookup(const struct pm_ksyms *ks, uint64_t addr,
		     struct pm_sym *sym);

struct pm_usyms;

/*
 * The symbolizer of process @pid: reads /proc/PID/maps now (@proc_root:
 * NULL for "/proc"). Mappings are re-read on a miss while the process
 * lives; after it exits the last ones are kept.
 */
int pm_usyms_open(struct pm_usyms **out, uint32_t pid, const char *proc_root,
		  struct pm_error *err);
/* A symbolizer of @pid without its mappings yet (NULL: out of memory). */
struct pm_usyms *pm_usyms_new(uint32_t pid, const char *proc_root);
void pm_usyms_close(struct pm_usyms *us);
/*
 * A mapping the module described (PERSECMON_EV_MAP): used for addresses
 * that /proc/PID/maps does not cover, and first once a read of them found
 * the process gone (the last ones read may predate an exec). It replaces
 * earlier ones it overlaps. While the process lives, the file is parsed
 * at once through its own view (/proc/PID/map_files), if it is the file
 * the record names (@ino): that survives the process, and its mount
 * namespace. Otherwise @path is opened in ours once the process is gone,
 * and used only if it is the file the record names
 * (its inode number @ino), unless that cannot be told: @ino 0, or our file
 * is on overlayfs (which shows stat() its own numbers, not those of the
 * real file that the module records). The device is not compared: btrfs
 * shows stat() a subvolume's, not the super block's the module records.
 * 0, -EINVAL or -ENOMEM.
 */
int pm_usyms_add_mapping(struct pm_usyms *us, uint64_t start, uint64_t end,
			 uint64_t offset, const char *path, uint64_t ino);
/*
 * Re-reads the mappings; 0 or -errno (the old ones are kept on error, and
 * when the process has none left: -ESRCH).
 */
int pm_usyms_refresh(struct pm_usyms *us);
bool pm_usyms_lookup(struct pm_usyms *us, uint64_t addr, struct pm_sym *sym);

/* Frees the ELF files parsed so far (shared by every pm_usyms). */
void pm_usyms_cache_free(void);

/* "name+0xoff [module]", "0xaddr [module]" or "0xaddr [unknown]". */
void pm_sym_format(char *buf, size_t len, uint64_t addr,
		   const struct pm_sym *sym);

#endif /* PERSECMON_SYMBOLIZE_H */
