// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "persecmon/control.h"
#include "persecmon/names.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* ------------------------------------------------------------------ */
/* Extended ACKs                                                       */

int pm_ext_ack_parse(const struct nlmsghdr *nlh, struct pm_ext_ack *ack)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const struct nlmsgerr *e;
	size_t off;

	memset(ack, 0, sizeof(*ack));
	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
		return -EBADMSG;
	e = NLMSG_DATA(nlh);
	ack->error = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;

	/* TLVs follow the error header and, unless capped, the echoed request. */
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*e));
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return -EBADMSG;
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	}
	if (off >= nlh->nlmsg_len)
		return 0;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlh + off),
		      (int)(nlh->nlmsg_len - off), NULL) < 0)
		return -EBADMSG;
	if (tb[NLMSGERR_ATTR_MSG] && nla_len(tb[NLMSGERR_ATTR_MSG]) > 0)
		snprintf(ack->msg, sizeof(ack->msg), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS] && nla_len(tb[NLMSGERR_ATTR_OFFS]) == 4) {
		ack->has_offset = true;
		ack->offset = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE] &&
	    nla_len(tb[NLMSGERR_ATTR_MISS_TYPE]) == 4) {
		ack->has_missing = true;
		ack->missing_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	}
	return 0;
}

static const char *attr_label(unsigned int type, char *buf, size_t len)
{
	const char *name = pm_attr_name(type);

	if (name)
		return name;
	snprintf(buf, len, "#%u", type);
	return buf;
}

static const char *errno_hint(int errnum)
{
	switch (errnum) {
	case EPERM:
	case EACCES:
		return " (run as root: CAP_PERFMON or CAP_SYS_ADMIN is required)";
	case EOPNOTSUPP:
		return " (the loaded module does not support this request)";
	default:
		return "";
	}
}

/*
 * An offset inside the n-th PERSECMON_A_UPROBE nest of @nlh (whose
 * attributes have their own numbering) as " (attribute UPROBE #n UP_X)";
 * false if the offset is not inside one.
 */
static bool uprobe_attr_where(const struct nlmsghdr *nlh, uint32_t offset,
			      char *where, size_t len)
{
	static const char *const up_names[] = {
		[PERSECMON_A_UP_PATH] = "UP_PATH",
		[PERSECMON_A_UP_OFFSET] = "UP_OFFSET",
		[PERSECMON_A_UP_REF_CTR_OFFSET] = "UP_REF_CTR_OFFSET",
		[PERSECMON_A_UP_ROLE] = "UP_ROLE",
		[PERSECMON_A_UP_FLAGS] = "UP_FLAGS",
		[PERSECMON_A_UP_NAME] = "UP_NAME",
		[PERSECMON_A_UP_COOKIE] = "UP_COOKIE",
	};
	const char *base = (const char *)nlh;
	const struct nlattr *a, *in;
	int rem, irem, n = 0;
	uint32_t start;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return false;
	nla_for_each_attr(a, (struct nlattr *)(base + NLMSG_HDRLEN +
					       GENL_HDRLEN),
			  (int)(nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN),
			  rem) {
		if (nla_type(a) != PERSECMON_A_UPROBE)
			continue;
		n++;
		start = (uint32_t)((const char *)a - base);
		if (offset < start || offset >= start + (uint32_t)a->nla_len)
			continue;
		if (offset == start) {
			snprintf(where, len, " (attribute UPROBE #%d)", n);
			return true;
		}
		nla_for_each_nested(in, (struct nlattr *)a, irem) {
			unsigned int t = nla_type(in);

			if ((uint32_t)((const char *)in - base) != offset)
				continue;
			if (t < sizeof(up_names) / sizeof(up_names[0]) &&
			    up_names[t])
				snprintf(where, len,
					 " (attribute UPROBE #%d %s)", n,
					 up_names[t]);
			else
				snprintf(where, len,
					 " (attribute UPROBE #%d #%u)", n, t);
			return true;
		}
		snprintf(where, len, " (attribute UPROBE #%d)", n);
		return true;
	}
	return false;
}

int pm_ctl_ack_error(const struct pm_ext_ack *ack, const char *what,
		     struct nl_msg *request, struct pm_error *err)
{
	int errnum = ack->error < 0 ? -ack->error : EPROTO;
	char where[96] = "", buf[16];

