// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon control, without a socket: the requests it builds, how it
 * parses GET_STATUS replies, and how kernel errors with extended ACKs turn
 * into messages and exit classes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "persecmon/control.h"

#define FAMILY	0x1d

static struct genlmsghdr *genl_of(struct nl_msg *m)
{
	struct nlmsghdr *nlh = nlmsg_hdr(m);

	assert_int_equal(nlh->nlmsg_type, FAMILY);
	assert_true(genlmsg_valid_hdr(nlh, 0));
	return genlmsg_hdr(nlh);
}

static void parse_request(struct nl_msg *m, uint8_t cmd,
			  struct nlattr **tb)
{
	struct genlmsghdr *gh = genl_of(m);

	assert_int_equal(gh->cmd, cmd);
	assert_int_equal(gh->version, PERSECMON_GENL_VERSION);
	assert_int_equal(gh->reserved, 0);
	assert_int_equal(genlmsg_parse(nlmsg_hdr(m), 0, tb, PERSECMON_A_MAX,
				       NULL), 0);
}

static void check_group_requests(void **state)
{
	struct pm_session_ref s = { .id = 5, .token = 0xfeedfacecafebeefULL };
	struct nlattr *tb[PERSECMON_A_MAX + 1];
	struct nl_msg *m;

	(void)state;
	m = pm_ctl_msg_group(FAMILY, "test", true, &s);
	assert_non_null(m);
	parse_request(m, PERSECMON_CMD_ENABLE, tb);
	assert_non_null(tb[PERSECMON_A_GROUP]);
	/* NUL included: the module's policy is NLA_NUL_STRING. */
	assert_int_equal(nla_len(tb[PERSECMON_A_GROUP]), 5);
	assert_string_equal(nla_get_string(tb[PERSECMON_A_GROUP]), "test");
	assert_int_equal(nla_get_u32(tb[PERSECMON_A_SESSION_ID]), 5);
	assert_true(nla_get_u64(tb[PERSECMON_A_SESSION_TOKEN]) == s.token);
	nlmsg_free(m);

	m = pm_ctl_msg_group(FAMILY, "test", false, NULL);
	parse_request(m, PERSECMON_CMD_DISABLE, tb);
	assert_null(tb[PERSECMON_A_SESSION_ID]);
	assert_null(tb[PERSECMON_A_SESSION_TOKEN]);
	assert_null(tb[PERSECMON_A_GROUP_HOLD]);
	nlmsg_free(m);

	/* A hold: the group and the flag, never a session. */
	m = pm_ctl_msg_hold(FAMILY, "vfs", true);
	parse_request(m, PERSECMON_CMD_ENABLE, tb);
	assert_string_equal(nla_get_string(tb[PERSECMON_A_GROUP]), "vfs");
	assert_non_null(tb[PERSECMON_A_GROUP_HOLD]);
	assert_int_equal(nla_len(tb[PERSECMON_A_GROUP_HOLD]), 0);
	assert_null(tb[PERSECMON_A_SESSION_ID]);
	nlmsg_free(m);
	m = pm_ctl_msg_hold(FAMILY, "vfs", false);
	parse_request(m, PERSECMON_CMD_DISABLE, tb);
	assert_non_null(tb[PERSECMON_A_GROUP_HOLD]);
	nlmsg_free(m);
}

