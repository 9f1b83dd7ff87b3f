// SPDX-License-Identifier: GPL-2.0
/*
 * Symbol and USDT note resolution with elfutils libelf; elfsym.h has the
 * contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persecmon/elfsym.h"

/* .note.stapsdt: owner "stapsdt", type 3 (NT_STAPSDT). */
#define PM_NT_STAPSDT		3
#define PM_STAPSDT_OWNER	"stapsdt"
/* In .gnu.version: the symbol version is hidden (not the default). */
#define PM_VERSYM_HIDDEN	0x8000

struct pm_elf {
	int fd;
	Elf *elf;
	char *path;
	size_t shstrndx;
	GElf_Ehdr ehdr;
};

static int elf_fail(struct pm_error *err, struct pm_elf *e, const char *what)
{
	return pm_error_set(err, PM_ERR_RUNTIME, EINVAL, "%s: %s: %s",
			    e ? e->path : "?", what, elf_errmsg(-1));
}

int pm_elf_open(const char *path, struct pm_elf **out, struct pm_error *err)
{
	struct pm_elf *e;
	int saved;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return pm_error_set(err, PM_ERR_RUNTIME, EINVAL,
				    "libelf: %s", elf_errmsg(-1));
	e = calloc(1, sizeof(*e));
	if (!e)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "out of memory");
	e->fd = -1;
	e->path = strdup(path);
	if (!e->path) {
		free(e);
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "out of memory");
	}
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0) {
		saved = errno;
		pm_elf_close(e);
		return pm_error_set(err, PM_ERR_RUNTIME, saved, "%s: %s", path,
				    strerror(saved));
	}
	e->elf = elf_begin(e->fd, ELF_C_READ, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		pm_error_set(err, PM_ERR_RUNTIME, EINVAL,
			     "%s: not an ELF file", path);
		pm_elf_close(e);
		return -EINVAL;
	}
	if (!gelf_getehdr(e->elf, &e->ehdr) ||
	    elf_getshdrstrndx(e->elf, &e->shstrndx) != 0) {
		elf_fail(err, e, "cannot read the ELF header");
		pm_elf_close(e);
		return -EINVAL;
	}
	*out = e;
	return 0;
}

void pm_elf_close(struct pm_elf *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->path);
	free(e);
}

int pm_elf_vaddr_to_offset(struct pm_elf *e, uint64_t vaddr,
			   uint64_t *offset)
{
	size_t i, n;
	GElf_Phdr ph;

	if (elf_getphdrnum(e->elf, &n) != 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static Elf_Scn *find_section(struct pm_elf *e, const char *name,
			     GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	const char *sname;

	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, sh))
			continue;
		sname = elf_strptr(e->elf, e->shstrndx, sh->sh_name);
		if (sname && !strcmp(sname, name))
			return scn;
	}
	return NULL;
}

/* The section whose address range holds @addr (allocated sections only). */
static bool section_offset(struct pm_elf *e, uint64_t addr, uint64_t *offset)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
		    sh.sh_type == SHT_NOBITS)
			continue;
		if (addr >= sh.sh_addr && addr - sh.sh_addr < sh.sh_size) {
			*offset = addr - sh.sh_addr + sh.sh_offset;
			return true;
		}
	}
	return false;
}

struct sym_match {
	bool found;
	bool is_default;	/* not a hidden (older) version */
	bool ifunc;
	GElf_Sym sym;
};

static void scan_symtab(struct pm_elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
			const char *name, struct sym_match *best)
{
	Elf_Data *data = elf_getdata(scn, NULL), *versym = NULL;
	Elf_Scn *vscn = NULL;
	GElf_Shdr vsh;
	size_t i, n;

	if (!data || !sh->sh_entsize)
		return;
	/* Version info exists for .dynsym only (.gnu.version, same index). */
	if (sh->sh_type == SHT_DYNSYM) {
		while ((vscn = elf_nextscn(e->elf, vscn))) {
			if (gelf_getshdr(vscn, &vsh) &&
			    vsh.sh_type == SHT_GNU_versym &&
			    vsh.sh_link == elf_ndxscn(scn)) {
				versym = elf_getdata(vscn, NULL);
				break;
			}
		}
	}
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Versym vs = 0;
		const char *sname;
		int type;
		bool is_default;

		if (!gelf_getsym(data, (int)i, &sym) ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		sname = elf_strptr(e->elf, sh->sh_link, sym.st_name);
		if (!sname || strcmp(sname, name))
			continue;
		if (versym)
			gelf_getversym(versym, (int)i, &vs);
		is_default = !(vs & PM_VERSYM_HIDDEN);
		if (best->found && (best->is_default || !is_default))
			continue;
		best->found = true;
		best->is_default = is_default;
		best->ifunc = type == STT_GNU_IFUNC;
		best->sym = sym;
	}
}

