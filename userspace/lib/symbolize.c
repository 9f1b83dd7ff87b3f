// SPDX-License-Identifier: GPL-2.0
/* Kernel and user symbols for stack frames (persecmon/symbolize.h). */
#include <errno.h>
#include <fcntl.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "persecmon/symbolize.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC	0x794c7630
#endif

struct sym_entry {
	uint64_t addr;
	uint64_t size;		/* 0: unknown, up to the next symbol */
	const char *name;	/* in the owner's string pool */
	const char *module;	/* kernel only: "kernel" or the module */
};

static int sym_cmp(const void *a, const void *b)
{
	const struct sym_entry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Among aliases, prefer a sized symbol, then the fewest '_'. */
	if ((x->size != 0) != (y->size != 0))
		return x->size ? -1 : 1;
	return (int)strspn(x->name, "_") - (int)strspn(y->name, "_");
}

/* Drops later entries at the same address (the best alias sorts first). */
static size_t sym_dedup(struct sym_entry *syms, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		if (out && syms[out - 1].addr == syms[i].addr)
			continue;
		syms[out++] = syms[i];
	}
	return out;
}

/* Greatest entry with addr <= @addr, or NULL. */
static const struct sym_entry *sym_find(const struct sym_entry *syms,
					size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &syms[lo - 1] : NULL;
}

void pm_sym_format(char *buf, size_t len, uint64_t addr,
		   const struct pm_sym *sym)
{
	const char *module = sym && sym->module ? sym->module : "unknown";

	if (sym && sym->name)
		snprintf(buf, len, "%s+0x%" PRIx64 " [%s]", sym->name,
			 sym->offset, module);
	else
		snprintf(buf, len, "0x%" PRIx64 " [%s]", addr, module);
}

/* Kernel */

struct pm_ksyms {
	struct sym_entry *syms;
	size_t n;
	char *pool;		/* names and module names, NUL-separated */
	uint64_t text_end;	/* nothing past the last symbol + 1 MiB */
};

void pm_ksyms_free(struct pm_ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->pool);
	free(ks);
}

size_t pm_ksyms_count(const struct pm_ksyms *ks)
{
	return ks->n;
}

static int ksyms_parse(struct pm_ksyms *ks, FILE *f, bool *all_zero)
{
	size_t cap = 0, pool_len = 0, pool_cap = 0, i;
	char line[512];
	char *pool = NULL;
	struct {
		uint64_t addr;
		size_t name, module;
	} *raw = NULL;
	size_t nraw = 0;

	*all_zero = true;
	while (fgets(line, sizeof(line), f)) {
		char type, name[256], module[128] = "kernel";
		unsigned long long addr;
		size_t nl, ml;
		int fields;

		fields = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type,
				name, module);
		if (fields < 3)
			continue;
		if (addr)
			*all_zero = false;
		if (type != 't' && type != 'T')
			continue;
		if (!strncmp(name, "__pfx_", 6))
			continue;
		nl = strlen(name) + 1;
		ml = strlen(module) + 1;
		if (pool_len + nl + ml > pool_cap) {
			size_t ncap = pool_cap ? pool_cap * 2 : 1 << 20;
			char *np;

			while (ncap < pool_len + nl + ml)
				ncap *= 2;
			np = realloc(pool, ncap);
			if (!np)
				goto nomem;
			pool = np;
			pool_cap = ncap;
		}
		if (nraw == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			void *nr = realloc(raw, ncap * sizeof(*raw));

			if (!nr)
				goto nomem;
			raw = nr;
			cap = ncap;
		}
		raw[nraw].addr = addr;
		raw[nraw].name = pool_len;
		memcpy(pool + pool_len, name, nl);
		pool_len += nl;
		/* Module names repeat: share the previous copy. */
		if (nraw && !strcmp(pool + raw[nraw - 1].module, module)) {
			raw[nraw].module = raw[nraw - 1].module;
		} else {
			raw[nraw].module = pool_len;
			memcpy(pool + pool_len, module, ml);
			pool_len += ml;
		}
		nraw++;
	}
	ks->syms = calloc(nraw ? nraw : 1, sizeof(*ks->syms));
	if (!ks->syms)
		goto nomem;
	for (i = 0; i < nraw; i++) {
		ks->syms[i].addr = raw[i].addr;
		ks->syms[i].name = pool + raw[i].name;
		ks->syms[i].module = pool + raw[i].module;
	}
	free(raw);
	ks->pool = pool;
	qsort(ks->syms, nraw, sizeof(*ks->syms), sym_cmp);
	ks->n = sym_dedup(ks->syms, nraw);
	ks->text_end = ks->n ? ks->syms[ks->n - 1].addr + (1 << 20) : 0;
	return 0;
