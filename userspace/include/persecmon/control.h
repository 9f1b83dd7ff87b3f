/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Control of persecmon.ko over its generic netlink family (libnl-genl-3).
 *
 * Every request asks for an ACK and reads until it arrives, so a command
 * either succeeded or returns an error whose message combines errno with
 * the kernel's extended ACK text (NETLINK_EXT_ACK, enabled with
 * setsockopt() because libnl 3.7 has no wrapper for it) and, when the
 * kernel points at an attribute, that attribute's name.
 */
#ifndef PERSECMON_CONTROL_H
#define PERSECMON_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/persecmon.h>

#include "persecmon/error.h"

struct nl_sock;
struct nl_msg;
struct nlattr;
struct nlmsghdr;

/* Replies slower than this are reported instead of waited for forever. */
#define PM_CTL_TIMEOUT_MS	5000
/* Receive buffer asked for (see pm_ctl_open()); 16 MiB. */
#define PM_CTL_RCVBUF		(16 << 20)

struct pm_ctl {
	struct nl_sock *sock;
	int family;
	bool verbose;		/* print kernel ACK warnings to stderr */
};

/* A session to act on; NULL means the global set. */
struct pm_session_ref {
	uint32_t id;
	uint64_t token;
};

struct pm_status_cpu {
	uint32_t cpu;
	uint64_t produced;
	uint64_t written;
	uint64_t dropped;
	uint64_t consumed;
};

struct pm_status_session {
	uint32_t id;
	uint32_t owner_tgid;
	uint64_t groups;
	uint64_t produced;
	uint64_t dropped;
};

/* One probe of one group (PERSECMON_A_PROBE). */
struct pm_status_probe {
	char group[32];
	char name[96];
	char mechanism[16];
	bool attached;
	int32_t error;		/* -errno of the last attach, 0 if none */
	uint64_t hits;
	uint64_t missed;
};

/* Which optional attributes the reply carried. */
enum {
	PM_ST_ABI		= 1 << 0,
	PM_ST_MODULE_VERSION	= 1 << 1,
	PM_ST_DATA_SIZE		= 1 << 2,
	PM_ST_SESSIONS		= 1 << 3,
	PM_ST_MAX_SESSIONS	= 1 << 4,
	PM_ST_GROUPS_GLOBAL	= 1 << 5,
	PM_ST_GROUPS_ATTACHED	= 1 << 6,
	PM_ST_GLOBAL_FILTER	= 1 << 7,	/* one is set (ABI 1.11) */
};

/* Most tgids a filter can name, as the module's PM_FILTER_TGIDS_MAX. */
#define PM_FILTER_TGIDS_MAX	64

struct pm_status {
	unsigned int have;
	uint32_t abi_major;
	uint32_t abi_minor;
	char module_version[64];
	uint64_t data_size;
	uint32_t sessions;
	uint32_t max_sessions;
	uint64_t groups_global;
	uint64_t groups_attached;
	/* The global filter, when PM_ST_GLOBAL_FILTER: 0 / none = any. */
	uint32_t filter_tgids[PM_FILTER_TGIDS_MAX];
	size_t nr_filter_tgids;
	uint64_t filter_cgroup_id;
	struct pm_status_cpu *cpus;
	size_t nr_cpus;
	struct pm_status_session *sessions_list;
	size_t nr_sessions;
	struct pm_status_probe *probes;
	size_t nr_probes;
};

struct pm_filter {
	const uint32_t *tgids;	/* keep only these processes (none: any) */
	size_t nr_tgids;
	uint64_t cgroup_id;	/* 0: any */
	bool include_self;	/* keep the readers' own events */
	/*
	 * Groups (1 << enum persecmon_group) wanted without their records
	 * (ABI 1.5): the module's per-process state, such as the memleak
	 * table, still follows this session.
	 */
	uint64_t quiet_groups;
};

struct pm_trigger {
	uint64_t run_id;
	uint32_t count;		/* events per context per CPU */
	uint32_t contexts;	/* mask of 1 << enum persecmon_context */
	uint32_t fill;		/* fill bytes per event */
};

/* Largest fill a test event can carry and stay within RECORD_MAX. */
#define PM_TRIGGER_FILL_MAX \
	(PERSECMON_RECORD_MAX - (int)sizeof(struct persecmon_test_event))

/*
 * Connect and resolve the family. A missing family is PM_ERR_NO_MODULE.
 */
int pm_ctl_open(struct pm_ctl **out, bool verbose, struct pm_error *err);
void pm_ctl_close(struct pm_ctl *c);

int pm_ctl_get_status(struct pm_ctl *c, struct pm_status *st,
		      struct pm_error *err);
void pm_status_free(struct pm_status *st);

int pm_ctl_set_group(struct pm_ctl *c, const char *group, bool enable,
		     const struct pm_session_ref *session,
		     struct pm_error *err);
/*
 * A hold (PERSECMON_A_GROUP_HOLD): @group stays attached while this
 * control socket holds it, whatever the global set or sessions do, and
 * the kernel lets go when the socket closes (the process ends).
 */
int pm_ctl_hold_group(struct pm_ctl *c, const char *group, bool hold,
		      struct pm_error *err);