static void check_filter_request(void **state)
{
	static const uint32_t tgids[] = { 10, 20, 30 };
	struct pm_session_ref s = { .id = 1, .token = 2 };
	struct pm_filter f = {
		.tgids = tgids, .nr_tgids = 3, .cgroup_id = 99,
		.include_self = true,
		.quiet_groups = 1ULL << PERSECMON_GROUP_MEMLEAK,
	};
	struct nlattr *tb[PERSECMON_A_MAX + 1], *a;
	struct nl_msg *m;
	unsigned int n = 0;
	int rem;

	(void)state;
	m = pm_ctl_msg_filter(FAMILY, &s, &f);
	parse_request(m, PERSECMON_CMD_SET_FILTER, tb);
	/* FILTER_TGID repeats: walk them all. */
	nla_for_each_attr(a, genlmsg_attrdata(genl_of(m), 0),
			  genlmsg_attrlen(genl_of(m), 0), rem)
		if (nla_type(a) == PERSECMON_A_FILTER_TGID)
			assert_int_equal(nla_get_u32(a), tgids[n++]);
	assert_int_equal(n, 3);
	assert_true(nla_get_u64(tb[PERSECMON_A_FILTER_CGROUP]) == 99);
	assert_non_null(tb[PERSECMON_A_FILTER_INCLUDE_SELF]);
	assert_int_equal(nla_len(tb[PERSECMON_A_FILTER_INCLUDE_SELF]), 0);
	assert_true(nla_get_u64(tb[PERSECMON_A_FILTER_QUIET]) ==
		    1ULL << PERSECMON_GROUP_MEMLEAK);
	nlmsg_free(m);

	f = (struct pm_filter){ 0 };
	m = pm_ctl_msg_filter(FAMILY, &s, &f);
	parse_request(m, PERSECMON_CMD_SET_FILTER, tb);
	assert_null(tb[PERSECMON_A_FILTER_TGID]);
	assert_null(tb[PERSECMON_A_FILTER_CGROUP]);
	assert_null(tb[PERSECMON_A_FILTER_INCLUDE_SELF]);
	assert_null(tb[PERSECMON_A_FILTER_QUIET]);
	assert_non_null(tb[PERSECMON_A_SESSION_TOKEN]);
	nlmsg_free(m);

	/* No session: the global filter (ABI 1.11), tgids and cgroup only. */
	f = (struct pm_filter){ .tgids = tgids, .nr_tgids = 1,
				.cgroup_id = 7 };
	m = pm_ctl_msg_filter(FAMILY, NULL, &f);
	parse_request(m, PERSECMON_CMD_SET_FILTER, tb);
	assert_null(tb[PERSECMON_A_SESSION_ID]);
	assert_null(tb[PERSECMON_A_SESSION_TOKEN]);
	assert_int_equal(nla_get_u32(tb[PERSECMON_A_FILTER_TGID]), 10);
	assert_true(nla_get_u64(tb[PERSECMON_A_FILTER_CGROUP]) == 7);
	assert_null(tb[PERSECMON_A_FILTER_INCLUDE_SELF]);
	nlmsg_free(m);
}

static void check_trigger_request(void **state)
{
	struct pm_trigger t = {
		.run_id = 0x123456789aULL, .count = 1000,
		.contexts = 0xf, .fill = 64,
	};
	struct nlattr *tb[PERSECMON_A_MAX + 1];
	struct pm_error err;
	struct nl_msg *m;

	(void)state;
	assert_int_equal(pm_trigger_check(&t, &err), 0);
	m = pm_ctl_msg_trigger(FAMILY, &t);
	parse_request(m, PERSECMON_CMD_TRIGGER, tb);
	assert_true(nla_get_u64(tb[PERSECMON_A_TRIGGER_RUN_ID]) == t.run_id);
	assert_int_equal(nla_get_u32(tb[PERSECMON_A_TRIGGER_COUNT]), 1000);
	assert_int_equal(nla_get_u32(tb[PERSECMON_A_TRIGGER_CONTEXTS]), 0xf);
	assert_int_equal(nla_get_u32(tb[PERSECMON_A_TRIGGER_FILL]), 64);
	nlmsg_free(m);

	t.count = 0;
	assert_int_equal(pm_trigger_check(&t, &err), -EINVAL);
	assert_int_equal(err.kind, PM_ERR_USAGE);
	t.count = 1;
	t.contexts = 0;
	assert_int_equal(pm_trigger_check(&t, &err), -EINVAL);
	t.contexts = 1U << (PERSECMON_CTX_MAX + 1);
	assert_int_equal(pm_trigger_check(&t, &err), -EINVAL);
	t.contexts = 1;
	t.fill = PM_TRIGGER_FILL_MAX + 1;
	assert_int_equal(pm_trigger_check(&t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "max 4032"));
	t.fill = PM_TRIGGER_FILL_MAX;
	assert_int_equal(pm_trigger_check(&t, &err), 0);
}

/* A GET_STATUS reply as the module builds it, with u64 padding. */
static struct nl_msg *status_reply(void)
{
	struct nl_msg *m = nlmsg_alloc();
	struct nlattr *nest;
	unsigned int cpu;