nomem:
	free(raw);
	free(pool);
	return -ENOMEM;
}

int pm_ksyms_load(struct pm_ksyms **out, const char *path,
		  struct pm_error *err)
{
	struct pm_ksyms *ks;
	bool all_zero;
	FILE *f;
	int ret;

	*out = NULL;
	if (!path)
		path = "/proc/kallsyms";
	f = fopen(path, "re");
	if (!f)
		return pm_error_set(err, errno == EACCES ? PM_ERR_PERMISSION :
				    PM_ERR_RUNTIME, errno,
				    "cannot open %s: %s", path,
				    strerror(errno));
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		fclose(f);
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "out of memory");
	}
	ret = ksyms_parse(ks, f, &all_zero);
	fclose(f);
	if (ret < 0) {
		pm_ksyms_free(ks);
		return pm_error_set(err, PM_ERR_RUNTIME, -ret,
				    "reading %s: %s", path, strerror(-ret));
	}
	if (all_zero || !ks->n) {
		pm_ksyms_free(ks);
		return pm_error_set(err, PM_ERR_PERMISSION, EPERM,
				    "%s shows no kernel addresses (run as root; kptr_restrict must be 0 or 1)",
				    path);
	}
	*out = ks;
	return 0;
}

bool pm_ksyms_lookup(const struct pm_ksyms *ks, uint64_t addr,
		     struct pm_sym *sym)
{
	const struct sym_entry *e;

	memset(sym, 0, sizeof(*sym));
	if (!addr || addr >= ks->text_end)
		return false;
	e = sym_find(ks->syms, ks->n, addr - 1);
	if (!e)
		return false;
	sym->name = e->name;
	sym->offset = addr - e->addr;
	sym->module = e->module;
	return true;
}

/* User: one parsed ELF file */

struct elf_load {
	uint64_t offset, filesz, vaddr;
};

struct elf_file {
	struct elf_file *next;
	char *path;
	dev_t dev;
	ino_t ino;
	/* On overlayfs: st_dev is the overlay's, never the real file's. */
	bool overlay;
	bool ok;			/* parsed (maybe without symbols) */
	/*
	 * Opened but not parsed yet (elf_ready()): the file a process
	 * mapped, taken while it ran (umap_pin()), and the name it was
	 * opened by, for libdwfl.
	 */
	int fd;
	char *open_path;
	struct sym_entry *syms;
	size_t n;
	char *pool;
	struct elf_load *loads;
	size_t nloads;
	const char *base;		/* base name of path */
};

static struct elf_file *elf_files;

/* Appends @name at @addr (ELF address) to @ef, its name in ef->pool. */
static int elf_add_sym(struct elf_file *ef, const char *name, uint64_t addr,
		       uint64_t size, size_t *cap, size_t *pool_len,
		       size_t *pool_cap)
{
	size_t nl = strlen(name) + 1;

	if (*pool_len + nl > *pool_cap) {
		size_t ncap = *pool_cap ? *pool_cap * 2 : 65536;
		char *np;

		while (ncap < *pool_len + nl)
			ncap *= 2;
		np = realloc(ef->pool, ncap);
		if (!np)
			return -ENOMEM;
		ef->pool = np;
		*pool_cap = ncap;
	}
	if (ef->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		void *ns = realloc(ef->syms, ncap * sizeof(*ef->syms));

		if (!ns)
			return -ENOMEM;
		ef->syms = ns;
		*cap = ncap;
	}
	memcpy(ef->pool + *pool_len, name, nl);
	/* Pool offsets for now: realloc may move the pool. */
	ef->syms[ef->n].name = (const char *)(uintptr_t)*pool_len;
	ef->syms[ef->n].addr = addr;
	ef->syms[ef->n].size = size;
	ef->syms[ef->n].module = NULL;
	ef->n++;
	*pool_len += nl;
	return 0;
}