int pm_elf_symbol(struct pm_elf *e, const char *name, struct pm_elf_sym *out,
		  struct pm_error *err)
{
	struct sym_match best = { 0 };
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			scan_symtab(e, scn, &sh, name, &best);
	}
	if (!best.found)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOENT,
				    "%s: no function symbol %s", e->path, name);
	if (best.ifunc)
		return pm_error_set(err, PM_ERR_RUNTIME, EINVAL,
				    "%s: %s is an IFUNC (its resolver, not the implementation, would be probed)",
				    e->path, name);
	out->value = best.sym.st_value;
	out->size = best.sym.st_size;
	if (pm_elf_vaddr_to_offset(e, best.sym.st_value, &out->offset))
		return pm_error_set(err, PM_ERR_RUNTIME, EINVAL,
				    "%s: %s at 0x%llx is outside every loadable segment",
				    e->path, name,
				    (unsigned long long)best.sym.st_value);
	return 0;
}

/* Copies a NUL-terminated string at @*pos of @desc; false if unterminated. */
static bool take_str(const char *desc, size_t size, size_t *pos, char *buf,
		     size_t len)
{
	const char *s = desc + *pos;
	size_t n;

	if (*pos >= size)
		return false;
	n = strnlen(s, size - *pos);
	if (n == size - *pos)
		return false;
	snprintf(buf, len, "%s", s);
	*pos += n + 1;
	return true;
}

static int parse_note(struct pm_elf *e, const char *desc, size_t size,
		      int64_t base_adjust, struct pm_usdt_note *note,
		      struct pm_error *err)
{
	size_t asize = e->ehdr.e_ident[EI_CLASS] == ELFCLASS32 ? 4 : 8;
	uint64_t addr[3] = { 0 };
	size_t pos = 3 * asize;
	int i;

	memset(note, 0, sizeof(*note));
	if (size < pos)
		goto bad;
	for (i = 0; i < 3; i++) {
		if (asize == 4) {
			uint32_t v;

			memcpy(&v, desc + i * 4, 4);
			addr[i] = v;
		} else {
			memcpy(&addr[i], desc + i * 8, 8);
		}
	}
	if (!take_str(desc, size, &pos, note->provider,
		      sizeof(note->provider)) ||
	    !take_str(desc, size, &pos, note->name, sizeof(note->name)) ||
	    !take_str(desc, size, &pos, note->args, sizeof(note->args)))
		goto bad;
	note->pc = addr[0] + base_adjust;
	if (addr[2])
		note->semaphore = addr[2] + base_adjust;
	if (pm_elf_vaddr_to_offset(e, note->pc, &note->pc_offset))
		return pm_error_set(err, PM_ERR_RUNTIME, EINVAL,
				    "%s: USDT %s:%s at 0x%llx is outside every loadable segment",
				    e->path, note->provider, note->name,
				    (unsigned long long)note->pc);
	if (note->semaphore &&
	    !section_offset(e, note->semaphore, &note->semaphore_offset))
		return pm_error_set(err, PM_ERR_RUNTIME, EINVAL,
				    "%s: USDT %s:%s semaphore 0x%llx is in no section",
				    e->path, note->provider, note->name,
				    (unsigned long long)note->semaphore);
	return 0;
bad:
	return pm_error_set(err, PM_ERR_RUNTIME, EINVAL,
			    "%s: malformed .note.stapsdt entry", e->path);
}

