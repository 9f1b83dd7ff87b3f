// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "persecmon" (version 1): status and control.
 *
 * Every command has its own policy and resv_start_op is 0, so the kernel
 * validates every message strictly: unknown or unexpected attributes,
 * wrong sizes and out-of-range values are refused with an extended-ACK
 * message before a handler runs. Each handler then requires CAP_PERFMON or
 * CAP_SYS_ADMIN of the sending socket (not GENL_ADMIN_PERM, which means
 * CAP_NET_ADMIN); checking there rather than in pre_doit avoids pre_doit's
 * prototype, which differs between 6.1 and 6.12. Commands are serialized by the genetlink mutex
 * (parallel_ops is false). The family exists in the initial network
 * namespace only.
 *
 * TRIGGER is the test group's own command, so this file calls
 * probes/test.h directly: the one place an interface knows a probe.
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/stringify.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "core/agg.h"
#include "core/filter.h"
#include "core/groups.h"
#include "core/session.h"
#include "core/uprobe.h"
#include "iface/genl.h"
#include "probes/test.h"

/* GET_STATUS takes no attributes: every entry is NLA_UNSPEC, refused. */
static const struct nla_policy pm_status_policy[PERSECMON_A_MAX + 1];

static const struct nla_policy pm_group_policy[PERSECMON_A_MAX + 1] = {
	[PERSECMON_A_GROUP] = { .type = NLA_NUL_STRING,
				.len = PM_GROUP_NAME_MAX - 1 },
	[PERSECMON_A_SESSION_ID] = { .type = NLA_U32 },
	[PERSECMON_A_SESSION_TOKEN] = { .type = NLA_U64 },
	[PERSECMON_A_GROUP_HOLD] = { .type = NLA_FLAG },
};

static const struct nla_policy pm_filter_policy[PERSECMON_A_MAX + 1] = {
	[PERSECMON_A_SESSION_ID] = { .type = NLA_U32 },
	[PERSECMON_A_SESSION_TOKEN] = { .type = NLA_U64 },
	[PERSECMON_A_FILTER_TGID] = NLA_POLICY_MIN(NLA_U32, 1),
	[PERSECMON_A_FILTER_CGROUP] = { .type = NLA_U64 },
	[PERSECMON_A_FILTER_INCLUDE_SELF] = { .type = NLA_FLAG },
	[PERSECMON_A_FILTER_QUIET] = { .type = NLA_U64 },
};

/* Not const: 6.1's nla_policy points at it through a non-const pointer. */
static struct netlink_range_validation pm_trigger_count_range = {
	.min = 1,
	.max = PM_TEST_COUNT_MAX,
};

/* AGG_DUMP (name optional) and AGG_RESET (name required). */
static const struct nla_policy pm_agg_policy[PERSECMON_A_MAX + 1] = {
	[PERSECMON_A_AGG_NAME] = { .type = NLA_NUL_STRING,
				   .len = PM_AGG_KEY_MAX - 1 },
};

static const struct nla_policy pm_trigger_policy[PERSECMON_A_MAX + 1] = {
	[PERSECMON_A_TRIGGER_RUN_ID] = { .type = NLA_U64 },
	[PERSECMON_A_TRIGGER_COUNT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &pm_trigger_count_range),
	[PERSECMON_A_TRIGGER_CONTEXTS] =
		NLA_POLICY_MASK(NLA_U32, PM_TEST_CONTEXTS_ALL),
	[PERSECMON_A_TRIGGER_FILL] = NLA_POLICY_MAX(NLA_U32, PM_TEST_FILL_MAX),
};

/* One PERSECMON_A_UPROBE nest (UPROBE_ENABLE). */
static const struct nla_policy pm_uprobe_target_policy[PERSECMON_A_UP_MAX + 1] = {
	[PERSECMON_A_UP_PATH] = { .type = NLA_NUL_STRING,
				  .len = PATH_MAX - 1 },
	[PERSECMON_A_UP_OFFSET] = { .type = NLA_U64 },
	[PERSECMON_A_UP_REF_CTR_OFFSET] = { .type = NLA_U64 },
	[PERSECMON_A_UP_ROLE] = { .type = NLA_U32 },
	[PERSECMON_A_UP_FLAGS] =
		NLA_POLICY_MASK(NLA_U32, PERSECMON_UPROBE_ENTRY |
					 PERSECMON_UPROBE_RETURN |
					 PERSECMON_UPROBE_COUNT),
	[PERSECMON_A_UP_NAME] = { .type = NLA_NUL_STRING,
				  .len = PM_UPROBE_LABEL_MAX - 1 },
	[PERSECMON_A_UP_COOKIE] = { .type = NLA_U64 },
};