/*
 * libdwfl finds the best symbol table of the file at @open_path: its
 * .symtab; for a stripped file the separate debug file's (build-id under
 * /usr/lib/debug/.build-id, .gnu_debuglink, debuginfod when
 * DEBUGINFOD_URLS is set); else .dynsym, with the MiniDebugInfo
 * (.gnu_debugdata) symbols some distributions add.
 */
static const Dwfl_Callbacks elf_dwfl_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* Function symbols of the file @fd has open; @fd is given up. */
static int elf_read_syms(struct elf_file *ef, const char *open_path, int fd)
{
	size_t cap = 0, pool_len = 0, pool_cap = 0, i;
	Dwfl *dwfl = dwfl_begin(&elf_dwfl_callbacks);
	GElf_Addr bias;
	Dwfl_Module *mod;
	int ret = 0, n, k;

	if (!dwfl) {
		close(fd);
		return -ENOMEM;
	}
	/* At 0: symbol addresses are the file's own (less the bias). */
	mod = dwfl_report_elf(dwfl, ef->base, open_path, fd, 0, false);
	if (!mod)
		close(fd);	/* consumed only on success */
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod || !dwfl_module_getelf(mod, &bias)) {
		dwfl_end(dwfl);
		return -ENOENT;
	}
	n = dwfl_module_getsymtab(mod);
	for (k = 1; k < n && !ret; k++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name;

		name = dwfl_module_getsym_info(mod, k, &sym, &addr, &shndx,
					       NULL, NULL);
		if (!name || !*name || shndx == SHN_UNDEF || !sym.st_value)
			continue;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
		    GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
			continue;
		ret = elf_add_sym(ef, name, addr - bias, sym.st_size, &cap,
				  &pool_len, &pool_cap);
	}
	dwfl_end(dwfl);
	if (ret)
		return ret;
	if (!ef->n)
		return 0;	/* stripped, no debug file: names nothing */
	for (i = 0; i < ef->n; i++)
		ef->syms[i].name = ef->pool + (uintptr_t)ef->syms[i].name;
	qsort(ef->syms, ef->n, sizeof(*ef->syms), sym_cmp);
	ef->n = sym_dedup(ef->syms, ef->n);
	return 0;
}

/* Parses the file @fd has open (given up); ef->ok if it is ELF. */
static void elf_parse(struct elf_file *ef, const char *open_path, int fd)
{
	size_t nphdr, i;
	Elf *elf;

	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nphdr)) {
		if (elf)
			elf_end(elf);
		close(fd);
		return;
	}
	ef->loads = calloc(nphdr ? nphdr : 1, sizeof(*ef->loads));
	for (i = 0; ef->loads && i < nphdr; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		ef->loads[ef->nloads].offset = ph.p_offset;
		ef->loads[ef->nloads].filesz = ph.p_filesz;
		ef->loads[ef->nloads].vaddr = ph.p_vaddr;
		ef->nloads++;
	}
	elf_end(elf);
	/* fd goes to libdwfl. */
	if (elf_read_syms(ef, open_path, fd) == 0)
		ef->ok = true;
}

/* Files opened and not parsed yet: each holds a descriptor. */
#define ELF_DEFERRED_MAX	256
static unsigned int elf_deferred;