	if (ack->has_offset && request) {
		const struct nlmsghdr *nlh = nlmsg_hdr(request);

		if ((uint64_t)ack->offset + NLA_HDRLEN <= nlh->nlmsg_len) {
			const struct nlattr *a =
				(const void *)((const char *)nlh + ack->offset);

			if (!uprobe_attr_where(nlh, ack->offset, where,
					       sizeof(where)))
				snprintf(where, sizeof(where),
					 " (attribute %s)",
					 attr_label(a->nla_type & NLA_TYPE_MASK,
						    buf, sizeof(buf)));
		}
	} else if (ack->has_missing) {
		snprintf(where, sizeof(where), " (missing attribute %s)",
			 attr_label(ack->missing_type, buf, sizeof(buf)));
	}
	return pm_error_set(err, pm_err_kind_from_errno(errnum), errnum,
			    "%s: %s%s%s%s%s", what, strerror(errnum),
			    ack->msg[0] ? ": " : "", ack->msg, where,
			    ack->msg[0] ? "" : errno_hint(errnum));
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static struct nl_msg *msg_new(int family, uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	if (!m)
		return NULL;
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd,
			 PERSECMON_GENL_VERSION)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

static int put_session(struct nl_msg *m, const struct pm_session_ref *s)
{
	if (!s)
		return 0;
	if (nla_put_u32(m, PERSECMON_A_SESSION_ID, s->id) < 0 ||
	    nla_put_u64(m, PERSECMON_A_SESSION_TOKEN, s->token) < 0)
		return -EMSGSIZE;
	return 0;
}

/* ENABLE/DISABLE of @group for @session, the global set, or a @hold. */
static struct nl_msg *msg_group(int family, const char *group, bool enable,
				const struct pm_session_ref *session,
				bool hold)
{
	struct nl_msg *m = msg_new(family, enable ? PERSECMON_CMD_ENABLE :
						  PERSECMON_CMD_DISABLE);

	if (m && (nla_put_string(m, PERSECMON_A_GROUP, group) < 0 ||
		  put_session(m, session) < 0 ||
		  (hold && nla_put_flag(m, PERSECMON_A_GROUP_HOLD) < 0))) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

struct nl_msg *pm_ctl_msg_group(int family, const char *group, bool enable,
				const struct pm_session_ref *session)
{
	return msg_group(family, group, enable, session, false);
}

struct nl_msg *pm_ctl_msg_hold(int family, const char *group, bool hold)
{
	return msg_group(family, group, hold, NULL, true);
}

struct nl_msg *pm_ctl_msg_filter(int family,
				 const struct pm_session_ref *session,
				 const struct pm_filter *filter)
{
	struct nl_msg *m = msg_new(family, PERSECMON_CMD_SET_FILTER);
	size_t i;

	if (!m)
		return NULL;
	if (put_session(m, session) < 0)
		goto fail;
	for (i = 0; i < filter->nr_tgids; i++)
		if (nla_put_u32(m, PERSECMON_A_FILTER_TGID,
				filter->tgids[i]) < 0)
			goto fail;
	if (filter->cgroup_id &&
	    nla_put_u64(m, PERSECMON_A_FILTER_CGROUP, filter->cgroup_id) < 0)
		goto fail;
	if (filter->include_self &&
	    nla_put_flag(m, PERSECMON_A_FILTER_INCLUDE_SELF) < 0)
		goto fail;
	if (filter->quiet_groups &&
	    nla_put_u64(m, PERSECMON_A_FILTER_QUIET, filter->quiet_groups) < 0)
		goto fail;
	return m;
fail:
	nlmsg_free(m);
	return NULL;
}

struct nl_msg *pm_ctl_msg_uprobe(int family, const char *group,
				 const struct pm_session_ref *session,
				 const struct pm_ctl_uprobe *targets, size_t n)
{
	size_t i, size = 256 + strlen(group);
	struct nlattr *nest;
	struct nl_msg *m;

	for (i = 0; i < n; i++)
		size += 128 + strlen(targets[i].path) +
			(targets[i].name ? strlen(targets[i].name) : 0);
	m = nlmsg_alloc_size(size);
	if (!m)
		return NULL;
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 PERSECMON_CMD_UPROBE_ENABLE, PERSECMON_GENL_VERSION) ||
	    nla_put_string(m, PERSECMON_A_GROUP, group) < 0 ||
	    put_session(m, session) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct pm_ctl_uprobe *t = &targets[i];

		nest = nla_nest_start(m, PERSECMON_A_UPROBE);
		if (!nest ||
		    nla_put_string(m, PERSECMON_A_UP_PATH, t->path) < 0 ||
		    nla_put_u64(m, PERSECMON_A_UP_OFFSET, t->offset) < 0 ||
		    nla_put_u32(m, PERSECMON_A_UP_ROLE, t->role) < 0 ||
		    nla_put_u32(m, PERSECMON_A_UP_FLAGS, t->flags) < 0 ||
		    (t->ref_ctr_offset &&
		     nla_put_u64(m, PERSECMON_A_UP_REF_CTR_OFFSET,
				 t->ref_ctr_offset) < 0) ||
		    (t->name &&
		     nla_put_string(m, PERSECMON_A_UP_NAME, t->name) < 0) ||
		    (t->cookie &&
		     nla_put_u64(m, PERSECMON_A_UP_COOKIE, t->cookie) < 0))
			goto fail;
		nla_nest_end(m, nest);
	}
	return m;
fail:
	nlmsg_free(m);
	return NULL;
}