static const struct nla_policy pm_uprobe_policy[PERSECMON_A_MAX + 1] = {
	[PERSECMON_A_GROUP] = { .type = NLA_NUL_STRING,
				.len = PM_GROUP_NAME_MAX - 1 },
	[PERSECMON_A_SESSION_ID] = { .type = NLA_U32 },
	[PERSECMON_A_SESSION_TOKEN] = { .type = NLA_U64 },
	[PERSECMON_A_UPROBE] = NLA_POLICY_NESTED(pm_uprobe_target_policy),
};

static struct genl_family pm_genl_family;

static bool pm_netlink_capable(const struct sk_buff *skb,
			       struct netlink_ext_ack *extack)
{
	if (netlink_capable(skb, CAP_PERFMON) ||
	    netlink_capable(skb, CAP_SYS_ADMIN))
		return true;
	NL_SET_ERR_MSG(extack, "persecmon needs CAP_PERFMON or CAP_SYS_ADMIN");
	return false;
}

static bool pm_genl_capable(struct sk_buff *skb, struct genl_info *info)
{
	return pm_netlink_capable(skb, info->extack);
}

/* GET_STATUS */

static int pm_status_probe_size(void *arg, const struct pm_probe_summary *ps)
{
	size_t *size = arg;

	*size += nla_total_size(0) +
		 nla_total_size(strlen(ps->group) + 1) +
		 nla_total_size(strlen(ps->name) + 1) +
		 nla_total_size(strlen(ps->mechanism) + 1) +
		 2 * nla_total_size(sizeof(u32)) +
		 2 * nla_total_size_64bit(sizeof(u64));
	return 0;
}

static size_t pm_status_size(void)
{
	size_t cpu_nest = nla_total_size(0) + nla_total_size(sizeof(u32)) +
			  4 * nla_total_size_64bit(sizeof(u64));
	size_t session_nest = nla_total_size(0) +
			      2 * nla_total_size(sizeof(u32)) +
			      3 * nla_total_size_64bit(sizeof(u64));

	size_t probes = 0;

	pm_probes_for_each(pm_status_probe_size, &probes);
	return 4 * nla_total_size(sizeof(u32)) +
	       nla_total_size(sizeof(PERSECMON_VERSION)) +
	       3 * nla_total_size_64bit(sizeof(u64)) +
	       num_possible_cpus() * cpu_nest +
	       pm_sessions_max() * session_nest + probes +
	       PM_FILTER_TGIDS_MAX * nla_total_size(sizeof(u32)) +
	       nla_total_size_64bit(sizeof(u64));
}

static int pm_status_put_probe(void *arg, const struct pm_probe_summary *ps)
{
	struct sk_buff *msg = arg;
	struct nlattr *nest;

	nest = nla_nest_start(msg, PERSECMON_A_PROBE);
	if (!nest ||
	    nla_put_string(msg, PERSECMON_A_PR_GROUP, ps->group) ||
	    nla_put_string(msg, PERSECMON_A_PR_NAME, ps->name) ||
	    nla_put_string(msg, PERSECMON_A_PR_MECHANISM, ps->mechanism) ||
	    nla_put_u32(msg, PERSECMON_A_PR_ATTACHED, ps->attached) ||
	    nla_put_s32(msg, PERSECMON_A_PR_ERROR, ps->error) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_PR_HITS, ps->hits,
			      PERSECMON_A_PR_PAD) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_PR_MISSED, ps->missed,
			      PERSECMON_A_PR_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int pm_status_put_session(void *arg,
				 const struct pm_session_summary *ss)
{
	struct sk_buff *msg = arg;
	struct nlattr *nest;

	nest = nla_nest_start(msg, PERSECMON_A_SESSION);
	if (!nest ||
	    nla_put_u32(msg, PERSECMON_A_SS_ID, ss->id) ||
	    nla_put_u32(msg, PERSECMON_A_SS_OWNER_TGID, ss->owner_tgid) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_SS_GROUPS, ss->groups,
			      PERSECMON_A_SS_PAD) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_SS_PRODUCED,
			      ss->counts.produced, PERSECMON_A_SS_PAD) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_SS_DROPPED,
			      ss->counts.dropped, PERSECMON_A_SS_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int pm_status_put_cpu(struct sk_buff *msg, unsigned int cpu)
{
	struct pm_counts counts;
	struct nlattr *nest;

	pm_sessions_cpu_counts(cpu, &counts);
	nest = nla_nest_start(msg, PERSECMON_A_CPU_STATS);
	if (!nest ||
	    nla_put_u32(msg, PERSECMON_A_CS_CPU, cpu) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_CS_PRODUCED, counts.produced,
			      PERSECMON_A_CS_PAD) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_CS_WRITTEN, counts.written,
			      PERSECMON_A_CS_PAD) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_CS_DROPPED, counts.dropped,
			      PERSECMON_A_CS_PAD) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_CS_CONSUMED, counts.consumed,
			      PERSECMON_A_CS_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* The global filter: FILTER_TGID (repeated) and FILTER_CGROUP, if set. */
