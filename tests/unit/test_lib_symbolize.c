// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon symbolize: kernel symbols from kallsyms-format files
 * (sorting, text types only, __pfx_ padding dropped, modules, return
 * address semantics, restricted files), user symbols of this very
 * process (its own functions from .symtab, libc's malloc from .dynsym),
 * and the frame format.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "persecmon/symbolize.h"

static char kallsyms_path[] = "/tmp/pm-test-kallsyms.XXXXXX";

static const char *write_kallsyms(const char *text)
{
	int fd;

	strcpy(kallsyms_path, "/tmp/pm-test-kallsyms.XXXXXX");
	fd = mkstemp(kallsyms_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return kallsyms_path;
}

/* Out of order on purpose; data symbols and padding must be ignored. */
static const char kallsyms_text[] =
	"ffffffff81000200 T second_func\n"
	"ffffffff81000000 T _stext\n"
	"ffffffff810001f0 t __pfx_second_func\n"
	"ffffffff81000100 t first_func\n"
	"ffffffff81000180 D some_data\n"
	"ffffffff81000300 W weak_thing\n"
	"ffffffff81000400 T __kmalloc_alias\n"
	"ffffffff81000400 T kmalloc_trace\n"
	"ffffffffc0001000 t mod_func\t[persecmon]\n"
	"ffffffffc0001100 T mod_func2\t[persecmon]\n"
	"ffffffffc0002000 t other_mod_func\t[xfs]\n"
	"0000000000000000 A fixed_percpu_data\n";

static void ksyms_lookup(void **state)
{
	struct pm_ksyms *ks;
	struct pm_error err;
	struct pm_sym sym;
	char buf[128];
	int ret;

	(void)state;

	ret = pm_ksyms_load(&ks, write_kallsyms(kallsyms_text), &err);
	assert_int_equal(ret, 0);
	unlink(kallsyms_path);
	/* _stext first_func second_func kmalloc_trace + 3 module symbols */
	assert_int_equal(pm_ksyms_count(ks), 7);

	assert_true(pm_ksyms_lookup(ks, 0xffffffff81000123ULL, &sym));
	assert_string_equal(sym.name, "first_func");
	assert_int_equal(sym.offset, 0x23);
	assert_string_equal(sym.module, "kernel");

	/* Inside the padding before second_func: still first_func. */
	assert_true(pm_ksyms_lookup(ks, 0xffffffff810001f8ULL, &sym));
	assert_string_equal(sym.name, "first_func");

	/*
	 * A return address right at a symbol's start belongs to the
	 * function before it (the call was its last instruction).
	 */
	assert_true(pm_ksyms_lookup(ks, 0xffffffff81000200ULL, &sym));
	assert_string_equal(sym.name, "first_func");
	assert_int_equal(sym.offset, 0x100);
	assert_true(pm_ksyms_lookup(ks, 0xffffffff81000201ULL, &sym));
	assert_string_equal(sym.name, "second_func");
	assert_int_equal(sym.offset, 1);

	/* 'W' is not text here; second_func covers it. */
	assert_true(pm_ksyms_lookup(ks, 0xffffffff81000310ULL, &sym));
	assert_string_equal(sym.name, "second_func");

	/* Aliases: the one with fewer leading underscores. */
	assert_true(pm_ksyms_lookup(ks, 0xffffffff81000410ULL, &sym));
	assert_string_equal(sym.name, "kmalloc_trace");
	assert_int_equal(sym.offset, 0x10);

	assert_true(pm_ksyms_lookup(ks, 0xffffffffc0001105ULL, &sym));
	assert_string_equal(sym.name, "mod_func2");
	assert_string_equal(sym.module, "persecmon");
	assert_true(pm_ksyms_lookup(ks, 0xffffffffc0002010ULL, &sym));
	assert_string_equal(sym.name, "other_mod_func");
	assert_string_equal(sym.module, "xfs");
	pm_sym_format(buf, sizeof(buf), 0xffffffffc0002010ULL, &sym);
	assert_string_equal(buf, "other_mod_func+0x10 [xfs]");

	/* Below every symbol, zero, and far above the last one. */
	assert_false(pm_ksyms_lookup(ks, 0xffffffff80000000ULL, &sym));
	assert_null(sym.name);
	assert_false(pm_ksyms_lookup(ks, 0, &sym));
	assert_false(pm_ksyms_lookup(ks, 0xffffffffff000000ULL, &sym));
	pm_sym_format(buf, sizeof(buf), 0xffffffffff000000ULL, &sym);
	assert_string_equal(buf, "0xffffffffff000000 [unknown]");
	pm_ksyms_free(ks);
}

static void ksyms_restricted(void **state)
{
	struct pm_ksyms *ks = (void *)1;
	struct pm_error err;

	(void)state;
	/* What a reader without CAP_SYSLOG sees. */
	assert_true(pm_ksyms_load(&ks, write_kallsyms(
		"0000000000000000 T _stext\n0000000000000000 t first_func\n"),
		&err) < 0);
	unlink(kallsyms_path);
	assert_null(ks);
	assert_int_equal(err.kind, PM_ERR_PERMISSION);
	assert_non_null(strstr(err.msg, "no kernel addresses"));

	assert_true(pm_ksyms_load(&ks, "/nonexistent/kallsyms", &err) < 0);
	assert_int_equal(err.errnum, ENOENT);
}

/* Functions of this binary with known addresses and sizes. */
__attribute__((noinline, used)) int pm_test_symbol_target(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline, used)) int pm_test_symbol_other(int x)
{
	return x * 5 + 2;
}

static void usyms_self(void **state)
{
	uintptr_t target = (uintptr_t)pm_test_symbol_target;
	uintptr_t other = (uintptr_t)pm_test_symbol_other;
	struct pm_usyms *us;
	struct pm_error err;
	struct pm_sym sym;
	char buf[256];
	int ret;

	(void)state;
	assert_int_equal(pm_test_symbol_target(1) + pm_test_symbol_other(1), 11);
	/* cmocka's assert macros may evaluate their arguments twice. */
	ret = pm_usyms_open(&us, (uint32_t)getpid(), NULL, &err);
	assert_int_equal(ret, 0);

	assert_true(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_target");
	assert_int_equal(sym.offset, 1);
	assert_string_equal(sym.module, "test_lib_symbolize");
	pm_sym_format(buf, sizeof(buf), target + 1, &sym);
	assert_string_equal(buf,
			    "pm_test_symbol_target+0x1 [test_lib_symbolize]");

	assert_true(pm_usyms_lookup(us, other + 4, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_other");
	assert_int_equal(sym.offset, 4);

	/*
	 * libc's malloc, through the GOT: .dynsym of a stripped libc (under
	 * ASan, the sanitizer's interceptor in libasan).
	 */
	assert_true(pm_usyms_lookup(us, (uintptr_t)malloc + 2, &sym));
	assert_true(!strcmp(sym.name, "malloc") ||
		    !strcmp(sym.name, "__libc_malloc") ||
		    !strcmp(sym.name, "__interceptor_malloc"));
	assert_int_equal(sym.offset, 2);
	assert_true(strstr(sym.module, "libc") || strstr(sym.module, "asan"));
	/* getpid() is libc's in every build. */
	assert_true(pm_usyms_lookup(us, (uintptr_t)getpid + 1, &sym));
	assert_true(!strcmp(sym.name, "getpid") ||
		    !strcmp(sym.name, "__getpid"));
	assert_int_equal(sym.offset, 1);
	assert_non_null(strstr(sym.module, "libc.so"));

	/* Nothing is mapped at page 0. */
	assert_false(pm_usyms_lookup(us, 0x10, &sym));
	assert_null(sym.name);
	assert_null(sym.module);
	pm_usyms_close(us);
	pm_usyms_cache_free();
}

static void usyms_no_process(void **state)
{
	struct pm_usyms *us = (void *)1;
	struct pm_error err;

	(void)state;
	/* pid_max is at most 2^22: this one cannot exist. */
	assert_true(pm_usyms_open(&us, 0x7fffffff, NULL, &err) < 0);
	assert_null(us);
	assert_int_equal(err.errnum, ENOENT);
}

/* The executable mapping of this process that holds @addr. */
static int self_mapping(uintptr_t addr, uint64_t *start, uint64_t *end,
			uint64_t *offset, char *path, size_t len)
{
	char line[4096], perms[8];
	unsigned long long s, e, o;
	FILE *f = fopen("/proc/self/maps", "re");
	int pos, found = -1;

	assert_non_null(f);
	while (found < 0 && fgets(line, sizeof(line), f)) {
		pos = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms,
			   &o, &pos) < 4 || !pos || addr < s || addr >= e)
			continue;
		*start = s;
		*end = e;
		*offset = o;
		snprintf(path, len, "%s", line + pos);
		path[strcspn(path, "\n")] = '\0';
		found = 0;
	}
	fclose(f);
	return found;
}

/*
 * A process that is gone: only the module's mapping records describe it
 * (PERSECMON_EV_MAP), and they are enough to symbolize its frames.
 */
static void usyms_module_mappings(void **state)
{
	uintptr_t target = (uintptr_t)pm_test_symbol_target;
	uint64_t start = 0, end = 0, offset = 0;
	struct pm_usyms *us;
	struct pm_sym sym;
	char path[4096];

	(void)state;
	assert_int_equal(self_mapping(target, &start, &end, &offset, path,
				      sizeof(path)), 0);
	us = pm_usyms_new(0x7fffffff, NULL);
	assert_non_null(us);
	assert_false(pm_usyms_lookup(us, target + 1, &sym));
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset,
					      "relative/path", 0), -EINVAL);
	assert_int_equal(pm_usyms_add_mapping(us, end, start, offset, path, 0),
			 -EINVAL);
	/* An older mapping of the range (before an exec): replaced. */
	assert_int_equal(pm_usyms_add_mapping(us, start - 4096, start + 4096,
					      0, "/nonexistent/old-image", 0), 0);
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset, path, 0), 0);
	assert_true(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_target");
	assert_int_equal(sym.offset, 1);
	assert_string_equal(sym.module, "test_lib_symbolize");
	/* Outside every mapping: nothing, not the nearest. */
	assert_false(pm_usyms_lookup(us, end + 1, &sym));
	/* A mapping whose file is gone: its name, no symbol. */
	assert_int_equal(pm_usyms_add_mapping(us, end + 0x100000,
					      end + 0x200000, 0,
					      "/nonexistent/lib.so", 0), 0);
	assert_false(pm_usyms_lookup(us, end + 0x100010, &sym));
	assert_string_equal(sym.module, "lib.so");
	pm_usyms_close(us);
	pm_usyms_cache_free();
}

