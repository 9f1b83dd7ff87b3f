/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ELF lookups for user-level probes (elfutils libelf): the file offset of
 * a function symbol, and the USDT probes of .note.stapsdt with their
 * semaphores. persecmon.ko does no ELF parsing; it takes the file offsets
 * computed here (PERSECMON_A_UP_OFFSET, PERSECMON_A_UP_REF_CTR_OFFSET).
 *
 * File offsets, not addresses: a symbol's value is a virtual address;
 * its file offset is value - p_vaddr + p_offset of the PT_LOAD segment
 * that holds it (executables and shared objects alike). A USDT semaphore
 * is converted through the section that holds it (.probes):
 * addr - sh_addr + sh_offset. Notes of a prelinked file are adjusted by
 * the difference between .stapsdt.base's address and the base the note
 * recorded, as SystemTap and bcc do.
 */
#ifndef PERSECMON_ELFSYM_H
#define PERSECMON_ELFSYM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "persecmon/error.h"

struct pm_elf;

int pm_elf_open(const char *path, struct pm_elf **out, struct pm_error *err);
void pm_elf_close(struct pm_elf *e);

struct pm_elf_sym {
	uint64_t value;		/* st_value: virtual address */
	uint64_t size;
	uint64_t offset;	/* file offset, for uprobe_register() */
};

/*
 * A defined function (STT_FUNC) called @name, from .symtab or .dynsym.
 * When several versions exist ("name@@V" default, "name@V" older), the
 * default one wins. -ENOENT if there is none; -EINVAL for an IFUNC
 * (probing the resolver would not trace the calls) or an address outside
 * every PT_LOAD segment's file contents.
 */
int pm_elf_symbol(struct pm_elf *e, const char *name, struct pm_elf_sym *sym,
		  struct pm_error *err);

/* File offset of virtual address @vaddr through PT_LOAD; -ENOENT if none. */
int pm_elf_vaddr_to_offset(struct pm_elf *e, uint64_t vaddr,
			   uint64_t *offset);

#define PM_USDT_NAME_MAX	64
#define PM_USDT_ARGS_MAX	256

struct pm_usdt_note {
	char provider[PM_USDT_NAME_MAX];
	char name[PM_USDT_NAME_MAX];
	char args[PM_USDT_ARGS_MAX];	/* "-4@112(%rsp)", as in the note */
	uint64_t pc;			/* adjusted probe address */
	uint64_t semaphore;		/* adjusted semaphore address, 0: none */
	uint64_t pc_offset;		/* file offset of the probe */
	uint64_t semaphore_offset;	/* file offset of the semaphore, 0: none */
};

/*
 * Every USDT probe of the file, in note order, into a malloc()ed array
 * (*notes NULL and *n 0 if the file has none). Malformed notes are an
 * error (-EINVAL), not skipped.
 */
int pm_elf_usdt_notes(struct pm_elf *e, struct pm_usdt_note **notes,
		      size_t *n, struct pm_error *err);

/*
 * The first USDT probe @provider:@name (@provider NULL: any provider);
 * -ENOENT if none.
 */
int pm_elf_usdt_find(struct pm_elf *e, const char *provider,
		     const char *name, struct pm_usdt_note *note,
		     struct pm_error *err);

/*
 * A shared object mapped by process @pid (0: the caller) whose file name
 * starts with @prefix ("libc.so.6"), as a path that this process can open
 * and hand to the kernel as a uprobe target:
 * - the caller's own mapping: the path in /proc/self/maps;
 * - another process's: "/proc/PID/root" + its path, which resolves in
 *   that process's mount namespace (a container's libc is its own file);
 * - a file deleted or replaced since it was mapped (" (deleted)" in
 *   maps): "/proc/PID/map_files/START-END" (or /proc/self/...), the
 *   mapped file itself (needs CAP_SYS_ADMIN).
 * -ENOENT if none is mapped, -ENAMETOOLONG if @len is too small (never a
 * cut path), or the errno of opening /proc/PID/maps.
 */
int pm_elf_mapped_lib(pid_t pid, const char *prefix, char *path, size_t len);

/* libc (libc.so.6, or an older glibc's libc-VERSION.so) mapped by @pid. */
int pm_elf_mapped_libc(pid_t pid, char *path, size_t len);

/*
 * A few ELF files named by path, each once: two paths of one file (a
 * libc reached through several processes' /proc/PID/root) are one entry,
 * so that its probes are sent once.
 */
#define PM_ELF_FILE_SET_MAX	8

struct pm_elf_file_set {
	size_t n;
	struct {
		dev_t dev;
		ino_t ino;
		char path[4096];
	} file[PM_ELF_FILE_SET_MAX];
};

/*
 * Adds @path unless its file is already in @set: 1 if added, 0 if there,
 * -E2BIG if @set is full, or stat()'s -errno.
 */
int pm_elf_file_set_add(struct pm_elf_file_set *set, const char *path);

/*
 * Adds to @set the libc each of @pids maps (pm_elf_mapped_libc(); pid 0:
 * the caller). On failure @err names the process and suggests -l LIBC.
 */
int pm_elf_file_set_add_libcs(struct pm_elf_file_set *set,
			      const pid_t *pids, size_t nr_pids,
			      struct pm_error *err);

/* The path of the library @soname in /etc/ld.so.cache (-ENOENT if none). */
int pm_elf_ldcache_lookup(const char *cache, const char *soname, char *path,
			  size_t len);

#endif /* PERSECMON_ELFSYM_H */