static int pm_status_put_global_filter(struct sk_buff *msg)
{
	struct pm_filter_spec spec;
	unsigned int i;

	if (!pm_global_filter_get(&spec))
		return 0;
	for (i = 0; i < spec.nr_tgids; i++)
		if (nla_put_u32(msg, PERSECMON_A_FILTER_TGID, spec.tgids[i]))
			return -EMSGSIZE;
	if (spec.cgroup_id &&
	    nla_put_u64_64bit(msg, PERSECMON_A_FILTER_CGROUP, spec.cgroup_id,
			      PERSECMON_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static int pm_status_fill(struct sk_buff *msg)
{
	unsigned int cpu;
	int ret;

	if (nla_put_u32(msg, PERSECMON_A_ABI_MAJOR, PERSECMON_ABI_MAJOR) ||
	    nla_put_u32(msg, PERSECMON_A_ABI_MINOR, PERSECMON_ABI_MINOR) ||
	    nla_put_string(msg, PERSECMON_A_MODULE_VERSION, PERSECMON_VERSION) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_DATA_SIZE,
			      pm_session_data_size(), PERSECMON_A_PAD) ||
	    nla_put_u32(msg, PERSECMON_A_SESSIONS, pm_sessions_open()) ||
	    nla_put_u32(msg, PERSECMON_A_MAX_SESSIONS, pm_sessions_max()) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_GROUPS_GLOBAL,
			      pm_groups_global(), PERSECMON_A_PAD) ||
	    nla_put_u64_64bit(msg, PERSECMON_A_GROUPS_ATTACHED,
			      pm_groups_attached(), PERSECMON_A_PAD))
		return -EMSGSIZE;
	ret = pm_status_put_global_filter(msg);
	if (ret)
		return ret;
	for_each_possible_cpu(cpu) {
		ret = pm_status_put_cpu(msg, cpu);
		if (ret)
			return ret;
	}
	ret = pm_sessions_for_each(pm_status_put_session, msg);
	if (ret)
		return ret;
	return pm_probes_for_each(pm_status_put_probe, msg);
}

static int pm_genl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (!pm_genl_capable(skb, info))
		return -EPERM;
	msg = genlmsg_new(pm_status_size(), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &pm_genl_family, 0,
				PERSECMON_CMD_GET_STATUS);
	if (!hdr) {
		ret = -EMSGSIZE;
		goto err;
	}
	ret = pm_status_fill(msg);
	if (ret) {
		GENL_SET_ERR_MSG(info, "status does not fit in one message");
		goto err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
err:
	nlmsg_free(msg);
	return ret;
}

/* Session naming, shared by ENABLE, DISABLE and SET_FILTER. */

struct pm_session_ref {
	bool named;
	u32 id;
	u64 token;
};

static int pm_genl_session_ref(struct genl_info *info,
			       struct pm_session_ref *ref)
{
	struct nlattr *id = info->attrs[PERSECMON_A_SESSION_ID];
	struct nlattr *token = info->attrs[PERSECMON_A_SESSION_TOKEN];

	ref->named = id || token;
	if (!ref->named)
		return 0;
	if (!id || !token) {
		NL_SET_ERR_MSG_ATTR(info->extack, id ?: token,
				    "SESSION_ID and SESSION_TOKEN go together");
		return -EINVAL;
	}
	ref->id = nla_get_u32(id);
	ref->token = nla_get_u64(token);
	return 0;
}

static int pm_genl_session_error(struct genl_info *info, int err)
{
	switch (err) {
	case -ENOENT:
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[PERSECMON_A_SESSION_ID],
				    "no such session");
		break;
	case -EPERM:
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[PERSECMON_A_SESSION_TOKEN],
				    "wrong token for this session");
		break;
	}
	return err;
}

/* ENABLE, DISABLE */