/* Calls @fn for every stapsdt note; stops at a non-zero return. */
static int for_each_note(struct pm_elf *e,
			 int (*fn)(void *arg, const struct pm_usdt_note *n),
			 void *arg, struct pm_error *err)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh, bsh;
	bool have_base;
	int ret;

	/* Notes record the .stapsdt.base address at link time (prelink). */
	have_base = find_section(e, ".stapsdt.base", &bsh) != NULL;
	while ((scn = elf_nextscn(e->elf, scn))) {
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return elf_fail(err, e, "cannot read a note section");
		while ((off = gelf_getnote(data, off, &nh, &name_off,
					   &desc_off)) > 0) {
			struct pm_usdt_note note;
			const char *d = (const char *)data->d_buf;
			uint64_t rec_base = 0;
			int64_t adjust = 0;
			size_t asize = e->ehdr.e_ident[EI_CLASS] == ELFCLASS32 ?
				       4 : 8;

			if (nh.n_type != PM_NT_STAPSDT ||
			    nh.n_namesz != sizeof(PM_STAPSDT_OWNER) ||
			    memcmp(d + name_off, PM_STAPSDT_OWNER,
				   sizeof(PM_STAPSDT_OWNER)))
				continue;
			if (nh.n_descsz >= 2 * asize) {
				if (asize == 4) {
					uint32_t v;

					memcpy(&v, d + desc_off + 4, 4);
					rec_base = v;
				} else {
					memcpy(&rec_base, d + desc_off + 8, 8);
				}
			}
			if (have_base && rec_base)
				adjust = (int64_t)(bsh.sh_addr - rec_base);
			ret = parse_note(e, d + desc_off, nh.n_descsz, adjust,
					 &note, err);
			if (ret)
				return ret;
			ret = fn(arg, &note);
			if (ret)
				return ret;
		}
	}
	return 0;
}

struct note_list {
	struct pm_usdt_note *notes;
	size_t n;
};

static int collect_note(void *arg, const struct pm_usdt_note *n)
{
	struct note_list *l = arg;
	struct pm_usdt_note *grown;

	grown = realloc(l->notes, (l->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	l->notes = grown;
	l->notes[l->n++] = *n;
	return 0;
}

int pm_elf_usdt_notes(struct pm_elf *e, struct pm_usdt_note **notes,
		      size_t *n, struct pm_error *err)
{
	struct note_list l = { 0 };
	int ret;

	ret = for_each_note(e, collect_note, &l, err);
	if (ret == -ENOMEM)
		pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	if (ret) {
		free(l.notes);
		*notes = NULL;
		*n = 0;
		return ret;
	}
	*notes = l.notes;
	*n = l.n;
	return 0;
}

struct note_find {
	const char *provider;
	const char *name;
	struct pm_usdt_note *out;
};

static int match_note(void *arg, const struct pm_usdt_note *n)
{
	struct note_find *f = arg;

	if ((f->provider && strcmp(f->provider, n->provider)) ||
	    strcmp(f->name, n->name))
		return 0;
	*f->out = *n;
	return 1;
}

int pm_elf_usdt_find(struct pm_elf *e, const char *provider,
		     const char *name, struct pm_usdt_note *note,
		     struct pm_error *err)
{
	struct note_find f = { provider, name, note };
	int ret;

	ret = for_each_note(e, match_note, &f, err);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOENT,
				    "%s: no USDT probe %s%s%s", e->path,
				    provider ? provider : "",
				    provider ? ":" : "", name);
	return 0;
}

int pm_elf_mapped_lib(pid_t pid, const char *prefix, char *path, size_t len)
{
	size_t plen = strlen(prefix);
	char maps[64], line[4096];
	int ret = -ENOENT;
	FILE *f;

	if (pid)
		snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	else
		snprintf(maps, sizeof(maps), "/proc/self/maps");
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		char *file = strchr(line, '/'), *base, *deleted;
		int n;

		if (!file || sscanf(line, "%llx-%llx", &start, &end) != 2)
			continue;
		file[strcspn(file, "\n")] = '\0';
		/* " (deleted)": unlinked or replaced since it was mapped. */
		deleted = strstr(file, " (deleted)");
		if (deleted && !deleted[10])
			*deleted = '\0';
		else
			deleted = NULL;
		base = strrchr(file, '/') + 1;
		if (strncmp(base, prefix, plen))
			continue;
		/*
		 * The name in maps is only meaningful in the process's own
		 * mount namespace, and a deleted file has none at all; the
		 * proc links reach the very file from ours.
		 */
		if (deleted && pid)
			n = snprintf(path, len, "/proc/%d/map_files/%llx-%llx",
				     (int)pid, start, end);
		else if (deleted)
			n = snprintf(path, len, "/proc/self/map_files/%llx-%llx",
				     start, end);
		else if (pid)
			n = snprintf(path, len, "/proc/%d/root%s", (int)pid,
				     file);
		else
			n = snprintf(path, len, "%s", file);
		ret = n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
		break;
	}
	fclose(f);
	return ret;
}

int pm_elf_mapped_libc(pid_t pid, char *path, size_t len)
{
	int ret = pm_elf_mapped_lib(pid, "libc.so.6", path, len);

	/* glibc before 2.34 mapped libc-VERSION.so. */
	if (ret == -ENOENT)
		ret = pm_elf_mapped_lib(pid, "libc-", path, len);
	return ret;
}