	assert_non_null(genlmsg_put(m, 0, 0, FAMILY, 0, 0,
				    PERSECMON_CMD_GET_STATUS,
				    PERSECMON_GENL_VERSION));
	nla_put_u32(m, PERSECMON_A_ABI_MAJOR, 1);
	nla_put_u32(m, PERSECMON_A_ABI_MINOR, 3);
	nla_put_string(m, PERSECMON_A_MODULE_VERSION, "0.1.0");
	nla_put(m, PERSECMON_A_PAD, 0, NULL);
	nla_put_u64(m, PERSECMON_A_DATA_SIZE, 1 << 20);
	nla_put_u32(m, PERSECMON_A_SESSIONS, 1);
	nla_put_u32(m, PERSECMON_A_MAX_SESSIONS, 8);
	nla_put_u64(m, PERSECMON_A_GROUPS_GLOBAL, 0);
	nla_put_u64(m, PERSECMON_A_GROUPS_ATTACHED, 1);
	for (cpu = 0; cpu < 2; cpu++) {
		nest = nla_nest_start(m, PERSECMON_A_CPU_STATS);
		nla_put_u32(m, PERSECMON_A_CS_CPU, cpu);
		nla_put(m, PERSECMON_A_CS_PAD, 0, NULL);
		nla_put_u64(m, PERSECMON_A_CS_PRODUCED, 100 + cpu);
		nla_put_u64(m, PERSECMON_A_CS_WRITTEN, 90 + cpu);
		nla_put_u64(m, PERSECMON_A_CS_DROPPED, 10);
		nla_put_u64(m, PERSECMON_A_CS_CONSUMED, 80 + cpu);
		nla_put_u32(m, 77, 1);	/* from a newer module */
		nla_nest_end(m, nest);
	}
	nest = nla_nest_start(m, PERSECMON_A_SESSION);
	nla_put_u32(m, PERSECMON_A_SS_ID, 4);
	nla_put_u32(m, PERSECMON_A_SS_OWNER_TGID, 4242);
	nla_put_u64(m, PERSECMON_A_SS_GROUPS, 1);
	nla_put_u64(m, PERSECMON_A_SS_PRODUCED, 500);
	nla_put_u64(m, PERSECMON_A_SS_DROPPED, 7);
	nla_nest_end(m, nest);
	nla_put_u32(m, PERSECMON_A_MAX + 5, 1);	/* newer top-level attribute */
	return m;
}

static int parse_status(struct nl_msg *m, struct pm_status *st,
			struct pm_error *err)
{
	struct genlmsghdr *gh = genl_of(m);

	memset(st, 0, sizeof(*st));
	return pm_status_parse(st, genlmsg_attrdata(gh, 0),
			       genlmsg_attrlen(gh, 0), err);
}

static void check_status_parse(void **state)
{
	struct nl_msg *m = status_reply();
	struct pm_status st;
	struct pm_error err;

	(void)state;
	assert_int_equal(parse_status(m, &st, &err), 0);
	assert_int_equal(st.have, PM_ST_ABI | PM_ST_MODULE_VERSION |
			 PM_ST_DATA_SIZE | PM_ST_SESSIONS | PM_ST_MAX_SESSIONS |
			 PM_ST_GROUPS_GLOBAL | PM_ST_GROUPS_ATTACHED);
	assert_int_equal(st.abi_major, 1);
	assert_int_equal(st.abi_minor, 3);
	assert_string_equal(st.module_version, "0.1.0");
	assert_int_equal(st.data_size, 1 << 20);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.max_sessions, 8);
	assert_int_equal(st.groups_attached, 1);
	assert_int_equal(st.nr_cpus, 2);
	assert_int_equal(st.cpus[1].cpu, 1);
	assert_int_equal(st.cpus[1].produced, 101);
	assert_int_equal(st.cpus[1].written, 91);
	assert_int_equal(st.cpus[1].dropped, 10);
	assert_int_equal(st.cpus[1].consumed, 81);
	assert_int_equal(st.nr_sessions, 1);
	assert_int_equal(st.sessions_list[0].id, 4);
	assert_int_equal(st.sessions_list[0].owner_tgid, 4242);
	assert_int_equal(st.sessions_list[0].produced, 500);
	assert_int_equal(st.sessions_list[0].dropped, 7);
	pm_status_free(&st);
	nlmsg_free(m);
}