static int pm_genl_set_group(struct sk_buff *skb, struct genl_info *info,
			     bool on)
{
	struct pm_session_ref ref;
	struct nlattr *name;
	int group, ret;

	if (!pm_genl_capable(skb, info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, PERSECMON_A_GROUP)) {
		GENL_SET_ERR_MSG(info, "GROUP attribute missing");
		return -EINVAL;
	}
	name = info->attrs[PERSECMON_A_GROUP];
	group = pm_group_lookup(nla_data(name));
	if (group < 0) {
		NL_SET_ERR_MSG_ATTR(info->extack, name, "unknown group");
		return group;
	}
	ret = pm_genl_session_ref(info, &ref);
	if (ret)
		return ret;

	if (info->attrs[PERSECMON_A_GROUP_HOLD]) {
		if (ref.named) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[PERSECMON_A_GROUP_HOLD],
					    "a hold belongs to the socket, not to a session");
			return -EINVAL;
		}
		if (!on) {
			pm_groups_unhold(genl_info_net(info), info->snd_portid,
					 group);
			return 0;
		}
		ret = pm_groups_hold(genl_info_net(info), info->snd_portid,
				     group);
	} else if (!ref.named) {
		if (!on) {
			pm_groups_global_disable(group);
			return 0;
		}
		ret = pm_groups_global_enable(group);
	} else {
		ret = pm_session_set_group(ref.id, ref.token, group, on);
		if (ret == -ENOENT || ret == -EPERM)
			return pm_genl_session_error(info, ret);
	}
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, name,
				    "attaching the group's probes failed");
	return ret;
}

static int pm_genl_enable(struct sk_buff *skb, struct genl_info *info)
{
	return pm_genl_set_group(skb, info, true);
}

static int pm_genl_disable(struct sk_buff *skb, struct genl_info *info)
{
	return pm_genl_set_group(skb, info, false);
}

/*
 * UPROBE_ENABLE: GROUP, UPROBE nests [, SESSION_ID, SESSION_TOKEN].
 * Validates every target, enables the group for the session (or the
 * global set), then registers the targets; if that fails, an enable done
 * by this request is undone, so the request has no effect.
 */

static int pm_genl_uprobe_spec(struct genl_info *info, struct nlattr *nest,
			       struct pm_uprobe_spec *spec)
{
	static const unsigned int required[] = {
		PERSECMON_A_UP_PATH, PERSECMON_A_UP_OFFSET,
		PERSECMON_A_UP_ROLE, PERSECMON_A_UP_FLAGS,
	};
	struct nlattr *tb[PERSECMON_A_UP_MAX + 1];
	unsigned int i;
	int ret;

	ret = nla_parse_nested(tb, PERSECMON_A_UP_MAX, nest,
			       pm_uprobe_target_policy, info->extack);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(required); i++) {
		if (!tb[required[i]]) {
			NL_SET_ERR_ATTR_MISS(info->extack, nest, required[i]);
			NL_SET_ERR_MSG_ATTR(info->extack, nest,
					    "UPROBE needs PATH, OFFSET, ROLE and FLAGS");
			return -EINVAL;
		}
	}
	spec->path = nla_data(tb[PERSECMON_A_UP_PATH]);
	spec->offset = nla_get_u64(tb[PERSECMON_A_UP_OFFSET]);
	spec->role = nla_get_u32(tb[PERSECMON_A_UP_ROLE]);
	spec->flags = nla_get_u32(tb[PERSECMON_A_UP_FLAGS]);
	if (tb[PERSECMON_A_UP_REF_CTR_OFFSET])
		spec->ref_ctr_offset =
			nla_get_u64(tb[PERSECMON_A_UP_REF_CTR_OFFSET]);
	if (tb[PERSECMON_A_UP_COOKIE])
		spec->cookie = nla_get_u64(tb[PERSECMON_A_UP_COOKIE]);
	if (tb[PERSECMON_A_UP_NAME])
		spec->label = nla_data(tb[PERSECMON_A_UP_NAME]);
	spec->nla = nest;
	return 0;
}

struct pm_genl_group_query {
	u32 id;
	unsigned int group;
	bool enabled;
};

static int pm_genl_group_was_on(void *arg,
				const struct pm_session_summary *ss)
{
	struct pm_genl_group_query *q = arg;

	if (ss->id != q->id)
		return 0;
	q->enabled = ss->groups & BIT_ULL(q->group);
	return 1;	/* found: stop */
}

/* Whether the requester (session or global set) has @group on already. */
static bool pm_genl_group_enabled(const struct pm_session_ref *ref,
				  unsigned int group)
{
	struct pm_genl_group_query q = { .id = ref->id, .group = group };

	if (!ref->named)
		return pm_groups_global() & BIT_ULL(group);
	pm_sessions_for_each(pm_genl_group_was_on, &q);
	return q.enabled;
}