/*
 * /etc/ld.so.cache, the "glibc-ld.so.cache1.1" format glibc writes since
 * 2.32 (older files begin with the "ld.so-1.7.0" format, not read here):
 * a 48-byte header (magic, version, nlibs, len_strings, flags, ...), then
 * nlibs 24-byte entries {int32 flags; u32 key, value; u32 osversion;
 * u64 hwcap}, key and value being offsets of NUL-terminated strings
 * (soname, path) from the start of the file.
 */
#define LDCACHE_MAGIC		"glibc-ld.so.cache1.1"
#define LDCACHE_HEADER		48
#define LDCACHE_ENTRY		24
#define LDCACHE_FLAG_TYPE_MASK	0x00ff
#define LDCACHE_FLAG_ELF_LIBC6	0x0003
#define LDCACHE_FLAG_ARCH_MASK	0xff00
#define LDCACHE_FLAG_X8664	0x0300

static const char *ldcache_str(const char *buf, size_t size, uint32_t off)
{
	if (off >= size || !memchr(buf + off, '\0', size - off))
		return NULL;
	return buf + off;
}

int pm_elf_ldcache_lookup(const char *cache, const char *soname, char *path,
			  size_t len)
{
	char *buf = NULL;
	size_t size = 0, cap = 0, i;
	uint32_t nlibs;
	int ret = -ENOENT;
	FILE *f;

	f = fopen(cache, "re");
	if (!f)
		return -errno;
	for (;;) {
		size_t n;

		if (size == cap) {
			char *grown = realloc(buf, cap ? cap * 2 : 65536);

			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			buf = grown;
			cap = cap ? cap * 2 : 65536;
		}
		n = fread(buf + size, 1, cap - size, f);
		size += n;
		if (n == 0)
			break;
	}
	if (size < LDCACHE_HEADER ||
	    memcmp(buf, LDCACHE_MAGIC, sizeof(LDCACHE_MAGIC) - 1)) {
		ret = -ENOTSUP;
		goto out;
	}
	memcpy(&nlibs, buf + 20, 4);
	if (nlibs > (size - LDCACHE_HEADER) / LDCACHE_ENTRY) {
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < nlibs; i++) {
		const char *e = buf + LDCACHE_HEADER + i * LDCACHE_ENTRY;
		const char *key, *value;
		int32_t flags;
		uint32_t k, v;

		memcpy(&flags, e, 4);
		memcpy(&k, e + 4, 4);
		memcpy(&v, e + 8, 4);
		if ((flags & LDCACHE_FLAG_TYPE_MASK) != LDCACHE_FLAG_ELF_LIBC6)
			continue;
#if defined(__x86_64__)
		if ((flags & LDCACHE_FLAG_ARCH_MASK) != LDCACHE_FLAG_X8664)
			continue;
#endif
		key = ldcache_str(buf, size, k);
		value = ldcache_str(buf, size, v);
		if (!key || !value || strcmp(key, soname))
			continue;
		if (strlen(value) >= len) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		snprintf(path, len, "%s", value);
		ret = 0;
		break;
	}
out:
	free(buf);
	fclose(f);
	return ret;
}

int pm_elf_file_set_add(struct pm_elf_file_set *set, const char *path)
{
	struct stat st;
	size_t i;

	if (stat(path, &st) < 0)
		return -errno;
	for (i = 0; i < set->n; i++)
		if (set->file[i].dev == st.st_dev &&
		    set->file[i].ino == st.st_ino)
			return 0;
	if (set->n == PM_ELF_FILE_SET_MAX)
		return -E2BIG;
	if (strlen(path) >= sizeof(set->file[0].path))
		return -ENAMETOOLONG;
	set->file[set->n].dev = st.st_dev;
	set->file[set->n].ino = st.st_ino;
	strcpy(set->file[set->n].path, path);
	set->n++;
	return 1;
}

int pm_elf_file_set_add_libcs(struct pm_elf_file_set *set,
			      const pid_t *pids, size_t nr_pids,
			      struct pm_error *err)
{
	char path[PATH_MAX];
	size_t i;
	int ret;

	for (i = 0; i < nr_pids; i++) {
		ret = pm_elf_mapped_libc(pids[i], path, sizeof(path));
		if (ret == 0)
			ret = pm_elf_file_set_add(set, path);
		if (ret < 0)
			return pm_error_set(err, PM_ERR_RUNTIME, -ret,
					    "cannot find the libc of process %d: %s (use -l LIBC)",
					    pids[i] ? (int)pids[i] : (int)getpid(),
					    strerror(-ret));
	}
	return 0;
}