int pm_trigger_check(const struct pm_trigger *t, struct pm_error *err)
{
	if (t->count == 0)
		return pm_error_set(err, PM_ERR_USAGE, EINVAL,
				    "trigger count must be at least 1");
	if (t->contexts == 0 || t->contexts >> (PERSECMON_CTX_MAX + 1))
		return pm_error_set(err, PM_ERR_USAGE, EINVAL,
				    "trigger contexts mask 0x%x names no or unknown contexts",
				    t->contexts);
	if (t->fill > PM_TRIGGER_FILL_MAX)
		return pm_error_set(err, PM_ERR_USAGE, EINVAL,
				    "fill of %u bytes does not fit a %d-byte record (max %d)",
				    t->fill, PERSECMON_RECORD_MAX,
				    PM_TRIGGER_FILL_MAX);
	return 0;
}

struct nl_msg *pm_ctl_msg_trigger(int family, const struct pm_trigger *t)
{
	struct nl_msg *m = msg_new(family, PERSECMON_CMD_TRIGGER);

	if (m && (nla_put_u64(m, PERSECMON_A_TRIGGER_RUN_ID, t->run_id) < 0 ||
		  nla_put_u32(m, PERSECMON_A_TRIGGER_COUNT, t->count) < 0 ||
		  nla_put_u32(m, PERSECMON_A_TRIGGER_CONTEXTS, t->contexts) < 0 ||
		  nla_put_u32(m, PERSECMON_A_TRIGGER_FILL, t->fill) < 0)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

/* ------------------------------------------------------------------ */
/* Status replies                                                      */

static int bad_attr(struct pm_error *err, const char *outer, unsigned int type,
		    int len)
{
	return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
			    "malformed status reply: %s attribute %u has length %d",
			    outer, type, len);
}

static int get_u32(const struct nlattr *a, uint32_t *v, const char *outer,
		   struct pm_error *err)
{
	if (nla_len(a) != 4)
		return bad_attr(err, outer, nla_type(a), nla_len(a));
	*v = nla_get_u32((struct nlattr *)a);
	return 0;
}

static int get_u64(const struct nlattr *a, uint64_t *v, const char *outer,
		   struct pm_error *err)
{
	if (nla_len(a) != 8)
		return bad_attr(err, outer, nla_type(a), nla_len(a));
	*v = nla_get_u64((struct nlattr *)a);
	return 0;
}

static int parse_cpu_stats(struct pm_status *st, struct nlattr *nest,
			   struct pm_error *err)
{
	struct pm_status_cpu c = { 0 }, *grown;
	struct nlattr *a;
	int rem, ret = 0;

	nla_for_each_nested(a, nest, rem) {
		switch (nla_type(a)) {
		case PERSECMON_A_CS_CPU:
			ret = get_u32(a, &c.cpu, "CPU_STATS", err);
			break;
		case PERSECMON_A_CS_PRODUCED:
			ret = get_u64(a, &c.produced, "CPU_STATS", err);
			break;
		case PERSECMON_A_CS_WRITTEN:
			ret = get_u64(a, &c.written, "CPU_STATS", err);
			break;
		case PERSECMON_A_CS_DROPPED:
			ret = get_u64(a, &c.dropped, "CPU_STATS", err);
			break;
		case PERSECMON_A_CS_CONSUMED:
			ret = get_u64(a, &c.consumed, "CPU_STATS", err);
			break;
		default:	/* padding, or newer than this tool */
			break;
		}
		if (ret < 0)
			return ret;
	}
	grown = realloc(st->cpus, (st->nr_cpus + 1) * sizeof(*grown));
	if (!grown)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	st->cpus = grown;
	st->cpus[st->nr_cpus++] = c;
	return 0;
}

static int parse_session(struct pm_status *st, struct nlattr *nest,
			 struct pm_error *err)
{
	struct pm_status_session s = { 0 }, *grown;
	struct nlattr *a;
	int rem, ret = 0;