/*
 * A copy of the file that maps pm_test_symbol_target, in a new directory
 * @dir (a mkdtemp() template) on tmpfs, where stat() shows the real
 * numbers: its mapping in @m_start..@m_end at @m_offset, its stat in @st.
 */
static void copy_of_this_binary(char *dir, char *copy, size_t len,
				uint64_t *m_start, uint64_t *m_end,
				uint64_t *m_offset, struct stat *st)
{
	char cmd[8400], path[4096];

	assert_int_equal(self_mapping((uintptr_t)pm_test_symbol_target,
				      m_start, m_end, m_offset, path,
				      sizeof(path)), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(copy, len, "%s/copy", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(stat(copy, st), 0);
}

/*
 * A fake /proc under @root for process @pid whose map_files entry for
 * @start..@end leads to @file: its directory in @proc, the entry in
 * @entry (unlinking it is the process's exit).
 */
static void fake_map_files(const char *root, unsigned int pid, uint64_t start,
			   uint64_t end, const char *file, char *proc,
			   size_t proc_len, char *entry, size_t entry_len)
{
	char files[160];

	snprintf(proc, proc_len, "%s/%u", root, pid);
	assert_int_equal(mkdir(proc, 0700), 0);
	snprintf(files, sizeof(files), "%s/map_files", proc);
	assert_int_equal(mkdir(files, 0700), 0);
	snprintf(entry, entry_len, "%s/%" PRIx64 "-%" PRIx64, files, start,
		 end);
	assert_int_equal(symlink(file, entry), 0);
}

/* Removes what fake_map_files() made, its entry already unlinked. */
static void fake_map_files_remove(const char *proc)
{
	char files[160];

	snprintf(files, sizeof(files), "%s/map_files", proc);
	assert_int_equal(rmdir(files), 0);
	assert_int_equal(rmdir(proc), 0);
}

/*
 * An exited process of another mount namespace: the path its record gives
 * may name another file in ours. The record's inode number decides; the
 * copy sits on tmpfs (/dev/shm), where stat() shows the real numbers.
 */
static void usyms_module_mapping_other_file(void **state)
{
	uintptr_t target = (uintptr_t)pm_test_symbol_target;
	uint64_t start = 0, end = 0, offset = 0;
	char dir[] = "/dev/shm/pm-usyms.XXXXXX", copy[64];
	struct pm_usyms *us;
	struct pm_sym sym;
	struct stat st;

	(void)state;
	copy_of_this_binary(dir, copy, sizeof(copy), &start, &end, &offset,
			    &st);

	/* The file the record names: its symbols. */
	us = pm_usyms_new(0x7fffffff, NULL);
	assert_non_null(us);
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset, copy,
					      st.st_ino), 0);
	assert_true(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_target");
	assert_string_equal(sym.module, "copy");
	pm_usyms_close(us);
	pm_usyms_cache_free();

	/* Another file at that path: its name, never its symbols. */
	us = pm_usyms_new(0x7fffffff, NULL);
	assert_non_null(us);
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset, copy,
					      st.st_ino + 1), 0);
	assert_false(pm_usyms_lookup(us, target + 1, &sym));
	assert_null(sym.name);
	assert_string_equal(sym.module, "copy");
	pm_usyms_close(us);
	pm_usyms_cache_free();

	assert_int_equal(unlink(copy), 0);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A process of another mount namespace: the record arrives while it runs,
 * and the file is taken then through its own view (map_files; here a fake
 * proc root whose entry leads to a copy). After it has exited, and the
 * copy is deleted, the path names nothing in ours, and the frames still
 * get the copy's symbols.
 */