/* GET_STATUS carries the global filter as FILTER_TGID* and FILTER_CGROUP. */
static void check_status_global_filter(void **state)
{
	struct nl_msg *m = status_reply();
	struct pm_status st;
	struct pm_error err;
	uint32_t i;

	(void)state;
	assert_int_equal(parse_status(m, &st, &err), 0);
	assert_false(st.have & PM_ST_GLOBAL_FILTER);
	assert_int_equal(st.nr_filter_tgids, 0);
	pm_status_free(&st);
	nla_put_u32(m, PERSECMON_A_FILTER_TGID, 300);
	nla_put_u32(m, PERSECMON_A_FILTER_TGID, 301);
	nla_put_u64(m, PERSECMON_A_FILTER_CGROUP, 0x1234);
	assert_int_equal(parse_status(m, &st, &err), 0);
	assert_true(st.have & PM_ST_GLOBAL_FILTER);
	assert_int_equal(st.nr_filter_tgids, 2);
	assert_int_equal(st.filter_tgids[0], 300);
	assert_int_equal(st.filter_tgids[1], 301);
	assert_true(st.filter_cgroup_id == 0x1234);
	pm_status_free(&st);
	nlmsg_free(m);

	/* A cgroup alone is a filter too. */
	m = status_reply();
	nla_put_u64(m, PERSECMON_A_FILTER_CGROUP, 9);
	assert_int_equal(parse_status(m, &st, &err), 0);
	assert_true(st.have & PM_ST_GLOBAL_FILTER);
	assert_int_equal(st.nr_filter_tgids, 0);
	pm_status_free(&st);
	nlmsg_free(m);

	/* More tgids than the module can hold is a malformed reply. */
	m = status_reply();
	for (i = 0; i <= PM_FILTER_TGIDS_MAX; i++)
		nla_put_u32(m, PERSECMON_A_FILTER_TGID, 1000 + i);
	assert_int_equal(parse_status(m, &st, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "filter tgids"));
	pm_status_free(&st);
	nlmsg_free(m);
}

static void check_status_rejects_bad_lengths(void **state)
{
	struct nl_msg *m = nlmsg_alloc();
	struct pm_status st;
	struct pm_error err;
	struct nlattr *nest;

	(void)state;
	genlmsg_put(m, 0, 0, FAMILY, 0, 0, PERSECMON_CMD_GET_STATUS, 1);
	nla_put_u64(m, PERSECMON_A_ABI_MAJOR, 1);	/* should be u32 */
	assert_int_equal(parse_status(m, &st, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "attribute 1 has length 8"));
	pm_status_free(&st);
	nlmsg_free(m);

	m = nlmsg_alloc();
	genlmsg_put(m, 0, 0, FAMILY, 0, 0, PERSECMON_CMD_GET_STATUS, 1);
	nest = nla_nest_start(m, PERSECMON_A_CPU_STATS);
	nla_put_u32(m, PERSECMON_A_CS_PRODUCED, 1);	/* should be u64 */
	nla_nest_end(m, nest);
	assert_int_equal(parse_status(m, &st, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "CPU_STATS attribute 2 has length 4"));
	pm_status_free(&st);
	nlmsg_free(m);
}

/* An NLMSG_ERROR as the kernel sends it, TLVs optional. */
static struct nl_msg *error_msg(int error, bool capped, const char *text,
				int offset, int missing)
{
	static const uint8_t echoed[20] = { 1, 2, 3 };
	struct nl_msg *m = nlmsg_alloc_simple(NLMSG_ERROR, 0);
	struct nlmsgerr e = { .error = error };
	struct nlmsghdr *nlh;

	e.msg.nlmsg_len = NLMSG_HDRLEN + (capped ? 0 : sizeof(echoed));
	e.msg.nlmsg_type = FAMILY;
	assert_int_equal(nlmsg_append(m, &e, sizeof(e), NLMSG_ALIGNTO), 0);
	if (!capped)
		assert_int_equal(nlmsg_append(m, (void *)echoed, sizeof(echoed),
					      NLMSG_ALIGNTO), 0);
	nlh = nlmsg_hdr(m);
	if (capped)
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	if (text || offset >= 0 || missing >= 0)
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	if (text)
		nla_put_string(m, NLMSGERR_ATTR_MSG, text);
	if (offset >= 0)
		nla_put_u32(m, NLMSGERR_ATTR_OFFS, (uint32_t)offset);
	if (missing >= 0)
		nla_put_u32(m, NLMSGERR_ATTR_MISS_TYPE, (uint32_t)missing);
	return m;
}

