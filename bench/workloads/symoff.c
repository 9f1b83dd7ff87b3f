// SPDX-License-Identifier: GPL-2.0
/*
 * symoff ELF SYMBOL: print the file offset of SYMBOL's code in ELF, in
 * hex, as uprobe registration wants it (persecmon_floor uprobes=,
 * uprobe_events): st_value - p_vaddr + p_offset of the PT_LOAD segment
 * holding the symbol. Looks in .dynsym, then .symtab; a versioned name
 * such as malloc@@GLIBC_2.2.5 matches "malloc".
 */
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "symoff: %s: %s\n", what, detail);
	return 1;
}

/* Finds a defined function SYMBOL in a symbol table section. */
static int find_symbol(Elf *elf, Elf_Scn *scn, const char *symbol,
		       GElf_Addr *value)
{
	GElf_Shdr shdr;
	Elf_Data *data;
	size_t i, count;

	if (!gelf_getshdr(scn, &shdr) || !shdr.sh_entsize)
		return 0;
	data = elf_getdata(scn, NULL);
	if (!data)
		return 0;
	count = shdr.sh_size / shdr.sh_entsize;
	for (i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		if (sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
		    GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
			continue;
		name = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (name && !strcmp(name, symbol)) {
			*value = sym.st_value;
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	GElf_Addr value = 0;
	Elf_Scn *scn = NULL;
	size_t i, nphdr;
	int found = 0, fd;
	Elf *elf;

	if (argc != 3) {
		fprintf(stderr, "usage: symoff ELF SYMBOL\n");
		return 2;
	}
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail("libelf", elf_errmsg(-1));
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return fail(argv[1], "cannot open");
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		return fail(argv[1], "not an ELF file");
	for (int pass = 0; pass < 2 && !found; pass++) {
		Elf64_Word want = pass ? SHT_SYMTAB : SHT_DYNSYM;

		scn = NULL;
		while (!found && (scn = elf_nextscn(elf, scn))) {
			GElf_Shdr shdr;

			if (gelf_getshdr(scn, &shdr) && shdr.sh_type == want)
				found = find_symbol(elf, scn, argv[2], &value);
		}
	}
	if (!found)
		return fail(argv[2], "no such function symbol");
	if (elf_getphdrnum(elf, &nphdr))
		return fail(argv[1], elf_errmsg(-1));
	for (i = 0; i < nphdr; i++) {
		GElf_Phdr phdr;

		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_LOAD)
			continue;
		if (value >= phdr.p_vaddr && value < phdr.p_vaddr + phdr.p_filesz) {
			printf("0x%" PRIx64 "\n",
			       (uint64_t)(value - phdr.p_vaddr + phdr.p_offset));
			elf_end(elf);
			close(fd);
			return 0;
		}
	}
	return fail(argv[2], "not inside any PT_LOAD segment");
}
