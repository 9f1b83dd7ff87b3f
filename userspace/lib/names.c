// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/persecmon.h>

#include "persecmon/names.h"

static const char *const type_names[PERSECMON_REC_TYPE_MAX + 1] = {
	[PERSECMON_REC_PAD]	= "pad",
	[PERSECMON_REC_LOST]	= "lost",
	[PERSECMON_REC_CLOCK]	= "clock",
	[PERSECMON_EV_TEST]	= "test",
	[PERSECMON_EV_EXEC]	= "exec",
	[PERSECMON_EV_FORK]	= "fork",
	[PERSECMON_EV_EXIT]	= "exit",
	[PERSECMON_EV_EXEC_FAIL] = "exec_fail",
	[PERSECMON_EV_OPEN]	= "open",
	[PERSECMON_EV_VFS]	= "vfs",
	[PERSECMON_EV_BLOCK]	= "block",
	[PERSECMON_EV_TCP_CONNECT] = "tcp_connect",
	[PERSECMON_EV_TCP_STATE] = "tcp_state",
	[PERSECMON_EV_DNS]	= "dns",
	[PERSECMON_EV_ALLOC]	= "alloc",
	[PERSECMON_EV_FREE]	= "free",
	[PERSECMON_EV_KALLOC]	= "kalloc",
	[PERSECMON_EV_KFREE]	= "kfree",
	[PERSECMON_EV_MAP]	= "map",
};

static const char *const context_names[PERSECMON_CTX_MAX + 1] = {
	[PERSECMON_CTX_TASK]	= "task",
	[PERSECMON_CTX_SOFTIRQ]	= "softirq",
	[PERSECMON_CTX_HARDIRQ]	= "hardirq",
	[PERSECMON_CTX_NMI]	= "nmi",
};

static const char *const group_names[PERSECMON_GROUP_MAX + 1] = {
	[PERSECMON_GROUP_TEST]	= "test",
	[PERSECMON_GROUP_VFS]	= "vfs",
	[PERSECMON_GROUP_FILES]	= "files",
	[PERSECMON_GROUP_BLOCK]	= "block",
	[PERSECMON_GROUP_PROC]	= "proc",
	[PERSECMON_GROUP_NET]	= "net",
	[PERSECMON_GROUP_DNS]	= "dns",
	[PERSECMON_GROUP_MEMLEAK] = "memleak",
	[PERSECMON_GROUP_KMEMLEAK] = "kmemleak",
};

static const char *const dns_func_names[PERSECMON_DNS_FUNC_MAX + 1] = {
	[PERSECMON_DNS_GETADDRINFO]	= "getaddrinfo",
	[PERSECMON_DNS_GETHOSTBYNAME]	= "gethostbyname",
	[PERSECMON_DNS_GETHOSTBYNAME2]	= "gethostbyname2",
};