/* @ef parsed, if it was only opened so far. */
static struct elf_file *elf_ready(struct elf_file *ef)
{
	if (ef && ef->fd >= 0) {
		elf_parse(ef, ef->open_path, ef->fd);
		ef->fd = -1;
		free(ef->open_path);
		ef->open_path = NULL;
		elf_deferred--;
	}
	return ef;
}

/*
 * The file at @path (opened through @open_path, which may be a
 * /proc/PID/root/... or map_files path), parsed on first use, or with
 * @defer only opened: elf_ready() parses it when it is first needed, so
 * that taking a file while its process runs costs an open. NULL when
 * @open_path cannot be opened: a process's map_files entry goes with the
 * process between stat() and open(), and caching that would leave the
 * file without symbols for good.
 */
static struct elf_file *elf_get(const char *path, const char *open_path,
				bool defer)
{
	struct elf_file *ef;
	struct statfs sfs;
	struct stat st;
	const char *slash;
	int fd;

	if (stat(open_path, &st) < 0)
		return NULL;
	for (ef = elf_files; ef; ef = ef->next)
		if (ef->dev == st.st_dev && ef->ino == st.st_ino &&
		    !strcmp(ef->path, path))
			return defer ? ef : elf_ready(ef);
	fd = open(open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ef = calloc(1, sizeof(*ef));
	if (!ef) {
		close(fd);
		return NULL;
	}
	ef->fd = -1;
	ef->path = strdup(path);
	if (!ef->path) {
		free(ef);
		close(fd);
		return NULL;
	}
	slash = strrchr(ef->path, '/');
	ef->base = slash ? slash + 1 : ef->path;
	ef->dev = st.st_dev;
	ef->ino = st.st_ino;
	ef->overlay = fstatfs(fd, &sfs) == 0 &&
		      sfs.f_type == OVERLAYFS_SUPER_MAGIC;
	if (defer && elf_deferred < ELF_DEFERRED_MAX)
		ef->open_path = strdup(open_path);
	if (ef->open_path) {
		ef->fd = fd;
		elf_deferred++;
	} else {
		elf_parse(ef, open_path, fd);
	}
	ef->next = elf_files;
	elf_files = ef;
	return ef;
}

void pm_usyms_cache_free(void)
{
	struct elf_file *ef;

	while ((ef = elf_files)) {
		elf_files = ef->next;
		if (ef->fd >= 0) {
			close(ef->fd);
			elf_deferred--;
		}
		free(ef->open_path);
		free(ef->syms);
		free(ef->pool);
		free(ef->loads);
		free(ef->path);
		free(ef);
	}
}

/* User: one process */

struct umap {
	uint64_t start, end, offset;
	char *path;
	struct elf_file *ef;	/* NULL until first used */
	bool tried;
	bool from_module;	/* a PERSECMON_EV_MAP: the process is gone */
	uint64_t ino;		/* from_module: the file's inode, 0: unknown */
};

struct pm_usyms {
	uint32_t pid;
	char proc_root[64];
	struct umap *maps;	/* /proc/PID/maps, last read */
	size_t n;
	/* From the module's mapping records: for when the process is gone. */
	struct umap *kmaps;
	size_t nk, kcap;
	/*
	 * The last read found no mappings: @maps may predate an exec, while
	 * the module described each mapping when a stack first used it.
	 */
	bool gone;
};

static void umaps_free(struct umap *maps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(maps[i].path);
	free(maps);
}

int pm_usyms_refresh(struct pm_usyms *us)
{
	char path[128], line[4096];
	struct umap *maps = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/maps", us->proc_root, us->pid);
	f = fopen(path, "re");
	if (!f) {
		us->gone = errno == ENOENT || errno == ESRCH;
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, offset;
		char perms[8], file[4096];
		int pos = 0;

		file[0] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end,
			   perms, &offset, &pos) < 4)
			continue;
		if (perms[2] != 'x' || !pos || line[pos] != '/')
			continue;
		snprintf(file, sizeof(file), "%s", line + pos);
		file[strcspn(file, "\n")] = '\0';
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			void *nm = realloc(maps, ncap * sizeof(*maps));

			if (!nm) {
				fclose(f);
				umaps_free(maps, n);
				return -ENOMEM;
			}
			maps = nm;
			cap = ncap;
		}
		maps[n] = (struct umap){ .start = start, .end = end,
					 .offset = offset,
					 .path = strdup(file) };
		if (!maps[n].path) {
			fclose(f);
			umaps_free(maps, n);
			return -ENOMEM;
		}
		n++;
	}
	fclose(f);
	/* An exited process (a zombie) has no mappings: keep the last. */
	if (!n) {
		umaps_free(maps, n);
		us->gone = true;
		return -ESRCH;
	}
	umaps_free(us->maps, us->n);
	us->maps = maps;
	us->n = n;
	us->gone = false;
	return 0;
}