	nla_for_each_nested(a, nest, rem) {
		switch (nla_type(a)) {
		case PERSECMON_A_SS_ID:
			ret = get_u32(a, &s.id, "SESSION", err);
			break;
		case PERSECMON_A_SS_OWNER_TGID:
			ret = get_u32(a, &s.owner_tgid, "SESSION", err);
			break;
		case PERSECMON_A_SS_GROUPS:
			ret = get_u64(a, &s.groups, "SESSION", err);
			break;
		case PERSECMON_A_SS_PRODUCED:
			ret = get_u64(a, &s.produced, "SESSION", err);
			break;
		case PERSECMON_A_SS_DROPPED:
			ret = get_u64(a, &s.dropped, "SESSION", err);
			break;
		default:
			break;
		}
		if (ret < 0)
			return ret;
	}
	grown = realloc(st->sessions_list,
			(st->nr_sessions + 1) * sizeof(*grown));
	if (!grown)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	st->sessions_list = grown;
	st->sessions_list[st->nr_sessions++] = s;
	return 0;
}

static void get_str(const struct nlattr *a, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)strnlen(nla_data(a), nla_len(a)),
		 (const char *)nla_data(a));
}

static int parse_probe(struct pm_status *st, struct nlattr *nest,
		       struct pm_error *err)
{
	struct pm_status_probe p = { 0 }, *grown;
	uint32_t attached = 0, error = 0;
	struct nlattr *a;
	int rem, ret = 0;

	nla_for_each_nested(a, nest, rem) {
		switch (nla_type(a)) {
		case PERSECMON_A_PR_GROUP:
			get_str(a, p.group, sizeof(p.group));
			break;
		case PERSECMON_A_PR_NAME:
			get_str(a, p.name, sizeof(p.name));
			break;
		case PERSECMON_A_PR_MECHANISM:
			get_str(a, p.mechanism, sizeof(p.mechanism));
			break;
		case PERSECMON_A_PR_ATTACHED:
			ret = get_u32(a, &attached, "PROBE", err);
			break;
		case PERSECMON_A_PR_ERROR:
			ret = get_u32(a, &error, "PROBE", err);
			break;
		case PERSECMON_A_PR_HITS:
			ret = get_u64(a, &p.hits, "PROBE", err);
			break;
		case PERSECMON_A_PR_MISSED:
			ret = get_u64(a, &p.missed, "PROBE", err);
			break;
		default:
			break;
		}
		if (ret < 0)
			return ret;
	}
	p.attached = attached != 0;
	p.error = (int32_t)error;
	grown = realloc(st->probes, (st->nr_probes + 1) * sizeof(*grown));
	if (!grown)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	st->probes = grown;
	st->probes[st->nr_probes++] = p;
	return 0;
}

int pm_status_parse(struct pm_status *st, struct nlattr *attrs, int len,
		    struct pm_error *err)
{
	struct nlattr *a;
	int rem, ret = 0;