static int pm_genl_uprobe_enable(struct sk_buff *skb, struct genl_info *info)
{
	struct pm_uprobe_spec *specs = NULL;
	struct pm_uprobe_batch batch;
	struct pm_session_ref ref;
	unsigned int nr = 0;
	struct nlattr *name, *nla;
	int group, rem, ret;
	bool was_on;

	if (!pm_genl_capable(skb, info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, PERSECMON_A_GROUP)) {
		GENL_SET_ERR_MSG(info, "GROUP attribute missing");
		return -EINVAL;
	}
	name = info->attrs[PERSECMON_A_GROUP];
	group = pm_group_lookup(nla_data(name));
	if (group < 0) {
		NL_SET_ERR_MSG_ATTR(info->extack, name, "unknown group");
		return group;
	}
	ret = pm_genl_session_ref(info, &ref);
	if (ret)
		return ret;

	nla_for_each_attr(nla, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(nla) == PERSECMON_A_UPROBE)
			nr++;
	}
	if (!nr) {
		GENL_SET_ERR_MSG(info, "UPROBE_ENABLE needs UPROBE targets");
		return -EINVAL;
	}
	if (nr > PM_UPROBE_TARGETS_MAX) {
		GENL_SET_ERR_MSG(info, "too many UPROBE targets (limit "
				 __stringify(PM_UPROBE_TARGETS_MAX) ")");
		return -E2BIG;
	}
	specs = kcalloc(nr, sizeof(*specs), GFP_KERNEL);
	if (!specs)
		return -ENOMEM;
	nr = 0;
	nla_for_each_attr(nla, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(nla) != PERSECMON_A_UPROBE)
			continue;
		ret = pm_genl_uprobe_spec(info, nla, &specs[nr++]);
		if (ret)
			goto out;
	}

	ret = pm_uprobe_prepare(group, specs, nr, &batch, info->extack);
	if (ret)
		goto out;
	was_on = pm_genl_group_enabled(&ref, group);
	if (!ref.named) {
		ret = pm_groups_global_enable(group);
	} else {
		ret = pm_session_set_group(ref.id, ref.token, group, true);
		if (ret == -ENOENT || ret == -EPERM) {
			pm_uprobe_discard(&batch);
			ret = pm_genl_session_error(info, ret);
			goto out;
		}
	}
	if (ret) {
		pm_uprobe_discard(&batch);
		NL_SET_ERR_MSG_ATTR(info->extack, name,
				    "attaching the group's probes failed");
		goto out;
	}
	ret = pm_uprobe_commit(&batch, info->extack);
	if (ret && !was_on) {
		if (ref.named)
			pm_session_set_group(ref.id, ref.token, group, false);
		else
			pm_groups_global_disable(group);
	}
out:
	kfree(specs);
	return ret;
}

/*
 * The global filter outlives the caller, so it names live processes only,
 * by their tgid in the initial pid namespace (what probes compare with);
 * the caller gives them as it sees them.
 */
static int pm_genl_global_tgids(struct genl_info *info,
				struct pm_filter_spec *spec)
{
	struct pid *pid;
	unsigned int i;
	int ret = 0;

	rcu_read_lock();
	for (i = 0; i < spec->nr_tgids; i++) {
		pid = find_vpid(spec->tgids[i]);
		if (!pid || !pid_has_task(pid, PIDTYPE_TGID)) {
			ret = -ESRCH;
			break;
		}
		spec->tgids[i] = pid_nr(pid);
	}
	rcu_read_unlock();
	if (ret)
		GENL_SET_ERR_MSG(info, "FILTER_TGID names no running process");
	return ret;
}

/*
 * SET_FILTER: replaces the session's whole filter or, without a session,
 * the global filter (core/filter.h); one that names nothing removes it.
 */