static void check_ext_ack_parse(void **state)
{
	struct pm_ext_ack ack;
	struct nl_msg *m;

	(void)state;
	m = error_msg(-EINVAL, true, "unknown group", 28, -1);
	assert_int_equal(pm_ext_ack_parse(nlmsg_hdr(m), &ack), 0);
	assert_int_equal(ack.error, -EINVAL);
	assert_string_equal(ack.msg, "unknown group");
	assert_true(ack.has_offset);
	assert_int_equal(ack.offset, 28);
	assert_false(ack.has_missing);
	nlmsg_free(m);

	/* Uncapped: the echoed request sits between error and TLVs. */
	m = error_msg(-ENODATA, false, "group \"test\" is enabled neither", -1,
		      PERSECMON_A_TRIGGER_COUNT);
	assert_int_equal(pm_ext_ack_parse(nlmsg_hdr(m), &ack), 0);
	assert_int_equal(ack.error, -ENODATA);
	assert_string_equal(ack.msg, "group \"test\" is enabled neither");
	assert_false(ack.has_offset);
	assert_true(ack.has_missing);
	assert_int_equal(ack.missing_type, PERSECMON_A_TRIGGER_COUNT);
	nlmsg_free(m);

	/* No TLVs (a kernel without extended ACKs). */
	m = error_msg(-EPERM, false, NULL, -1, -1);
	assert_int_equal(pm_ext_ack_parse(nlmsg_hdr(m), &ack), 0);
	assert_int_equal(ack.error, -EPERM);
	assert_string_equal(ack.msg, "");
	nlmsg_free(m);

	/* Too short to hold an error header. */
	m = nlmsg_alloc_simple(NLMSG_ERROR, 0);
	assert_int_equal(pm_ext_ack_parse(nlmsg_hdr(m), &ack), -EBADMSG);
	nlmsg_free(m);
}

static void check_error_messages(void **state)
{
	struct nl_msg *req = pm_ctl_msg_group(FAMILY, "nosuch", true, NULL);
	struct nlmsghdr *nlh = nlmsg_hdr(req);
	struct pm_ext_ack ack = { .error = -ENOENT };
	struct nlattr *group;
	struct pm_error err;

	(void)state;
	group = nlmsg_find_attr(nlh, GENL_HDRLEN, PERSECMON_A_GROUP);
	assert_non_null(group);
	snprintf(ack.msg, sizeof(ack.msg), "unknown group");
	ack.has_offset = true;
	ack.offset = (uint32_t)((char *)group - (char *)nlh);
	assert_int_equal(pm_ctl_ack_error(&ack, "enable group 'nosuch'", req,
					  &err), -ENOENT);
	assert_int_equal(err.kind, PM_ERR_RUNTIME);
	assert_string_equal(err.msg,
		"enable group 'nosuch': No such file or directory: unknown group (attribute GROUP)");
	assert_int_equal(pm_error_exit_code(&err), PM_EXIT_RUNTIME);

	/* An offset beyond the request names nothing. */
	ack.offset = 4000;
	pm_ctl_ack_error(&ack, "x", req, &err);
	assert_string_equal(err.msg, "x: No such file or directory: unknown group");

	ack = (struct pm_ext_ack){ .error = -EPERM };
	snprintf(ack.msg, sizeof(ack.msg),
		 "persecmon needs CAP_PERFMON or CAP_SYS_ADMIN");
	assert_int_equal(pm_ctl_ack_error(&ack, "trigger", NULL, &err), -EPERM);
	assert_int_equal(err.kind, PM_ERR_PERMISSION);
	assert_int_equal(pm_error_exit_code(&err), PM_EXIT_PERMISSION);
	assert_non_null(strstr(err.msg, "trigger: Operation not permitted: persecmon needs CAP_PERFMON"));

	ack = (struct pm_ext_ack){ .error = -EINVAL, .has_missing = true,
				   .missing_type = PERSECMON_A_TRIGGER_COUNT };
	pm_ctl_ack_error(&ack, "trigger", NULL, &err);
	assert_string_equal(err.msg,
		"trigger: Invalid argument (missing attribute TRIGGER_COUNT)");
	nlmsg_free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_group_requests),
		cmocka_unit_test(check_filter_request),
		cmocka_unit_test(check_trigger_request),
		cmocka_unit_test(check_status_parse),
		cmocka_unit_test(check_status_global_filter),
		cmocka_unit_test(check_status_rejects_bad_lengths),
		cmocka_unit_test(check_ext_ack_parse),
		cmocka_unit_test(check_error_messages),
	};

	return cmocka_run_group_tests_name("lib_control", tests, NULL, NULL);
}