	nla_for_each_attr(a, attrs, len, rem) {
		switch (nla_type(a)) {
		case PERSECMON_A_ABI_MAJOR:
			ret = get_u32(a, &st->abi_major, "status", err);
			st->have |= PM_ST_ABI;
			break;
		case PERSECMON_A_ABI_MINOR:
			ret = get_u32(a, &st->abi_minor, "status", err);
			break;
		case PERSECMON_A_MODULE_VERSION:
			snprintf(st->module_version, sizeof(st->module_version),
				 "%.*s", nla_len(a), (const char *)nla_data(a));
			st->have |= PM_ST_MODULE_VERSION;
			break;
		case PERSECMON_A_DATA_SIZE:
			ret = get_u64(a, &st->data_size, "status", err);
			st->have |= PM_ST_DATA_SIZE;
			break;
		case PERSECMON_A_SESSIONS:
			ret = get_u32(a, &st->sessions, "status", err);
			st->have |= PM_ST_SESSIONS;
			break;
		case PERSECMON_A_MAX_SESSIONS:
			ret = get_u32(a, &st->max_sessions, "status", err);
			st->have |= PM_ST_MAX_SESSIONS;
			break;
		case PERSECMON_A_GROUPS_GLOBAL:
			ret = get_u64(a, &st->groups_global, "status", err);
			st->have |= PM_ST_GROUPS_GLOBAL;
			break;
		case PERSECMON_A_GROUPS_ATTACHED:
			ret = get_u64(a, &st->groups_attached, "status", err);
			st->have |= PM_ST_GROUPS_ATTACHED;
			break;
		case PERSECMON_A_CPU_STATS:
			ret = parse_cpu_stats(st, a, err);
			break;
		case PERSECMON_A_SESSION:
			ret = parse_session(st, a, err);
			break;
		case PERSECMON_A_PROBE:
			ret = parse_probe(st, a, err);
			break;
		case PERSECMON_A_FILTER_TGID:
			if (st->nr_filter_tgids == PM_FILTER_TGIDS_MAX)
				return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
						    "malformed status reply: over %d filter tgids",
						    PM_FILTER_TGIDS_MAX);
			ret = get_u32(a, &st->filter_tgids[st->nr_filter_tgids],
				      "status", err);
			st->nr_filter_tgids++;
			st->have |= PM_ST_GLOBAL_FILTER;
			break;
		case PERSECMON_A_FILTER_CGROUP:
			ret = get_u64(a, &st->filter_cgroup_id, "status", err);
			st->have |= PM_ST_GLOBAL_FILTER;
			break;
		default:
			break;
		}
		if (ret < 0)
			return ret;
	}
	if (rem > 0)
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "malformed status reply: %d trailing bytes",
				    rem);
	return 0;
}

void pm_status_free(struct pm_status *st)
{
	free(st->cpus);
	free(st->sessions_list);
	free(st->probes);
	memset(st, 0, sizeof(*st));
}

/* ------------------------------------------------------------------ */
/* Transport                                                           */

struct reply {
	bool done;
	bool failed;
	bool verbose;
	struct pm_ext_ack ack;
	struct pm_status *status;	/* GET_STATUS only */
	/* Other replies: parse(parse_arg, attributes) for each message. */
	int (*parse)(void *arg, struct nlattr *attrs, int len,
		     struct pm_error *err);
	void *parse_arg;
	struct pm_error *err;
	int parse_ret;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh;

	if (!r->status && !r->parse)
		return NL_OK;
	if (!genlmsg_valid_hdr(nlh, 0)) {
		r->parse_ret = pm_error_set(r->err, PM_ERR_RUNTIME, EPROTO,
					    "malformed reply from the persecmon module");
		return NL_STOP;
	}
	gh = genlmsg_hdr(nlh);
	if (r->parse)
		r->parse_ret = r->parse(r->parse_arg, genlmsg_attrdata(gh, 0),
					genlmsg_attrlen(gh, 0), r->err);
	else
		r->parse_ret = pm_status_parse(r->status,
					       genlmsg_attrdata(gh, 0),
					       genlmsg_attrlen(gh, 0), r->err);
	return r->parse_ret < 0 ? NL_STOP : NL_OK;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;
	struct pm_ext_ack ack;

	/* A successful request may still carry a warning. */
	if (pm_ext_ack_parse(nlmsg_hdr(msg), &ack) == 0 && ack.msg[0] &&
	    r->verbose)
		fprintf(stderr, "persecmon: kernel says: %s\n", ack.msg);
	r->done = true;
	return NL_STOP;
}

/* NLMSG_DONE ends a dump; a dump that failed midway says so in it. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	const struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct reply *r = arg;
	int error;

	r->done = true;
	if (nlmsg_datalen(nlh) >= (int)sizeof(error)) {
		memcpy(&error, nlmsg_data(nlh), sizeof(error));
		if (error < 0) {
			memset(&r->ack, 0, sizeof(r->ack));
			r->ack.error = error;
			r->failed = true;
		}
	}
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct reply *r = arg;
	/* libnl hands over the payload; its header sits right before it. */
	const struct nlmsghdr *nlh =
		(const void *)((const char *)e - NLMSG_HDRLEN);

	(void)nla;
	if (pm_ext_ack_parse(nlh, &r->ack) < 0)
		r->ack.error = e->error;
	r->failed = true;
	r->done = true;
	return NL_STOP;
}