static int pm_genl_set_filter(struct sk_buff *skb, struct genl_info *info)
{
	struct pm_filter_spec spec = {};
	struct pm_session_ref ref;
	struct nlattr *nla;
	int rem, ret;

	if (!pm_genl_capable(skb, info))
		return -EPERM;
	ret = pm_genl_session_ref(info, &ref);
	if (ret)
		return ret;
	/* FILTER_TGID repeats; attrs[] only holds the last one. */
	nla_for_each_attr(nla, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(nla) != PERSECMON_A_FILTER_TGID)
			continue;
		if (spec.nr_tgids == PM_FILTER_TGIDS_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    "too many FILTER_TGID attributes (limit "
					    __stringify(PM_FILTER_TGIDS_MAX) ")");
			return -E2BIG;
		}
		spec.tgids[spec.nr_tgids++] = nla_get_u32(nla);
	}
	if (info->attrs[PERSECMON_A_FILTER_CGROUP])
		spec.cgroup_id =
			nla_get_u64(info->attrs[PERSECMON_A_FILTER_CGROUP]);
	spec.include_self =
		nla_get_flag(info->attrs[PERSECMON_A_FILTER_INCLUDE_SELF]);
	nla = info->attrs[PERSECMON_A_FILTER_QUIET];
	if (nla) {
		spec.quiet_groups = nla_get_u64(nla);
		if (spec.quiet_groups & ~pm_groups_registered()) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    "FILTER_QUIET names a group this module does not have");
			return -EINVAL;
		}
	}

	if (ref.named) {
		ret = pm_session_set_filter(ref.id, ref.token, &spec);
		return pm_genl_session_error(info, ret);
	}
	nla = info->attrs[PERSECMON_A_FILTER_INCLUDE_SELF] ?:
	      info->attrs[PERSECMON_A_FILTER_QUIET];
	if (nla) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla,
				    "only a session's filter takes FILTER_INCLUDE_SELF or FILTER_QUIET");
		return -EINVAL;
	}
	ret = pm_genl_global_tgids(info, &spec);
	if (ret)
		return ret;
	return pm_global_filter_set(&spec);
}

/* TRIGGER */

static int pm_genl_trigger(struct sk_buff *skb, struct genl_info *info)
{
	struct pm_test_trigger_args args = {};
	struct nlattr *contexts;

	if (!pm_genl_capable(skb, info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, PERSECMON_A_TRIGGER_COUNT) ||
	    GENL_REQ_ATTR_CHECK(info, PERSECMON_A_TRIGGER_CONTEXTS)) {
		GENL_SET_ERR_MSG(info,
				 "TRIGGER needs TRIGGER_COUNT and TRIGGER_CONTEXTS");
		return -EINVAL;
	}
	contexts = info->attrs[PERSECMON_A_TRIGGER_CONTEXTS];
	args.contexts = nla_get_u32(contexts);
	if (!args.contexts) {
		NL_SET_ERR_MSG_ATTR(info->extack, contexts,
				    "no context selected");
		return -EINVAL;
	}
	args.count = nla_get_u32(info->attrs[PERSECMON_A_TRIGGER_COUNT]);
	if (info->attrs[PERSECMON_A_TRIGGER_RUN_ID])
		args.run_id =
			nla_get_u64(info->attrs[PERSECMON_A_TRIGGER_RUN_ID]);
	if (info->attrs[PERSECMON_A_TRIGGER_FILL])
		args.fill = nla_get_u32(info->attrs[PERSECMON_A_TRIGGER_FILL]);
	return pm_test_trigger(&args, info->extack);
}

/*
 * AGG_DUMP: one message per table, each carrying AGG_NAME, AGG_COLUMNS and
 * its rows. A table too large for one message continues in the next one,
 * which repeats AGG_NAME and AGG_COLUMNS.
 *
 * As a netlink dump (NLM_F_DUMP, what persecmon's tools send) the
 * messages are built once, when the dump starts, so the reader gets one
 * consistent view of every table; the kernel then hands them out as the
 * reader drains its socket, and any receive buffer is large enough.
 * Without NLM_F_DUMP (ABI 1.6 and older tools) all messages are sent at
 * once before the ACK, and a socket that cannot hold them all loses some
 * (the reader sees ENOBUFS).
 */

struct pm_agg_dump {
	struct genl_info *info;		/* a request without NLM_F_DUMP */
	struct sk_buff_head *queue;	/* a dump: the messages built */
	u32 portid;
	u32 seq;
	struct pm_agg_table *table;
	struct sk_buff *msg;
	void *hdr;
	unsigned int tables;
};

static int pm_agg_dump_start(struct pm_agg_dump *d)
{
	if (d->queue) {
		/* At most what one dump skb holds (netlink_dump()). */
		d->msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
		if (!d->msg)
			return -ENOMEM;
		d->hdr = genlmsg_put(d->msg, d->portid, d->seq, &pm_genl_family,
				     NLM_F_MULTI, PERSECMON_CMD_AGG_DUMP);
	} else {
		d->msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
		if (!d->msg)
			return -ENOMEM;
		d->hdr = genlmsg_put_reply(d->msg, d->info, &pm_genl_family,
					   0, PERSECMON_CMD_AGG_DUMP);
	}
	if (!d->hdr ||
	    nla_put_string(d->msg, PERSECMON_A_AGG_NAME, d->table->name) ||
	    nla_put_string(d->msg, PERSECMON_A_AGG_COLUMNS,
			   d->table->columns)) {
		nlmsg_free(d->msg);
		d->msg = NULL;
		return -EMSGSIZE;
	}
	return 0;
}