struct pm_usyms *pm_usyms_new(uint32_t pid, const char *proc_root)
{
	struct pm_usyms *us = calloc(1, sizeof(*us));

	if (!us)
		return NULL;
	elf_version(EV_CURRENT);
	us->pid = pid;
	snprintf(us->proc_root, sizeof(us->proc_root), "%s",
		 proc_root ? proc_root : "/proc");
	return us;
}

int pm_usyms_open(struct pm_usyms **out, uint32_t pid, const char *proc_root,
		  struct pm_error *err)
{
	struct pm_usyms *us;
	int ret;

	*out = NULL;
	us = pm_usyms_new(pid, proc_root);
	if (!us)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "out of memory");
	ret = pm_usyms_refresh(us);
	if (ret < 0) {
		pm_usyms_close(us);
		return pm_error_set(err, PM_ERR_RUNTIME, -ret,
				    "cannot read the mappings of process %u: %s",
				    pid, strerror(-ret));
	}
	*out = us;
	return 0;
}

void pm_usyms_close(struct pm_usyms *us)
{
	if (!us)
		return;
	umaps_free(us->maps, us->n);
	umaps_free(us->kmaps, us->nk);
	free(us);
}

static struct umap *umap_in(struct umap *maps, size_t n, uint64_t addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (addr >= maps[i].start && addr < maps[i].end)
			return &maps[i];
	return NULL;
}

static struct umap *umap_find(struct pm_usyms *us, uint64_t addr)
{
	return umap_in(us->maps, us->n, addr);
}

/*
 * A record usually arrives while its process still runs: parse the file
 * now, through the process's own view of the mapping, if that is the
 * file the record names. Once the process is gone, that view is gone
 * too, and a process of another mount namespace (a container) would
 * leave only a path that names another file, or none, in ours.
 */
static void umap_pin(struct pm_usyms *us, struct umap *m)
{
	char open_path[160];
	struct elf_file *ef;
	struct umap *live;

	if (!m->ino)
		return;
	snprintf(open_path, sizeof(open_path),
		 "%s/%u/map_files/%" PRIx64 "-%" PRIx64,
		 us->proc_root, us->pid, m->start, m->end);
	ef = elf_get(m->path, open_path, true);
	if (ef && (uint64_t)ef->ino == m->ino) {
		m->ef = ef;
		m->tried = true;
		return;
	}
	/*
	 * The record is read when the reader drains its ring, which may be
	 * after the exit: then the file the process's own maps showed for
	 * this range while it lived, if a lookup took it and it is the
	 * same file (not an exec's old image).
	 */
	live = umap_find(us, m->start);
	if (live && live->start == m->start && live->end == m->end &&
	    live->offset == m->offset && live->tried && live->ef &&
	    (uint64_t)live->ef->ino == m->ino) {
		m->ef = live->ef;
		m->tried = true;
	}
}