static int nl_error(int nlerr, const char *what, struct pm_error *err)
{
	if (nlerr == -NLE_PERM)
		return pm_error_set(err, PM_ERR_PERMISSION, EPERM,
				    "%s: %s%s", what, nl_geterror(nlerr),
				    errno_hint(EPERM));
	return pm_error_set(err, PM_ERR_RUNTIME, EIO, "%s: %s", what,
			    nl_geterror(nlerr));
}

static int transact_parse(struct pm_ctl *c, struct nl_msg *msg,
			  const char *what, struct pm_status *status,
			  int (*parse)(void *arg, struct nlattr *attrs, int len,
				       struct pm_error *err),
			  void *parse_arg, struct pm_error *err)
{
	struct reply r = {
		.verbose = c->verbose, .status = status, .err = err,
		.parse = parse, .parse_arg = parse_arg,
	};
	struct nl_cb *cb;
	int ret;

	if (!msg)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "%s: cannot build the request", what);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &r);

	ret = nl_send_auto(c->sock, msg);
	if (ret < 0) {
		ret = nl_error(ret, what, err);
		goto out;
	}
	ret = 0;
	while (!r.done) {
		int n = nl_recvmsgs_report(c->sock, cb);

		if (r.parse_ret < 0) {
			ret = r.parse_ret;
			goto out;
		}
		if (r.failed)
			break;
		if (n == 0 || n == -NLE_AGAIN) {
			ret = pm_error_set(err, PM_ERR_RUNTIME, ETIMEDOUT,
					   "%s: no reply from the persecmon module within %d ms",
					   what, PM_CTL_TIMEOUT_MS);
			goto out;
		}
		if (n == -NLE_NOMEM) {
			/* recvmsg() said ENOBUFS: replies were dropped. */
			ret = pm_error_set(err, PM_ERR_RUNTIME, ENOBUFS,
					   "%s: the module's replies overran this socket's receive buffer (asked for %d bytes; without CAP_NET_ADMIN net.core.rmem_max caps it)",
					   what, PM_CTL_RCVBUF);
			goto out;
		}
		if (n < 0) {
			ret = nl_error(n, what, err);
			goto out;
		}
	}
	if (r.failed)
		ret = pm_ctl_ack_error(&r.ack, what, msg, err);
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return ret;
}

static int transact(struct pm_ctl *c, struct nl_msg *msg, const char *what,
		    struct pm_status *status, struct pm_error *err)
{
	return transact_parse(c, msg, what, status, NULL, NULL, err);
}

/* ------------------------------------------------------------------ */
/* Public calls                                                        */