static int pm_agg_dump_flush(struct pm_agg_dump *d)
{
	struct sk_buff *msg = d->msg;

	d->msg = NULL;
	genlmsg_end(msg, d->hdr);
	if (d->queue) {
		__skb_queue_tail(d->queue, msg);
		return 0;
	}
	return genlmsg_reply(msg, d->info);
}

static int pm_agg_dump_put_row(struct sk_buff *msg, const char *key,
			       const u64 *values, unsigned int nr_values)
{
	struct nlattr *nest;

	nest = nla_nest_start(msg, PERSECMON_A_AGG_ROW);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_string(msg, PERSECMON_A_AR_KEY, key) ||
	    nla_put(msg, PERSECMON_A_AR_VALUES, nr_values * sizeof(u64),
		    values)) {
		nla_nest_cancel(msg, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

static int pm_agg_dump_row(void *arg, const char *key, const u64 *values,
			   unsigned int nr_values)
{
	struct pm_agg_dump *d = arg;
	int ret;

	if (!pm_agg_dump_put_row(d->msg, key, values, nr_values))
		return 0;
	/* Full: send what we have and continue the table in a new message. */
	ret = pm_agg_dump_flush(d);
	if (!ret)
		ret = pm_agg_dump_start(d);
	if (!ret)
		ret = pm_agg_dump_put_row(d->msg, key, values, nr_values);
	return ret;
}

static int pm_agg_dump_table(void *arg, struct pm_agg_table *table)
{
	struct pm_agg_dump *d = arg;
	int ret;

	d->table = table;
	d->tables++;
	ret = pm_agg_dump_start(d);
	if (!ret)
		ret = table->rows(pm_agg_dump_row, d);
	if (ret) {
		nlmsg_free(d->msg);
		d->msg = NULL;
		return ret;
	}
	return pm_agg_dump_flush(d);
}

/* Calls pm_agg_dump_table() for the table named @name, or for all. */
static int pm_agg_dump_tables(struct pm_agg_dump *d, struct nlattr *name,
			      struct netlink_ext_ack *extack)
{
	int ret;

	ret = pm_agg_tables_for_each(name ? nla_data(name) : NULL,
				     pm_agg_dump_table, d);
	if (ret) {
		NL_SET_ERR_MSG(extack, "building the aggregate tables failed");
		return ret;
	}
	if (name && !d->tables) {
		NL_SET_ERR_MSG_ATTR(extack, name,
				    "no aggregate table of that name");
		return -ENOENT;
	}
	return 0;
}

static int pm_genl_agg_dump(struct sk_buff *skb, struct genl_info *info)
{
	struct pm_agg_dump d = { .info = info };

	if (!pm_genl_capable(skb, info))
		return -EPERM;
	return pm_agg_dump_tables(&d, info->attrs[PERSECMON_A_AGG_NAME],
				  info->extack);
}

/* The dump's state in the netlink_callback: the messages still to send. */
struct pm_agg_dump_ctx {
	struct sk_buff_head *queue;
};

static struct pm_agg_dump_ctx *pm_agg_dump_ctx(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct pm_agg_dump_ctx) > sizeof(cb->ctx));
	return (struct pm_agg_dump_ctx *)cb->ctx;
}

static int pm_genl_agg_dump_done(struct netlink_callback *cb)
{
	struct pm_agg_dump_ctx *ctx = pm_agg_dump_ctx(cb);

	if (ctx->queue) {
		__skb_queue_purge(ctx->queue);
		kfree(ctx->queue);
		ctx->queue = NULL;
	}
	return 0;
}

static int pm_genl_agg_dump_begin(struct netlink_callback *cb)
{
	struct pm_agg_dump_ctx *ctx = pm_agg_dump_ctx(cb);
	struct pm_agg_dump d = {
		.portid = NETLINK_CB(cb->skb).portid,
		.seq = cb->nlh->nlmsg_seq,
	};
	struct nlattr *name;
	int ret;

	if (!pm_netlink_capable(cb->skb, cb->extack))
		return -EPERM;
	ctx->queue = kmalloc(sizeof(*ctx->queue), GFP_KERNEL);
	if (!ctx->queue)
		return -ENOMEM;
	__skb_queue_head_init(ctx->queue);
	d.queue = ctx->queue;
	name = pm_genl_dump_attrs(cb)[PERSECMON_A_AGG_NAME];
	ret = pm_agg_dump_tables(&d, name, cb->extack);
	if (ret)
		pm_genl_agg_dump_done(cb);
	return ret;
}