static const char *const attr_names[] = {
	[PERSECMON_A_ABI_MAJOR]		= "ABI_MAJOR",
	[PERSECMON_A_ABI_MINOR]		= "ABI_MINOR",
	[PERSECMON_A_MODULE_VERSION]	= "MODULE_VERSION",
	[PERSECMON_A_DATA_SIZE]		= "DATA_SIZE",
	[PERSECMON_A_SESSIONS]		= "SESSIONS",
	[PERSECMON_A_MAX_SESSIONS]	= "MAX_SESSIONS",
	[PERSECMON_A_GROUPS_GLOBAL]	= "GROUPS_GLOBAL",
	[PERSECMON_A_GROUPS_ATTACHED]	= "GROUPS_ATTACHED",
	[PERSECMON_A_GROUP]		= "GROUP",
	[PERSECMON_A_SESSION_ID]	= "SESSION_ID",
	[PERSECMON_A_SESSION_TOKEN]	= "SESSION_TOKEN",
	[PERSECMON_A_FILTER_TGID]	= "FILTER_TGID",
	[PERSECMON_A_FILTER_CGROUP]	= "FILTER_CGROUP",
	[PERSECMON_A_FILTER_INCLUDE_SELF] = "FILTER_INCLUDE_SELF",
	[PERSECMON_A_TRIGGER_RUN_ID]	= "TRIGGER_RUN_ID",
	[PERSECMON_A_TRIGGER_COUNT]	= "TRIGGER_COUNT",
	[PERSECMON_A_TRIGGER_CONTEXTS]	= "TRIGGER_CONTEXTS",
	[PERSECMON_A_TRIGGER_FILL]	= "TRIGGER_FILL",
	[PERSECMON_A_CPU_STATS]		= "CPU_STATS",
	[PERSECMON_A_PAD]		= "PAD",
	[PERSECMON_A_SESSION]		= "SESSION",
	[PERSECMON_A_AGG_NAME]		= "AGG_NAME",
	[PERSECMON_A_AGG_COLUMNS]	= "AGG_COLUMNS",
	[PERSECMON_A_AGG_ROW]		= "AGG_ROW",
	[PERSECMON_A_PROBE]		= "PROBE",
	[PERSECMON_A_UPROBE]		= "UPROBE",
	[PERSECMON_A_GROUP_HOLD]	= "GROUP_HOLD",
	[PERSECMON_A_FILTER_QUIET]	= "FILTER_QUIET",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *pm_type_name(unsigned int type)
{
	return type < ARRAY_LEN(type_names) ? type_names[type] : NULL;
}

const char *pm_context_name(unsigned int context)
{
	return context < ARRAY_LEN(context_names) ? context_names[context] : NULL;
}

const char *pm_group_name(unsigned int group)
{
	return group < ARRAY_LEN(group_names) ? group_names[group] : NULL;
}

const char *pm_dns_func_name(unsigned int func)
{
	return func < ARRAY_LEN(dns_func_names) ? dns_func_names[func] : NULL;
}

const char *pm_attr_name(unsigned int attr)
{
	return attr < ARRAY_LEN(attr_names) ? attr_names[attr] : NULL;
}

static const char *label(const char *name, const char *prefix,
			 unsigned int n, char *buf, size_t len)
{
	if (name)
		return name;
	snprintf(buf, len, "%s%u", prefix, n);
	return buf;
}

const char *pm_type_label(unsigned int type, char *buf, size_t len)
{
	return label(pm_type_name(type), "type", type, buf, len);
}

const char *pm_context_label(unsigned int context, char *buf, size_t len)
{
	return label(pm_context_name(context), "ctx", context, buf, len);
}

const char *pm_group_label(unsigned int group, char *buf, size_t len)
{
	return label(pm_group_name(group), "group", group, buf, len);
}

/* "<prefix>N" or "N" with N <= max; -1 otherwise. */
static int parse_number(const char *s, const char *prefix, unsigned int max)
{
	size_t plen = strlen(prefix);
	unsigned long v;
	char *end;

	if (strncmp(s, prefix, plen) == 0)
		s += plen;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	return (int)v;
}

static int parse_name(const char *name, const char *const *names,
		      size_t count, const char *prefix, unsigned int max)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return parse_number(name, prefix, max);
}

int pm_type_parse(const char *name)
{
	int t = parse_name(name, type_names, ARRAY_LEN(type_names), "type",
			   PERSECMON_REC_TYPE_MAX);

	return t == PERSECMON_REC_INVALID ? -1 : t;
}

int pm_context_parse(const char *name)
{
	return parse_name(name, context_names, ARRAY_LEN(context_names), "ctx",
			  PERSECMON_CTX_MAX);
}

int pm_parse_name_list(const char *list, int (*parse)(const char *name),
		       unsigned int max_bit, uint64_t *mask,
		       char *bad, size_t bad_len)
{
	const char *p = list;
	uint64_t m = 0;

	do {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[64];
		int v;

		if (n == 0 || n >= sizeof(item)) {
			snprintf(bad, bad_len, "%.*s", (int)(n < 32 ? n : 32), p);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		v = parse(item);
		if (v < 0 || (unsigned int)v > max_bit) {
			snprintf(bad, bad_len, "%s", item);
			return -1;
		}
		m |= 1ULL << v;
		p = comma ? comma + 1 : NULL;
	} while (p);
	*mask = m;
	return 0;
}

size_t pm_mask_labels(uint64_t mask,
		      const char *(*lbl)(unsigned int, char *, size_t),
		      char storage[][PM_LABEL_MAX], const char **names)
{
	size_t n = 0;
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		if (!(mask & (1ULL << bit)))
			continue;
		names[n] = lbl(bit, storage[n], PM_LABEL_MAX);
		n++;
	}
	return n;
}
