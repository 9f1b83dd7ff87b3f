// SPDX-License-Identifier: GPL-2.0
/*
 * lib/elfsym.c against real files and independent oracles:
 *
 * - libc.so.6: the file offset of getaddrinfo & co. must equal what the
 *   dynamic loader did, i.e. (dlsym() address - start of the mapping) +
 *   the mapping's file offset from /proc/self/maps, and the file bytes
 *   there must be the code in memory;
 * - python3.11's .note.stapsdt: every probe and semaphore as readelf -n
 *   reports them, probe sites are NOPs in the file, semaphores lie in
 *   .probes (readelf -S) and are 0 in the file;
 * - synthetic ELF files written with libelf: a prelinked note (the
 *   .stapsdt.base adjustment), and malformed notes that must be refused;
 * - /etc/ld.so.cache and synthetic caches; /proc/self/maps lookups;
 * - the UPROBE_ENABLE request control.c builds from the results.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "persecmon/control.h"
#include "persecmon/elfsym.h"

#define LIBC		"/lib/x86_64-linux-gnu/libc.so.6"
#define PYTHON		"/usr/bin/python3.11"

/* The mapping of /proc/self/maps holding @addr: start and file offset. */
static void mapping_of(uintptr_t addr, uintptr_t *start, uint64_t *pgoff,
		       char *path, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096];
	bool found = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;
		int n = 0;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s%n", &lo, &hi, &off,
			   &n) != 3)
			continue;
		if (addr < lo || addr >= hi)
			continue;
		*start = lo;
		*pgoff = off;
		snprintf(path, len, "%s", line + n + strspn(line + n, " "));
		path[strcspn(path, "\n")] = '\0';
		found = true;
		break;
	}
	fclose(f);
	assert_true(found);
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void read_at(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void libc_symbols(void **state)
{
	static const char *const names[] = {
		"getaddrinfo", "gethostbyname", "gethostbyname2", "malloc",
		"free", "calloc",
	};
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	struct pm_error err;
	struct pm_elf *e;
	size_t i;

	(void)state;
	assert_non_null(h);
	assert_int_equal(pm_elf_open(LIBC, &e, &err), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unsigned char file[32];
		struct pm_elf_sym sym;
		char path[4096];
		uintptr_t addr, start = 0;
		uint64_t pgoff = 0, expect;

		assert_int_equal(pm_elf_symbol(e, names[i], &sym, &err), 0);
		/* The loader's view: where the function is in this process. */
		addr = (uintptr_t)dlsym(h, names[i]);
		assert_true(addr != 0);
		mapping_of(addr, &start, &pgoff, path, sizeof(path));
		assert_true(same_file(path, LIBC));
		expect = addr - start + pgoff;
		printf("# %-15s value 0x%" PRIx64 " offset 0x%" PRIx64
		       " (maps: 0x%" PRIx64 ")\n", names[i], sym.value,
		       sym.offset, expect);
		assert_int_equal(sym.offset, expect);
		assert_true(sym.size > 0);
		read_at(LIBC, sym.offset, file, sizeof(file));
		assert_memory_equal(file, (const void *)addr, sizeof(file));
	}
	pm_elf_close(e);
	dlclose(h);
}

static void missing_and_bad_files(void **state)
{
	char tmp[] = "/tmp/pm-elfsym-XXXXXX";
	struct pm_elf_sym sym;
	struct pm_error err;
	struct pm_elf *e;
	int fd;

	(void)state;
	assert_int_equal(pm_elf_open(LIBC, &e, &err), 0);
	assert_int_equal(pm_elf_symbol(e, "pm_no_such_function", &sym, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "pm_no_such_function"));
	/* A data object is not a function. */
	assert_int_equal(pm_elf_symbol(e, "environ", &sym, &err), -ENOENT);
	pm_elf_close(e);

	assert_int_equal(pm_elf_open("/nonexistent/libc.so.6", &e, &err),
			 -ENOENT);
	assert_null(e);
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not an ELF file\n", 16), 16);
	close(fd);
	assert_int_equal(pm_elf_open(tmp, &e, &err), -EINVAL);
	assert_null(e);
	assert_non_null(strstr(err.msg, "not an ELF"));
	unlink(tmp);
	pm_elf_close(NULL);
}

struct oracle_note {
	char provider[64], name[64];
	uint64_t pc, base, sem;
};

/* readelf -n as the oracle for python3.11's notes. */
static size_t readelf_notes(const char *path, struct oracle_note *o,
			    size_t max)
{
	char cmd[512], line[1024];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -nW %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *s = line + strspn(line, " "), *prov;

		/* "stapsdt 0x.. NT_STAPSDT (...)<TAB>    Provider: python" */
		prov = strstr(line, "Provider: ");
		if (prov) {
			assert_true(n < max);
			memset(&o[n], 0, sizeof(o[n]));
			sscanf(prov + 10, "%63s", o[n].provider);
		} else if (!strncmp(s, "Name: ", 6)) {
			sscanf(s + 6, "%63s", o[n].name);
		} else if (!strncmp(s, "Location: ", 10)) {
			assert_int_equal(sscanf(s, "Location: %" SCNx64
						", Base: %" SCNx64
						", Semaphore: %" SCNx64,
						&o[n].pc, &o[n].base,
						&o[n].sem), 3);
			n++;
		}
	}
	assert_int_equal(pclose(p), 0);
	return n;
}