int pm_ctl_set_filter(struct pm_ctl *c, const struct pm_session_ref *session,
		      const struct pm_filter *filter, struct pm_error *err);
int pm_ctl_trigger(struct pm_ctl *c, const struct pm_trigger *t,
		   struct pm_error *err);

/*
 * A user-level probe target (PERSECMON_A_UPROBE): a file offset resolved
 * in userspace (elfsym.h), the group's role id and PERSECMON_UPROBE_*.
 */
struct pm_ctl_uprobe {
	const char *path;	/* absolute */
	uint64_t offset;	/* file offset */
	uint64_t ref_ctr_offset;/* USDT semaphore file offset, 0: none */
	uint32_t role;
	uint32_t flags;		/* PERSECMON_UPROBE_ENTRY and/or _RETURN */
	const char *name;	/* symbol or probe name for the views, or NULL */
	uint64_t cookie;	/* handed to the group's handler, 0: none */
};

/* Most targets one request (and one group) can carry. */
#define PM_CTL_UPROBES_MAX	64

/*
 * PERSECMON_CMD_UPROBE_ENABLE: enable @group for @session (NULL: the
 * global set) and register the @n targets with it, all or none.
 */
int pm_ctl_uprobe_enable(struct pm_ctl *c, const char *group,
			 const struct pm_session_ref *session,
			 const struct pm_ctl_uprobe *targets, size_t n,
			 struct pm_error *err);

/*
 * The pieces below are exposed for the unit tests, which exercise them on
 * messages built in memory.
 */
struct nl_msg *pm_ctl_msg_uprobe(int family, const char *group,
				 const struct pm_session_ref *session,
				 const struct pm_ctl_uprobe *targets, size_t n);

/* Request builders; @family is the resolved family id. */
struct nl_msg *pm_ctl_msg_hold(int family, const char *group, bool hold);
struct nl_msg *pm_ctl_msg_group(int family, const char *group, bool enable,
				const struct pm_session_ref *session);
struct nl_msg *pm_ctl_msg_filter(int family,
				 const struct pm_session_ref *session,
				 const struct pm_filter *filter);
struct nl_msg *pm_ctl_msg_trigger(int family, const struct pm_trigger *t);
/* Client-side checks the kernel would also make; 0 or -EINVAL + message. */
int pm_trigger_check(const struct pm_trigger *t, struct pm_error *err);

/* Parse the attributes of a GET_STATUS reply into @st (accumulates). */
int pm_status_parse(struct pm_status *st, struct nlattr *attrs, int len,
		    struct pm_error *err);

/* Extended ACK contents of an NLMSG_ERROR message. */
struct pm_ext_ack {
	int error;		/* negative errno from the kernel, 0 = ACK */
	char msg[256];		/* NLMSGERR_ATTR_MSG, "" if none */
	bool has_offset;
	uint32_t offset;	/* NLMSGERR_ATTR_OFFS */
	bool has_missing;
	uint32_t missing_type;	/* NLMSGERR_ATTR_MISS_TYPE */
};

int pm_ext_ack_parse(const struct nlmsghdr *nlh, struct pm_ext_ack *ack);

/*
 * Turn a failed request into @err: "@what: <errno text>: <kernel message>
 * (attribute X)". @request is the message that was sent (for mapping an
 * attribute offset to its name), or NULL.
 */
int pm_ctl_ack_error(const struct pm_ext_ack *ack, const char *what,
		     struct nl_msg *request, struct pm_error *err);

/*
 * Aggregate tables (PERSECMON_CMD_AGG_DUMP). Each row has one value per
 * column of @columns ("a,b,c"), or 64 log2 slots for "log2:UNIT".
 */
#define PM_AGG_NAME_MAX		64
#define PM_AGG_COLUMNS_MAX	256

struct pm_agg_row {
	char key[PM_AGG_NAME_MAX];
	uint64_t *values;
	size_t nr_values;
};

struct pm_agg_table {
	char name[PM_AGG_NAME_MAX];
	char columns[PM_AGG_COLUMNS_MAX];
	struct pm_agg_row *rows;
	size_t nr_rows;
};

struct pm_agg_set {
	struct pm_agg_table *tables;
	size_t nr_tables;
};

/* @name NULL: every table. An unknown @name fails with ENOENT. */
int pm_ctl_agg_dump(struct pm_ctl *c, const char *name,
		    struct pm_agg_set *set, struct pm_error *err);
int pm_ctl_agg_reset(struct pm_ctl *c, const char *name,
		     struct pm_error *err);
void pm_agg_set_free(struct pm_agg_set *set);
const struct pm_agg_table *pm_agg_find(const struct pm_agg_set *set,
				       const char *name);
/* Index of @column in the table's columns, or -1. */
int pm_agg_column(const struct pm_agg_table *t, const char *column);
/* For the unit tests: request builder and reply parser (accumulates). */
struct nl_msg *pm_ctl_msg_agg(int family, bool reset, const char *name);
int pm_agg_parse(struct pm_agg_set *set, struct nlattr *attrs, int len,
		 struct pm_error *err);

#endif /* PERSECMON_CONTROL_H */