int pm_usyms_add_mapping(struct pm_usyms *us, uint64_t start, uint64_t end,
			 uint64_t offset, const char *path, uint64_t ino)
{
	struct umap *m;
	size_t i;

	if (start >= end || path[0] != '/')
		return -EINVAL;
	/* The newest description of a range wins: an exec maps anew. */
	i = 0;
	while (i < us->nk) {
		m = &us->kmaps[i];
		if (start < m->end && m->start < end) {
			free(m->path);
			*m = us->kmaps[--us->nk];
			continue;
		}
		i++;
	}
	if (us->nk == us->kcap) {
		size_t ncap = us->kcap ? us->kcap * 2 : 8;
		void *nm = realloc(us->kmaps, ncap * sizeof(*us->kmaps));

		if (!nm)
			return -ENOMEM;
		us->kmaps = nm;
		us->kcap = ncap;
	}
	m = &us->kmaps[us->nk];
	*m = (struct umap){ .start = start, .end = end, .offset = offset,
			    .path = strdup(path), .from_module = true,
			    .ino = ino };
	if (!m->path)
		return -ENOMEM;
	us->nk++;
	umap_pin(us, m);
	return 0;
}

static struct elf_file *umap_elf(struct pm_usyms *us, struct umap *m)
{
	char open_path[4200];

	if (m->tried)
		return elf_ready(m->ef);	/* umap_pin() may only open it */
	m->tried = true;
	/*
	 * The process's own view of the file (containers, deleted files),
	 * then ours; each may vanish with the process, so fall through.
	 * The module's mappings are used when it has gone: its path is the
	 * process's, which is ours unless it ran in another mount namespace.
	 */
	if (!m->from_module) {
		snprintf(open_path, sizeof(open_path),
			 "%s/%u/map_files/%" PRIx64 "-%" PRIx64,
			 us->proc_root, us->pid, m->start, m->end);
		m->ef = elf_get(m->path, open_path, false);
	}
	if (!m->ef) {
		snprintf(open_path, sizeof(open_path), "%s/%u/root%s",
			 us->proc_root, us->pid, m->path);
		m->ef = elf_get(m->path, open_path, false);
	}
	if (!m->ef)
		m->ef = elf_get(m->path, m->path, false);
	/*
	 * A process of another mount namespace (a container) that exited
	 * leaves a path that may name another file in ours: never take its
	 * symbols for the process's (symbolize.h says what is compared).
	 */
	if (m->ef && m->from_module && m->ino && !m->ef->overlay &&
	    (uint64_t)m->ef->ino != m->ino)
		m->ef = NULL;
	return m->ef;
}

bool pm_usyms_lookup(struct pm_usyms *us, uint64_t addr, struct pm_sym *sym)
{
	const struct sym_entry *e;
	struct elf_file *ef;
	uint64_t file_off, vaddr = 0;
	struct umap *m;
	bool found = false;
	size_t i;

	memset(sym, 0, sizeof(*sym));
	if (!addr)
		return false;
	m = us->gone ? umap_in(us->kmaps, us->nk, addr - 1) : NULL;
	if (!m)
		m = umap_find(us, addr - 1);
	if (!m && pm_usyms_refresh(us) == 0)
		m = umap_find(us, addr - 1);
	if (!m)
		m = umap_in(us->kmaps, us->nk, addr - 1);
	if (!m)
		return false;
	ef = umap_elf(us, m);
	if (!ef) {
		const char *slash = strrchr(m->path, '/');

		sym->module = slash ? slash + 1 : m->path;
		return false;
	}
	sym->module = ef->base;
	if (!ef->ok)
		return false;
	file_off = addr - 1 - m->start + m->offset;
	for (i = 0; i < ef->nloads; i++) {
		const struct elf_load *l = &ef->loads[i];

		if (file_off >= l->offset && file_off < l->offset + l->filesz) {
			vaddr = file_off - l->offset + l->vaddr;
			found = true;
			break;
		}
	}
	if (!found)
		return false;
	e = sym_find(ef->syms, ef->n, vaddr);
	if (!e || (e->size && vaddr >= e->addr + e->size))
		return false;
	sym->name = e->name;
	sym->offset = vaddr + 1 - e->addr;
	return true;
}