/* readelf -S: address, offset and size of section @name. */
static void readelf_section(const char *path, const char *name,
			    uint64_t *addr, uint64_t *off, uint64_t *size)
{
	char cmd[512], line[1024], sname[64];
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -SW %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *s = strchr(line, ']');

		if (!s || sscanf(s + 1, "%63s %*s %" SCNx64 " %" SCNx64
				 " %" SCNx64, sname, addr, off, size) != 4)
			continue;
		if (!strcmp(sname, name)) {
			found = true;
			break;
		}
	}
	pclose(p);
	assert_true(found);
}

static void python_usdt(void **state)
{
	struct oracle_note want[64];
	struct pm_usdt_note *notes, one;
	uint64_t paddr, poff, psize;
	struct pm_error err;
	struct pm_elf *e;
	size_t n, nwant, i;
	bool gc_start = false;

	(void)state;
	nwant = readelf_notes(PYTHON, want, 64);
	assert_true(nwant > 0);
	readelf_section(PYTHON, ".probes", &paddr, &poff, &psize);
	assert_int_equal(pm_elf_open(PYTHON, &e, &err), 0);
	assert_int_equal(pm_elf_usdt_notes(e, &notes, &n, &err), 0);
	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++) {
		const struct pm_usdt_note *u = &notes[i];
		unsigned char insn, sem[2];
		uint64_t expect;

		printf("# %s:%s pc 0x%" PRIx64 " off 0x%" PRIx64
		       " sem 0x%" PRIx64 " off 0x%" PRIx64 " args %s\n",
		       u->provider, u->name, u->pc, u->pc_offset,
		       u->semaphore, u->semaphore_offset, u->args);
		assert_string_equal(u->provider, want[i].provider);
		assert_string_equal(u->name, want[i].name);
		/* Not prelinked: the note's base is .stapsdt.base's address. */
		assert_int_equal(u->pc, want[i].pc);
		assert_int_equal(u->semaphore, want[i].sem);
		assert_int_equal(pm_elf_vaddr_to_offset(e, u->pc, &expect), 0);
		assert_int_equal(u->pc_offset, expect);
		/* The probe site is a NOP, in the file too. */
		read_at(PYTHON, u->pc_offset, &insn, 1);
		assert_int_equal(insn, 0x90);
		if (!u->semaphore)
			continue;
		assert_true(u->semaphore >= paddr &&
			    u->semaphore < paddr + psize);
		assert_int_equal(u->semaphore_offset,
				 u->semaphore - paddr + poff);
		assert_int_equal(u->semaphore_offset % 2, 0);
		read_at(PYTHON, u->semaphore_offset, sem, 2);
		assert_int_equal(sem[0] | sem[1], 0);
		if (!strcmp(u->provider, "python") &&
		    !strcmp(u->name, "gc__start"))
			gc_start = true;
	}
	assert_true(gc_start);

	assert_int_equal(pm_elf_usdt_find(e, "python", "gc__start", &one,
					  &err), 0);
	assert_string_equal(one.args, "-4@112(%rsp)");
	assert_true(one.semaphore_offset != 0);
	assert_int_equal(pm_elf_usdt_find(e, NULL, "gc__done", &one, &err), 0);
	assert_string_equal(one.name, "gc__done");
	assert_int_equal(pm_elf_usdt_find(e, "nosuch", "gc__start", &one,
					  &err), -ENOENT);
	assert_int_equal(pm_elf_usdt_find(e, NULL, "nosuch", &one, &err),
			 -ENOENT);
	free(notes);
	pm_elf_close(e);

	/* A file without notes has none. */
	assert_int_equal(pm_elf_open(LIBC, &e, &err), 0);
	assert_int_equal(pm_elf_usdt_notes(e, &notes, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(notes);
	pm_elf_close(e);
}

/*
 * A small ET_EXEC: .text at 0x401000 (file 0x1000), .stapsdt.base at
 * 0x401100 (file 0x1100), .probes at 0x402000 (file 0x2000), two PT_LOADs,
 * and a .note.stapsdt with @desc (@len bytes).
 */
static void write_elf(const char *path, const void *desc, size_t len)
{
	static const char shstr[] =
		"\0.text\0.stapsdt.base\0.probes\0.note.stapsdt\0.shstrtab";
	static unsigned char text[0x100], base[1], probes[8];
	unsigned char note[512];
	GElf_Phdr ph;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
	Elf_Scn *scn;
	Elf_Data *d;
	Elf *elf;
	size_t nlen;
	int fd, i;
	const struct {
		const void *buf;
		size_t size;
		uint32_t name, type;
		uint64_t flags, addr, off;
	} secs[] = {
		{ text, sizeof(text), 1, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
		  0x401000, 0x1000 },
		{ base, sizeof(base), 7, SHT_PROGBITS, SHF_ALLOC, 0x401100,
		  0x1100 },
		{ probes, sizeof(probes), 21, SHT_PROGBITS,
		  SHF_ALLOC | SHF_WRITE, 0x402000, 0x2000 },
		{ note, 0, 29, SHT_NOTE, 0, 0, 0x2100 },
		{ shstr, sizeof(shstr), 43, SHT_STRTAB, 0, 0, 0x2400 },
	};

	/* One note: namesz 8 ("stapsdt\0"), descsz, type 3, then desc. */
	assert_true(len + 20 <= sizeof(note));
	nlen = 0;
	memcpy(note, &(uint32_t){ 8 }, 4);
	memcpy(note + 4, &(uint32_t){ (uint32_t)len }, 4);
	memcpy(note + 8, &(uint32_t){ 3 }, 4);
	memcpy(note + 12, "stapsdt", 8);
	memcpy(note + 20, desc, len);
	nlen = 20 + ((len + 3) & ~(size_t)3);
	memset(note + 20 + len, 0, nlen - 20 - len);
	memset(text, 0x90, sizeof(text));

	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_WRITE, NULL);
	assert_non_null(elf);
	elf_flagelf(elf, ELF_C_SET, ELF_F_LAYOUT);
	eh = elf64_newehdr(elf);
	assert_non_null(eh);
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_shoff = 0x2500;
	eh->e_shstrndx = 5;
	assert_non_null(gelf_newphdr(elf, 2));
	for (i = 0; i < 5; i++) {
		scn = elf_newscn(elf);
		assert_non_null(scn);
		d = elf_newdata(scn);
		d->d_buf = (void *)secs[i].buf;
		d->d_size = i == 3 ? nlen : secs[i].size;
		d->d_type = ELF_T_BYTE;
		d->d_align = 1;
		sh = elf64_getshdr(scn);
		sh->sh_name = secs[i].name;
		sh->sh_type = secs[i].type;
		sh->sh_flags = secs[i].flags;
		sh->sh_addr = secs[i].addr;
		sh->sh_offset = secs[i].off;
		sh->sh_size = d->d_size;
		sh->sh_addralign = 1;
	}
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_X;
	ph.p_offset = 0x1000;
	ph.p_vaddr = ph.p_paddr = 0x401000;
	ph.p_filesz = ph.p_memsz = 0x101;
	ph.p_align = 0x1000;
	assert_true(gelf_update_phdr(elf, 0, &ph));
	ph.p_flags = PF_R | PF_W;
	ph.p_offset = 0x2000;
	ph.p_vaddr = ph.p_paddr = 0x402000;
	ph.p_filesz = ph.p_memsz = sizeof(probes);
	assert_true(gelf_update_phdr(elf, 1, &ph));
	assert_true(elf_update(elf, ELF_C_WRITE) > 0);
	elf_end(elf);
	close(fd);
}