/* Moves whole messages into @skb while they fit; 0 once all are sent. */
static int pm_genl_agg_dump_next(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct sk_buff_head *queue = pm_agg_dump_ctx(cb)->queue;
	struct sk_buff *msg;

	while ((msg = skb_peek(queue)) && msg->len <= skb_tailroom(skb)) {
		__skb_unlink(msg, queue);
		skb_put_data(skb, msg->data, msg->len);
		consume_skb(msg);
	}
	if (msg && !skb->len)
		return -EMSGSIZE;	/* cannot happen: built to fit */
	return skb->len;
}

/* AGG_RESET */

static int pm_genl_agg_reset(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *name = info->attrs[PERSECMON_A_AGG_NAME];
	int ret;

	if (!pm_genl_capable(skb, info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, PERSECMON_A_AGG_NAME)) {
		GENL_SET_ERR_MSG(info, "AGG_RESET needs AGG_NAME");
		return -EINVAL;
	}
	ret = pm_agg_table_reset(nla_data(name));
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, name,
				    "no aggregate table of that name");
	return ret;
}

static const struct genl_ops pm_genl_ops[] = {
	{
		.cmd = PERSECMON_CMD_GET_STATUS,
		.doit = pm_genl_get_status,
		.policy = pm_status_policy,
		.maxattr = PERSECMON_A_MAX,
	},
	{
		.cmd = PERSECMON_CMD_ENABLE,
		.doit = pm_genl_enable,
		.policy = pm_group_policy,
		.maxattr = PERSECMON_A_MAX,
	},
	{
		.cmd = PERSECMON_CMD_DISABLE,
		.doit = pm_genl_disable,
		.policy = pm_group_policy,
		.maxattr = PERSECMON_A_MAX,
	},
	{
		.cmd = PERSECMON_CMD_SET_FILTER,
		.doit = pm_genl_set_filter,
		.policy = pm_filter_policy,
		.maxattr = PERSECMON_A_MAX,
	},
	{
		.cmd = PERSECMON_CMD_TRIGGER,
		.doit = pm_genl_trigger,
		.policy = pm_trigger_policy,
		.maxattr = PERSECMON_A_MAX,
	},
	{
		.cmd = PERSECMON_CMD_AGG_DUMP,
		.doit = pm_genl_agg_dump,
		.start = pm_genl_agg_dump_begin,
		.dumpit = pm_genl_agg_dump_next,
		.done = pm_genl_agg_dump_done,
		.policy = pm_agg_policy,
		.maxattr = PERSECMON_A_MAX,
	},
	{
		.cmd = PERSECMON_CMD_AGG_RESET,
		.doit = pm_genl_agg_reset,
		.policy = pm_agg_policy,
		.maxattr = PERSECMON_A_MAX,
	},
	{
		.cmd = PERSECMON_CMD_UPROBE_ENABLE,
		.doit = pm_genl_uprobe_enable,
		.policy = pm_uprobe_policy,
		.maxattr = PERSECMON_A_MAX,
	},
};

static struct genl_family pm_genl_family __ro_after_init = {
	.name = PERSECMON_GENL_NAME,
	.version = PERSECMON_GENL_VERSION,
	.module = THIS_MODULE,
	.ops = pm_genl_ops,
	.n_ops = ARRAY_SIZE(pm_genl_ops),
	/* .resv_start_op = 0: strict validation for every command */
};

/* A closed socket's holds (PERSECMON_A_GROUP_HOLD) go with it. */
static int pm_genl_netlink_event(struct notifier_block *nb,
				 unsigned long state, void *ptr)
{
	struct netlink_notify *n = ptr;

	if (state == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC)
		pm_groups_release_holder(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block pm_genl_netlink_nb = {
	.notifier_call = pm_genl_netlink_event,
};

int pm_genl_init(void)
{
	int ret;

	/* Before the family: no hold may exist that a close would miss. */
	ret = netlink_register_notifier(&pm_genl_netlink_nb);
	if (ret)
		return ret;
	ret = genl_register_family(&pm_genl_family);
	if (ret)
		netlink_unregister_notifier(&pm_genl_netlink_nb);
	return ret;
}

void pm_genl_exit(void)
{
	genl_unregister_family(&pm_genl_family);
	netlink_unregister_notifier(&pm_genl_netlink_nb);
}