static void usyms_module_mapping_pinned_while_alive(void **state)
{
	uintptr_t target = (uintptr_t)pm_test_symbol_target;
	uint64_t start = 0, end = 0, offset = 0;
	char dir[] = "/dev/shm/pm-usyms.XXXXXX", copy[64];
	char proc[96], entry[192];
	struct pm_usyms *us;
	struct pm_sym sym;
	struct stat st;

	(void)state;
	copy_of_this_binary(dir, copy, sizeof(copy), &start, &end, &offset,
			    &st);
	fake_map_files(dir, 4243, start, end, copy, proc, sizeof(proc), entry,
		       sizeof(entry));

	us = pm_usyms_new(4243, dir);
	assert_non_null(us);
	/* Not the file the record names: not taken. */
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset,
					      "/nonexistent/in-container/lib.so",
					      st.st_ino + 1), 0);
	assert_false(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.module, "lib.so");
	/* The file it names: taken now, kept after all is gone. */
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset,
					      "/nonexistent/in-container/lib.so",
					      st.st_ino), 0);
	assert_int_equal(unlink(entry), 0);
	assert_int_equal(unlink(copy), 0);
	assert_true(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_target");
	assert_string_equal(sym.module, "lib.so");
	pm_usyms_close(us);
	pm_usyms_cache_free();

	fake_map_files_remove(proc);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A process of another mount namespace whose record is read only after
 * it exited (the reader drains its ring later): a lookup while it lived
 * took the file through its own view (map_files), and the record, which
 * names the same file, gets that file's symbols, though its path names
 * nothing in ours.
 */
static void usyms_module_mapping_read_after_exit(void **state)
{
	uintptr_t target = (uintptr_t)pm_test_symbol_target;
	uint64_t start = 0, end = 0, offset = 0;
	char dir[] = "/dev/shm/pm-usyms.XXXXXX", copy[64];
	char proc[96], entry[192], maps[128];
	const char *path = "/nonexistent/in-container/lib.so";
	struct pm_usyms *us;
	struct pm_sym sym;
	struct stat st;
	FILE *f;

	(void)state;
	copy_of_this_binary(dir, copy, sizeof(copy), &start, &end, &offset,
			    &st);
	fake_map_files(dir, 4244, start, end, copy, proc, sizeof(proc), entry,
		       sizeof(entry));
	snprintf(maps, sizeof(maps), "%s/maps", proc);
	f = fopen(maps, "w");
	assert_non_null(f);
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " 00:00 %lu %s\n",
		start, end, offset, (unsigned long)st.st_ino, path);
	fclose(f);

	us = pm_usyms_new(4244, dir);
	assert_non_null(us);
	/* Alive: its maps, the file through map_files. */
	assert_true(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_target");
	/* Gone: no maps, no map_files, the copy deleted. */
	assert_int_equal(unlink(maps), 0);
	assert_int_equal(unlink(entry), 0);
	assert_int_equal(unlink(copy), 0);
	assert_int_equal(pm_usyms_refresh(us), -ENOENT);
	/* Another file's record for the range: not taken from the maps. */
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset, path,
					      st.st_ino + 1), 0);
	assert_false(pm_usyms_lookup(us, target + 1, &sym));
	assert_null(sym.name);
	/* The record of the file the process mapped. */
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset, path,
					      st.st_ino), 0);
	assert_true(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_target");
	assert_string_equal(sym.module, "lib.so");
	pm_usyms_close(us);
	pm_usyms_cache_free();

	fake_map_files_remove(proc);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A process that exec()ed, then exited: the last read of its maps holds
 * the old image, the module's record the new one. Once a read finds the
 * process gone, the record wins; while it lives, its maps do.
 */
static void usyms_gone_prefers_module_mappings(void **state)
{
	uintptr_t target = (uintptr_t)pm_test_symbol_target;
	uint64_t start = 0, end = 0, offset = 0;
	char root[] = "/tmp/pm-usyms-XXXXXX", dir[64], maps[96], path[4096];
	struct pm_usyms *us;
	struct pm_sym sym;
	FILE *f;

	(void)state;
	assert_int_equal(self_mapping(target, &start, &end, &offset, path,
				      sizeof(path)), 0);
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/4242", root);
	snprintf(maps, sizeof(maps), "%s/maps", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	f = fopen(maps, "w");
	assert_non_null(f);
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64
		" 00:00 0 /nonexistent/old-image\n", start, end, offset);
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp 00000000 00:00 0 /nonexistent/other.so\n",
		end + 0x100000, end + 0x200000);
	fclose(f);

	us = pm_usyms_new(4242, root);
	assert_non_null(us);
	assert_int_equal(pm_usyms_refresh(us), 0);
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset, path, 0), 0);
	/* Alive: its own maps, whatever the module said. */
	assert_false(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.module, "old-image");

	assert_int_equal(unlink(maps), 0);
	assert_int_equal(pm_usyms_refresh(us), -ENOENT);
	assert_true(pm_usyms_lookup(us, target + 1, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_target");
	assert_string_equal(sym.module, "test_lib_symbolize");
	/* What no record covers still comes from the last read. */
	assert_false(pm_usyms_lookup(us, end + 0x100010, &sym));
	assert_string_equal(sym.module, "other.so");

	pm_usyms_close(us);
	pm_usyms_cache_free();
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(rmdir(root), 0);
}

/*
 * A stripped copy of this binary that only names its debug file
 * (.gnu_debuglink, next to it): the symbols come from there (libdwfl).
 */
static void usyms_separate_debug_file(void **state)
{
	uintptr_t target = (uintptr_t)pm_test_symbol_target;
	uint64_t start = 0, end = 0, offset = 0;
	char dir[] = "/tmp/pm-symbolize.XXXXXX", cmd[16384], path[4096];
	char stripped[4200];
	struct pm_usyms *us;
	struct pm_sym sym;

	(void)state;
	assert_int_equal(self_mapping(target, &start, &end, &offset, path,
				      sizeof(path)), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(stripped, sizeof(stripped), "%s/self", dir);
	snprintf(cmd, sizeof(cmd),
		 "objcopy --only-keep-debug '%s' '%s/self.debug' && "
		 "objcopy --strip-all --add-gnu-debuglink='%s/self.debug' '%s' '%s'",
		 path, dir, dir, path, stripped);
	if (system(cmd) != 0) {
		/* binutils is part of the toolchain the tests build with */
		fail_msg("objcopy failed: %s", cmd);
	}
	us = pm_usyms_new(0x7fffffff, NULL);
	assert_non_null(us);
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset,
					      stripped, 0), 0);
	assert_true(pm_usyms_lookup(us, target + 2, &sym));
	assert_string_equal(sym.name, "pm_test_symbol_target");
	assert_int_equal(sym.offset, 2);
	assert_string_equal(sym.module, "self");
	pm_usyms_close(us);
	pm_usyms_cache_free();

	/* Without the debug file: the stripped copy names nothing. */
	snprintf(cmd, sizeof(cmd), "%s/self.debug", dir);
	assert_int_equal(unlink(cmd), 0);
	us = pm_usyms_new(0x7fffffff, NULL);
	assert_non_null(us);
	assert_int_equal(pm_usyms_add_mapping(us, start, end, offset,
					      stripped, 0), 0);
	assert_false(pm_usyms_lookup(us, target + 2, &sym));
	assert_string_equal(sym.module, "self");
	pm_usyms_close(us);
	pm_usyms_cache_free();
	unlink(stripped);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ksyms_lookup),
		cmocka_unit_test(ksyms_restricted),
		cmocka_unit_test(usyms_self),
		cmocka_unit_test(usyms_no_process),
		cmocka_unit_test(usyms_module_mappings),
		cmocka_unit_test(usyms_module_mapping_read_after_exit),
		cmocka_unit_test(usyms_gone_prefers_module_mappings),
		cmocka_unit_test(usyms_module_mapping_other_file),
		cmocka_unit_test(usyms_module_mapping_pinned_while_alive),
		cmocka_unit_test(usyms_separate_debug_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