static size_t note_desc(unsigned char *d, uint64_t pc, uint64_t base,
			uint64_t sem, const char *strs, size_t strs_len)
{
	memcpy(d, &pc, 8);
	memcpy(d + 8, &base, 8);
	memcpy(d + 16, &sem, 8);
	memcpy(d + 24, strs, strs_len);
	return 24 + strs_len;
}

static void synthetic_usdt(void **state)
{
	static const char strs[] = "prov\0probe\0-4@%edi";
	char tmp[] = "/tmp/pm-elfsym-XXXXXX";
	struct pm_usdt_note *notes;
	unsigned char d[256];
	struct pm_error err;
	struct pm_elf *e;
	size_t n, len;
	int fd;

	(void)state;
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	close(fd);

	/*
	 * Prelinked: the note says .stapsdt.base was at 0x4010f0 and the
	 * probe at 0x401010; the section is at 0x401100 now, so everything
	 * moved by 0x10.
	 */
	len = note_desc(d, 0x401010, 0x4010f0, 0x402004 - 0x10, strs,
			sizeof(strs));
	write_elf(tmp, d, len);
	assert_int_equal(pm_elf_open(tmp, &e, &err), 0);
	if (pm_elf_usdt_notes(e, &notes, &n, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(n, 1);
	assert_string_equal(notes[0].provider, "prov");
	assert_string_equal(notes[0].name, "probe");
	assert_string_equal(notes[0].args, "-4@%edi");
	assert_int_equal(notes[0].pc, 0x401020);
	assert_int_equal(notes[0].pc_offset, 0x1020);
	assert_int_equal(notes[0].semaphore, 0x402004);
	assert_int_equal(notes[0].semaphore_offset, 0x2004);
	free(notes);
	pm_elf_close(e);

	/* No semaphore. */
	len = note_desc(d, 0x401010, 0x401100, 0, strs, sizeof(strs));
	write_elf(tmp, d, len);
	assert_int_equal(pm_elf_open(tmp, &e, &err), 0);
	assert_int_equal(pm_elf_usdt_notes(e, &notes, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(notes[0].pc_offset, 0x1010);
	assert_int_equal(notes[0].semaphore, 0);
	assert_int_equal(notes[0].semaphore_offset, 0);
	free(notes);
	pm_elf_close(e);

	/* Strings not terminated within the descriptor. */
	len = note_desc(d, 0x401010, 0x401100, 0, "prov\0probe\0args", 15);
	write_elf(tmp, d, len);
	assert_int_equal(pm_elf_open(tmp, &e, &err), 0);
	assert_int_equal(pm_elf_usdt_notes(e, &notes, &n, &err), -EINVAL);
	assert_null(notes);
	assert_non_null(strstr(err.msg, "malformed"));
	pm_elf_close(e);

	/* Descriptor shorter than its three addresses. */
	write_elf(tmp, d, 20);
	assert_int_equal(pm_elf_open(tmp, &e, &err), 0);
	assert_int_equal(pm_elf_usdt_notes(e, &notes, &n, &err), -EINVAL);
	pm_elf_close(e);

	/* Probe outside every PT_LOAD; semaphore in no section. */
	len = note_desc(d, 0x500000, 0x401100, 0, strs, sizeof(strs));
	write_elf(tmp, d, len);
	assert_int_equal(pm_elf_open(tmp, &e, &err), 0);
	assert_int_equal(pm_elf_usdt_notes(e, &notes, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "outside"));
	pm_elf_close(e);
	len = note_desc(d, 0x401010, 0x401100, 0x403000, strs, sizeof(strs));
	write_elf(tmp, d, len);
	assert_int_equal(pm_elf_open(tmp, &e, &err), 0);
	assert_int_equal(pm_elf_usdt_notes(e, &notes, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "semaphore"));
	pm_elf_close(e);
	unlink(tmp);
}

static void loaded_lib(void **state)
{
	char path[4096], cached[4096];

	(void)state;
	char want[64];

	assert_int_equal(pm_elf_mapped_libc(0, path, sizeof(path)), 0);
	printf("# mapped libc: %s\n", path);
	assert_true(same_file(path, LIBC));
	/* Another process's (here our own pid): through its root. */
	assert_int_equal(pm_elf_mapped_libc(getpid(), path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "/proc/%d/root/", (int)getpid());
	assert_int_equal(strncmp(path, want, strlen(want)), 0);
	assert_true(same_file(path, LIBC));
	assert_int_equal(pm_elf_mapped_lib(0, "libpm-nosuch", path,
					   sizeof(path)), -ENOENT);
	/* Too small a buffer is an error, never a cut path. */
	assert_int_equal(pm_elf_mapped_libc(0, path, 4), -ENAMETOOLONG);
	assert_int_equal(pm_elf_mapped_libc(getpid(), path, 20),
			 -ENAMETOOLONG);
	/* No such process: /proc/PID/maps does not exist. */
	assert_int_equal(pm_elf_mapped_libc(0x3fffffff, path, sizeof(path)),
			 -ENOENT);

	assert_int_equal(pm_elf_ldcache_lookup("/etc/ld.so.cache", "libc.so.6",
					       cached, sizeof(cached)), 0);
	printf("# ld.so.cache libc: %s\n", cached);
	assert_true(same_file(cached, LIBC));
	assert_int_equal(pm_elf_ldcache_lookup("/etc/ld.so.cache",
					       "libpm-nosuch.so.1", cached,
					       sizeof(cached)), -ENOENT);
	assert_int_equal(pm_elf_ldcache_lookup("/nonexistent", "libc.so.6",
					       cached, sizeof(cached)),
			 -ENOENT);
}

/* A cache in the glibc-ld.so.cache1.1 layout, built by hand. */
static void write_cache(const char *path, uint32_t nlibs_claimed,
			const char *magic)
{
	unsigned char buf[256] = { 0 };
	const char strs[] = "libfoo.so.1\0/opt/foo/libfoo.so.1\0";
	uint32_t strs_off = 48 + 2 * 24;
	int32_t flags[2] = { 0x0303, 0x0003 };	/* x86-64 libc6; i386 libc6 */
	uint32_t k, v;
	FILE *f;
	int i;

	memcpy(buf, magic, strlen(magic));
	memcpy(buf + 20, &nlibs_claimed, 4);
	for (i = 0; i < 2; i++) {
		unsigned char *e = buf + 48 + i * 24;

		k = strs_off;
		v = strs_off + 12;
		memcpy(e, &flags[i], 4);
		memcpy(e + 4, &k, 4);
		memcpy(e + 8, &v, 4);
	}
	memcpy(buf + strs_off, strs, sizeof(strs));
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, strs_off + sizeof(strs), f),
			 strs_off + sizeof(strs));
	fclose(f);
}

/*
 * A library unlinked while mapped has no path any more: it is reached
 * through /proc/PID/map_files, and that is the very file (its symbols).
 */
static void mapped_lib_deleted(void **state)
{
	char dir[] = "/tmp/pm-elfsym-XXXXXX", lib[64], path[4096], cmd[256];
	struct pm_elf_sym sym;
	struct pm_error err;
	struct pm_elf *e;
	void *handle;
	int pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(lib, sizeof(lib), "%s/libpmdeleted.so", dir);
	snprintf(cmd, sizeof(cmd), "cp /lib/x86_64-linux-gnu/libm.so.6 %s",
		 lib);
	assert_int_equal(system(cmd), 0);
	handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(handle);
	assert_int_equal(pm_elf_mapped_lib(0, "libpmdeleted", path,
					   sizeof(path)), 0);
	assert_string_equal(path, lib);
	assert_int_equal(unlink(lib), 0);
	assert_int_equal(rmdir(dir), 0);

	for (pid = 0; pid <= 1; pid++) {
		char want[64];

		if (pid)
			snprintf(want, sizeof(want), "/proc/%d/map_files/",
				 (int)getpid());
		else
			snprintf(want, sizeof(want), "/proc/self/map_files/");
		assert_int_equal(pm_elf_mapped_lib(pid ? getpid() : 0,
						   "libpmdeleted", path,
						   sizeof(path)), 0);
		printf("# deleted library: %s\n", path);
		assert_int_equal(strncmp(path, want, strlen(want)), 0);
		if (geteuid() != 0) {
			/* map_files needs CAP_SYS_ADMIN. */
			assert_int_equal(open(path, O_RDONLY), -1);
			assert_int_equal(errno, EPERM);
			continue;
		}
		pm_error_clear(&err);
		assert_int_equal(pm_elf_open(path, &e, &err), 0);
		/* frexp: a plain function (much of libm is IFUNC). */
		assert_int_equal(pm_elf_symbol(e, "frexp", &sym, &err), 0);
		assert_true(sym.offset > 0);
		pm_elf_close(e);
	}
	dlclose(handle);
}

static void synthetic_ldcache(void **state)
{
	char tmp[] = "/tmp/pm-ldcache-XXXXXX", path[64];
	int fd;

	(void)state;
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	close(fd);
	write_cache(tmp, 2, "glibc-ld.so.cache1.1");
	assert_int_equal(pm_elf_ldcache_lookup(tmp, "libfoo.so.1", path,
					       sizeof(path)), 0);
	assert_string_equal(path, "/opt/foo/libfoo.so.1");
	assert_int_equal(pm_elf_ldcache_lookup(tmp, "libfoo.so.1", path, 8),
			 -ENAMETOOLONG);
	/* nlibs beyond the file: refused, not read past the end. */
	write_cache(tmp, 1000, "glibc-ld.so.cache1.1");
	assert_int_equal(pm_elf_ldcache_lookup(tmp, "libfoo.so.1", path,
					       sizeof(path)), -EINVAL);
	write_cache(tmp, 2, "ld.so-1.7.0");
	assert_int_equal(pm_elf_ldcache_lookup(tmp, "libfoo.so.1", path,
					       sizeof(path)), -ENOTSUP);
	unlink(tmp);
}

static void uprobe_request(void **state)
{
	const struct pm_ctl_uprobe t[2] = {
		{ .path = LIBC, .offset = 0xefc70, .role = 0,
		  .flags = PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN,
		  .name = "getaddrinfo" },
		{ .path = PYTHON, .offset = 0x287f3, .ref_ctr_offset = 0x68326e,
		  .flags = PERSECMON_UPROBE_COUNT, .cookie = 7 },
	};
	struct pm_session_ref s = { .id = 3, .token = 0x1234 };
	struct nlattr *tb[PERSECMON_A_MAX + 1], *a;
	struct nlattr *up[PERSECMON_A_UP_MAX + 1];
	struct genlmsghdr *gh;
	struct nl_msg *m;
	int rem, n = 0;

	(void)state;
	m = pm_ctl_msg_uprobe(0x1d, "dns", &s, t, 2);
	assert_non_null(m);
	gh = genlmsg_hdr(nlmsg_hdr(m));
	assert_int_equal(gh->cmd, PERSECMON_CMD_UPROBE_ENABLE);
	assert_int_equal(genlmsg_parse(nlmsg_hdr(m), 0, tb, PERSECMON_A_MAX,
				       NULL), 0);
	assert_string_equal(nla_get_string(tb[PERSECMON_A_GROUP]), "dns");
	assert_int_equal(nla_get_u32(tb[PERSECMON_A_SESSION_ID]), 3);
	assert_int_equal(nla_get_u64(tb[PERSECMON_A_SESSION_TOKEN]), 0x1234);
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
			  rem) {
		if (nla_type(a) != PERSECMON_A_UPROBE)
			continue;
		assert_true(n < 2);
		assert_int_equal(nla_parse_nested(up, PERSECMON_A_UP_MAX, a,
						  NULL), 0);
		assert_string_equal(nla_get_string(up[PERSECMON_A_UP_PATH]),
				    t[n].path);
		assert_int_equal(nla_get_u64(up[PERSECMON_A_UP_OFFSET]),
				 t[n].offset);
		assert_int_equal(nla_get_u32(up[PERSECMON_A_UP_ROLE]),
				 t[n].role);
		assert_int_equal(nla_get_u32(up[PERSECMON_A_UP_FLAGS]),
				 t[n].flags);
		if (n == 0) {
			assert_string_equal(nla_get_string(up[PERSECMON_A_UP_NAME]),
					    "getaddrinfo");
			assert_null(up[PERSECMON_A_UP_REF_CTR_OFFSET]);
			assert_null(up[PERSECMON_A_UP_COOKIE]);
		} else {
			assert_null(up[PERSECMON_A_UP_NAME]);
			assert_int_equal(nla_get_u64(up[PERSECMON_A_UP_REF_CTR_OFFSET]),
					 0x68326e);
			assert_int_equal(nla_get_u64(up[PERSECMON_A_UP_COOKIE]),
					 7);
		}
		n++;
	}
	assert_int_equal(n, 2);
	nlmsg_free(m);
}

/* A kernel error pointing inside a target names the nest and attribute. */
static void uprobe_error_location(void **state)
{
	const struct pm_ctl_uprobe t[2] = {
		{ .path = LIBC, .offset = 1, .flags = 1 },
		{ .path = "/bad", .offset = 2, .flags = 1 },
	};
	struct nlattr *a, *in, *path = NULL, *nest2 = NULL;
	struct pm_ext_ack ack = { .error = -ENOENT, .has_offset = true };
	struct genlmsghdr *gh;
	struct pm_error err;
	struct nl_msg *m;
	int rem, irem, n = 0;

	(void)state;
	m = pm_ctl_msg_uprobe(0x1d, "dns", NULL, t, 2);
	assert_non_null(m);
	gh = genlmsg_hdr(nlmsg_hdr(m));
	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0),
			  rem) {
		if (nla_type(a) != PERSECMON_A_UPROBE || ++n != 2)
			continue;
		nest2 = a;
		nla_for_each_nested(in, a, irem)
			if (nla_type(in) == PERSECMON_A_UP_PATH)
				path = in;
	}
	assert_non_null(path);
	snprintf(ack.msg, sizeof(ack.msg), "uprobe path cannot be resolved");
	ack.offset = (uint32_t)((char *)path - (char *)nlmsg_hdr(m));
	pm_ctl_ack_error(&ack, "attach", m, &err);
	assert_non_null(strstr(err.msg, "(attribute UPROBE #2 UP_PATH)"));
	ack.offset = (uint32_t)((char *)nest2 - (char *)nlmsg_hdr(m));
	pm_ctl_ack_error(&ack, "attach", m, &err);
	assert_non_null(strstr(err.msg, "cannot be resolved (attribute UPROBE #2)"));
	/* A top-level attribute keeps its own name. */
	ack.offset = NLMSG_HDRLEN + GENL_HDRLEN;
	pm_ctl_ack_error(&ack, "attach", m, &err);
	assert_non_null(strstr(err.msg, "(attribute GROUP)"));
	nlmsg_free(m);
}

