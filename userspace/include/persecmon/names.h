/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of the ABI's numbered things: record types, execution contexts,
 * probe groups, netlink attributes. Unknown numbers get a generated name
 * ("type42", "group7") so newer modules stay printable.
 */
#ifndef PERSECMON_NAMES_H
#define PERSECMON_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Known name or NULL. */
const char *pm_type_name(unsigned int type);
const char *pm_context_name(unsigned int context);
const char *pm_group_name(unsigned int group);
const char *pm_attr_name(unsigned int attr);
/* enum persecmon_dns_func (dns group roles and records). */
const char *pm_dns_func_name(unsigned int func);

/* Known name, or "<prefix><number>" written into @buf. */
const char *pm_type_label(unsigned int type, char *buf, size_t len);
const char *pm_context_label(unsigned int context, char *buf, size_t len);
const char *pm_group_label(unsigned int group, char *buf, size_t len);

/*
 * Parse a name or its generated form ("test", "type16", "16").
 * Return the number, or -1 if @name is neither.
 */
int pm_type_parse(const char *name);
int pm_context_parse(const char *name);

/*
 * Parse a comma-separated list of names into a bit mask with @parse.
 * Returns 0, or -1 with the offending item copied to @bad.
 */
int pm_parse_name_list(const char *list, int (*parse)(const char *name),
		       unsigned int max_bit, uint64_t *mask,
		       char *bad, size_t bad_len);

#define PM_MASK_NAMES_MAX	64
/*
 * Expand a bit mask into labels stored in @storage (one label per set bit,
 * PM_LABEL_MAX bytes each); @names points into @storage. Returns the count.
 */
#define PM_LABEL_MAX		16
size_t pm_mask_labels(uint64_t mask,
		      const char *(*label)(unsigned int, char *, size_t),
		      char storage[][PM_LABEL_MAX], const char **names);

#endif /* PERSECMON_NAMES_H */