int pm_ctl_open(struct pm_ctl **out, bool verbose, struct pm_error *err)
{
	struct timeval tv = {
		.tv_sec = PM_CTL_TIMEOUT_MS / 1000,
		.tv_usec = PM_CTL_TIMEOUT_MS % 1000 * 1000,
	};
	struct pm_ctl *c;
	int one = 1, rcvbuf = PM_CTL_RCVBUF, fd, ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	c->verbose = verbose;
	c->sock = nl_socket_alloc();
	if (!c->sock) {
		free(c);
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	}
	ret = genl_connect(c->sock);
	if (ret < 0) {
		ret = nl_error(ret, "cannot open a generic netlink socket", err);
		goto fail;
	}
	fd = nl_socket_get_fd(c->sock);
	/*
	 * Extended ACKs carry the kernel's reason for a rejection; capped ACKs
	 * leave out the echoed request. Kernels without either still work.
	 */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/*
	 * AGG_DUMP replies all arrive before we read one: a large table (the
	 * kernel's outstanding allocations, up to thousands of stacks) needs
	 * megabytes of receive buffer. Root may go past rmem_max.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	c->family = genl_ctrl_resolve(c->sock, PERSECMON_GENL_NAME);
	if (c->family < 0) {
		if (c->family == -NLE_OBJ_NOTFOUND)
			ret = pm_error_set(err, PM_ERR_NO_MODULE, ENOENT,
					   "generic netlink family '%s' is not registered: the persecmon module is not loaded (try: modprobe persecmon)",
					   PERSECMON_GENL_NAME);
		else
			ret = nl_error(c->family,
				       "cannot resolve the persecmon netlink family",
				       err);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	nl_socket_free(c->sock);
	free(c);
	return ret;
}

void pm_ctl_close(struct pm_ctl *c)
{
	if (!c)
		return;
	nl_socket_free(c->sock);
	free(c);
}

int pm_ctl_get_status(struct pm_ctl *c, struct pm_status *st,
		      struct pm_error *err)
{
	memset(st, 0, sizeof(*st));
	return transact(c, msg_new(c->family, PERSECMON_CMD_GET_STATUS),
			"get status", st, err);
}

int pm_ctl_set_group(struct pm_ctl *c, const char *group, bool enable,
		     const struct pm_session_ref *session,
		     struct pm_error *err)
{
	char what[128];

	snprintf(what, sizeof(what), "%s group '%s'%s",
		 enable ? "enable" : "disable", group,
		 session ? " for this session" : "");
	return transact(c, pm_ctl_msg_group(c->family, group, enable, session),
			what, NULL, err);
}

int pm_ctl_hold_group(struct pm_ctl *c, const char *group, bool hold,
		      struct pm_error *err)
{
	char what[128];

	snprintf(what, sizeof(what), "%s group '%s'",
		 hold ? "hold" : "release the hold on", group);
	return transact(c, pm_ctl_msg_hold(c->family, group, hold), what, NULL,
			err);
}

int pm_ctl_set_filter(struct pm_ctl *c, const struct pm_session_ref *session,
		      const struct pm_filter *filter, struct pm_error *err)
{
	return transact(c, pm_ctl_msg_filter(c->family, session, filter),
			session ? "set the session filter" :
				  "set the global filter", NULL, err);
}

int pm_ctl_uprobe_enable(struct pm_ctl *c, const char *group,
			 const struct pm_session_ref *session,
			 const struct pm_ctl_uprobe *targets, size_t n,
			 struct pm_error *err)
{
	char what[96];

	if (n == 0 || n > PM_CTL_UPROBES_MAX)
		return pm_error_set(err, PM_ERR_USAGE, EINVAL,
				    "%zu uprobe targets for group %s (1 to %d)",
				    n, group, PM_CTL_UPROBES_MAX);
	snprintf(what, sizeof(what), "attach uprobes of group %s", group);
	return transact(c, pm_ctl_msg_uprobe(c->family, group, session,
					     targets, n),
			what, NULL, err);
}

int pm_ctl_trigger(struct pm_ctl *c, const struct pm_trigger *t,
		   struct pm_error *err)
{
	int ret = pm_trigger_check(t, err);

	if (ret < 0)
		return ret;
	return transact(c, pm_ctl_msg_trigger(c->family, t), "trigger request", NULL,
			err);
}

/* ------------------------------------------------------------------ */
/* Aggregate tables (AGG_DUMP, AGG_RESET)                              */

static int agg_parse_row(struct pm_agg_table *t, struct nlattr *nest,
			 struct pm_error *err)
{
	struct nlattr *tb[PERSECMON_A_AR_MAX + 1];
	struct pm_agg_row *rows, *row;
	int len;

	if (nla_parse_nested(tb, PERSECMON_A_AR_MAX, nest, NULL) < 0 ||
	    !tb[PERSECMON_A_AR_KEY] || !tb[PERSECMON_A_AR_VALUES])
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "malformed aggregate row in table %s",
				    t->name);
	len = nla_len(tb[PERSECMON_A_AR_VALUES]);
	if (len % (int)sizeof(uint64_t))
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "aggregate row values of %d bytes in table %s",
				    len, t->name);
	rows = realloc(t->rows, (t->nr_rows + 1) * sizeof(*rows));
	if (!rows)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	t->rows = rows;
	row = &rows[t->nr_rows];
	memset(row, 0, sizeof(*row));
	row->nr_values = (size_t)len / sizeof(uint64_t);
	row->values = malloc(len ? (size_t)len : 1);
	if (!row->values)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	memcpy(row->values, nla_data(tb[PERSECMON_A_AR_VALUES]), len);
	snprintf(row->key, sizeof(row->key), "%.*s",
		 nla_len(tb[PERSECMON_A_AR_KEY]),
		 (const char *)nla_data(tb[PERSECMON_A_AR_KEY]));
	t->nr_rows++;
	return 0;
}