/* 64 targets with long paths still fit the request (sized to its targets). */
static void uprobe_request_large(void **state)
{
	static struct pm_ctl_uprobe t[PM_CTL_UPROBES_MAX];
	static char path[1024];
	struct nl_msg *m;
	size_t i;

	(void)state;
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	for (i = 0; i < PM_CTL_UPROBES_MAX; i++)
		t[i] = (struct pm_ctl_uprobe){ .path = path, .offset = i,
					       .flags = 1, .name = "sym" };
	m = pm_ctl_msg_uprobe(0x1d, "memleak", NULL, t, PM_CTL_UPROBES_MAX);
	assert_non_null(m);
	assert_true(nlmsg_hdr(m)->nlmsg_len > PM_CTL_UPROBES_MAX * 1024);
	nlmsg_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(libc_symbols),
		cmocka_unit_test(missing_and_bad_files),
		cmocka_unit_test(python_usdt),
		cmocka_unit_test(synthetic_usdt),
		cmocka_unit_test(loaded_lib),
		cmocka_unit_test(mapped_lib_deleted),
		cmocka_unit_test(synthetic_ldcache),
		cmocka_unit_test(uprobe_request),
		cmocka_unit_test(uprobe_request_large),
		cmocka_unit_test(uprobe_error_location),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