int pm_agg_parse(struct pm_agg_set *set, struct nlattr *attrs, int len,
		 struct pm_error *err)
{
	struct pm_agg_table *t = NULL, *tables;
	struct nlattr *a;
	char name[PM_AGG_NAME_MAX];
	int rem, ret;

	nla_for_each_attr(a, attrs, len, rem) {
		switch (nla_type(a)) {
		case PERSECMON_A_AGG_NAME:
			snprintf(name, sizeof(name), "%.*s", nla_len(a),
				 (const char *)nla_data(a));
			/* A large table continues in the next message. */
			t = set->nr_tables ?
				&set->tables[set->nr_tables - 1] : NULL;
			if (t && !strcmp(t->name, name))
				break;
			tables = realloc(set->tables, (set->nr_tables + 1) *
						      sizeof(*tables));
			if (!tables)
				return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
						    "out of memory");
			set->tables = tables;
			t = &tables[set->nr_tables++];
			memset(t, 0, sizeof(*t));
			snprintf(t->name, sizeof(t->name), "%s", name);
			break;
		case PERSECMON_A_AGG_COLUMNS:
			if (!t)
				goto malformed;
			snprintf(t->columns, sizeof(t->columns), "%.*s",
				 nla_len(a), (const char *)nla_data(a));
			break;
		case PERSECMON_A_AGG_ROW:
			if (!t)
				goto malformed;
			ret = agg_parse_row(t, a, err);
			if (ret < 0)
				return ret;
			break;
		default:
			/* Newer modules may add attributes: skip them. */
			break;
		}
	}
	return 0;
malformed:
	return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
			    "malformed aggregate reply: data before AGG_NAME");
}

static int agg_parse_cb(void *arg, struct nlattr *attrs, int len,
			struct pm_error *err)
{
	return pm_agg_parse(arg, attrs, len, err);
}

struct nl_msg *pm_ctl_msg_agg(int family, bool reset, const char *name)
{
	struct nl_msg *m = msg_new(family, reset ? PERSECMON_CMD_AGG_RESET :
						   PERSECMON_CMD_AGG_DUMP);

	if (m && name && nla_put_string(m, PERSECMON_A_AGG_NAME, name) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/*
 * As a netlink dump: the module hands the messages out as we read them,
 * so no table is too large for the socket. A module older than ABI 1.7
 * has no dump for AGG_DUMP (EOPNOTSUPP) and gets the plain request.
 */
int pm_ctl_agg_dump(struct pm_ctl *c, const char *name,
		    struct pm_agg_set *set, struct pm_error *err)
{
	const char *what = "dump the aggregate tables";
	struct nl_msg *m = pm_ctl_msg_agg(c->family, false, name);
	int ret;

	memset(set, 0, sizeof(*set));
	if (m)
		nlmsg_hdr(m)->nlmsg_flags |= NLM_F_DUMP;
	ret = transact_parse(c, m, what, NULL, agg_parse_cb, set, err);
	if (ret != -EOPNOTSUPP || set->nr_tables)
		return ret;
	return transact_parse(c, pm_ctl_msg_agg(c->family, false, name),
			      what, NULL, agg_parse_cb, set, err);
}

int pm_ctl_agg_reset(struct pm_ctl *c, const char *name,
		     struct pm_error *err)
{
	char what[128];

	snprintf(what, sizeof(what), "reset aggregate table '%s'", name);
	return transact(c, pm_ctl_msg_agg(c->family, true, name), what, NULL,
			err);
}

void pm_agg_set_free(struct pm_agg_set *set)
{
	size_t i, j;

	for (i = 0; i < set->nr_tables; i++) {
		for (j = 0; j < set->tables[i].nr_rows; j++)
			free(set->tables[i].rows[j].values);
		free(set->tables[i].rows);
	}
	free(set->tables);
	memset(set, 0, sizeof(*set));
}

const struct pm_agg_table *pm_agg_find(const struct pm_agg_set *set,
				       const char *name)
{
	size_t i;

	for (i = 0; i < set->nr_tables; i++)
		if (!strcmp(set->tables[i].name, name))
			return &set->tables[i];
	return NULL;
}

int pm_agg_column(const struct pm_agg_table *t, const char *column)
{
	size_t want = strlen(column);
	const char *p = t->columns;
	int index = 0;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == want && !strncmp(p, column, n))
			return index;
		p += n;
		if (*p == ',')
			p++;
		index++;
	}
	return -1;
}
