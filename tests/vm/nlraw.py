#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hand-made generic netlink messages for the persecmon family.

Our tools use libnl and only ever send well-formed requests; this sends
what they never would, to check the kernel's side of the contract:

  nlraw.py expect-eperm   every command fails with EPERM (run unprivileged)
  nlraw.py malformed      malformed requests fail with an errno (and an
                          extended-ACK message where the kernel has one);
                          afterwards a well-formed request still works
  nlraw.py agg-dump NAME [--dump] [--rcvbuf BYTES]
                          the rows of aggregate table NAME (AGG_DUMP) as
                          JSON lines {"key": ..., "values": [...]}, after
                          one line {"columns": [...]}; --dump asks for a
                          netlink dump (NLM_F_DUMP), --rcvbuf sets
                          SO_RCVBUF first; a receive buffer overrun fails
                          with ENOBUFS
  nlraw.py memleak-global on [LIBC] | off
                          UPROBE_ENABLE of memleak's malloc and free on
                          our libc (or the copy LIBC: only its users) in
                          the global set (every process), or DISABLE of
                          the group there
  nlraw.py uprobe-cycles N [LIBC]
                          N times: UPROBE_ENABLE of the dns group's three
                          libc functions and of memleak's malloc and free
                          (global set), then DISABLE of both; the probe
                          view must show them attached, then gone. LIBC:
                          a copy of our libc to probe instead (the same
                          offsets; only its users take the breakpoints)

Imported by tests for its helpers (header_enum, Genl, uprobe_target,
libc_offset).
"""
import errno
import os
import re
import socket
import struct
import sys

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NLMSGERR_ATTR_MSG = 1

# From include/uapi/linux/persecmon.h (checked against the header below).
CMD = {"GET_STATUS": 1, "ENABLE": 2, "DISABLE": 3, "SET_FILTER": 4,
       "TRIGGER": 5}
A = {"GROUP": 9, "SESSION_ID": 10, "SESSION_TOKEN": 11, "FILTER_TGID": 12,
     "FILTER_INCLUDE_SELF": 14,
     "TRIGGER_RUN_ID": 15, "TRIGGER_COUNT": 16, "TRIGGER_CONTEXTS": 17,
     "TRIGGER_FILL": 18, "GROUP_HOLD": 27, "FILTER_QUIET": 28}


def check_header_constants():
    """Fail loudly if this file and the ABI header disagree."""
    for table, prefix in ((CMD, "PERSECMON_CMD_"), (A, "PERSECMON_A_")):
        values = header_enum(prefix)
        for name, value in table.items():
            assert values[name] == value, (prefix + name, values[name])


def header_enum(prefix, first="UNSPEC"):
    """{NAME: value} of an enum of the ABI header, from its member
    PREFIX+FIRST on: implicit values count up, "= N" sets them."""
    here = os.path.dirname(os.path.abspath(__file__))
    hdr = open(os.path.join(here, "../../include/uapi/linux/persecmon.h")).read()
    m = re.search(r"^\s*" + prefix + first + r"\b", hdr, re.M)
    if not m:
        raise SystemExit("no %s%s in the header" % (prefix, first))
    values, nxt = {}, 0
    for line in hdr[m.start():].splitlines():
        line = line.strip()
        if line.startswith("__" + prefix) or line.startswith("}"):
            return values
        m = re.match(prefix + r"(\w+)\s*(?:=\s*(\w+))?\s*,", line)
        if m:
            nxt = int(m.group(2), 0) if m.group(2) else nxt
            values[m.group(1)] = nxt
            nxt += 1
    raise SystemExit("no end of enum %s in the header" % prefix)


LIBC = os.path.realpath("/lib/x86_64-linux-gnu/libc.so.6")
UPROBE_ENTRY, UPROBE_RETURN = 1, 2


def libc_offset(name):
    """File offset of libc's @name: where the loader put it, minus its
    mapping, plus the mapping's offset (no ELF parsing of our own)."""
    import ctypes
    addr = ctypes.cast(getattr(ctypes.CDLL("libc.so.6"), name), ctypes.c_void_p).value
    for line in open("/proc/self/maps"):
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if lo <= addr < hi:
            assert os.path.samefile(f[5], LIBC), line
            return addr - lo + int(f[2], 16)
    raise SystemExit("no mapping for %s" % name)


def uprobe_target(path=LIBC, offset=0x1000, role=0,
                  flags=UPROBE_ENTRY | UPROBE_RETURN, extra=b""):
    """One PERSECMON_A_UPROBE nest; None leaves PATH or OFFSET out."""
    up = header_enum("PERSECMON_A_UP_")
    body = b""
    if path is not None:
        body += string(up["PATH"], path)
    if offset is not None:
        body += u64(up["OFFSET"], offset)
    body += u32(up["ROLE"], role) + u32(up["FLAGS"], flags) + extra
    return attr(header_enum("PERSECMON_A_")["UPROBE"] | 0x8000, body)


def attr(atype, payload):
    a = struct.pack("=HH", 4 + len(payload), atype) + payload
    return a + b"\0" * (-len(a) % 4)


def u32(atype, v):
    return attr(atype, struct.pack("=I", v))


def u64(atype, v):
    return attr(atype, struct.pack("=Q", v))


def string(atype, s):
    return attr(atype, s.encode() + b"\0")


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.bind((0, 0))
        self.seq = 1

    def send_raw(self, family, cmd, payload=b"", version=1, reserved=0,
                 length=None, flags=0):
        body = struct.pack("=BBH", cmd, version, reserved) + payload
        n = 16 + len(body) if length is None else length
        self.seq += 1
        msg = struct.pack("=IHHII", n, family, NLM_F_REQUEST | NLM_F_ACK | flags,
                          self.seq, 0) + body
        self.sock.send(msg)
        return self.replies()

    def replies(self):
        """(errno, extack message, data messages) of the reply to the last request."""
        data = []
        while True:
            try:
                buf = self.sock.recv(65536)
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                return e.errno, "receive buffer overrun", data
            off = 0
            while off + 16 <= len(buf):
                ln, typ, flags, seq, _ = struct.unpack_from("=IHHII", buf, off)
                if ln < 16:
                    raise SystemExit("malformed reply from the kernel")
                msg = buf[off:off + ln]
                off += (ln + 3) & ~3
                if seq != self.seq:
                    continue
                if typ == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", msg, 16)[0]
                    return err, self.extack(msg), data
                if typ == NLMSG_DONE:
                    # A dump that failed midway puts its errno here.
                    err = struct.unpack_from("=i", msg, 16)[0] if ln >= 20 else 0
                    return -err if err < 0 else 0, None, data
                data.append(msg)

    @staticmethod
    def extack(msg):
        # After the error code: the request's nlmsghdr, and all of it unless
        # NLM_F_CAPPED (0x100); then the TLVs if NLM_F_ACK_TLVS (0x200).
        flags = struct.unpack_from("=H", msg, 6)[0]
        if not flags & 0x200:
            return None
        inner_len = struct.unpack_from("=I", msg, 20)[0]
        off = 20 + (16 if flags & 0x100 else ((inner_len + 3) & ~3))
        while off + 4 <= len(msg):
            ln, typ = struct.unpack_from("=HH", msg, off)
            if ln < 4:
                break
            if typ == NLMSGERR_ATTR_MSG:
                return msg[off + 4:off + ln].split(b"\0")[0].decode()
            off += (ln + 3) & ~3
        return None

    def family(self, name):
        err, _, data = self.send_raw(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                     string(CTRL_ATTR_FAMILY_NAME, name))
        if err:
            raise SystemExit("family %s: %s" % (name, os.strerror(err)))
        for msg in data:
            off = 20
            while off + 4 <= len(msg):
                ln, typ = struct.unpack_from("=HH", msg, off)
                if typ == CTRL_ATTR_FAMILY_ID:
                    return struct.unpack_from("=H", msg, off + 4)[0]
                off += (ln + 3) & ~3
        raise SystemExit("no family id in the reply")


def expect_eperm(g, fam):
    requests = {
        "GET_STATUS": b"",
        "ENABLE": string(A["GROUP"], "test"),
        "DISABLE": string(A["GROUP"], "test"),
        "SET_FILTER": u32(A["SESSION_ID"], 1) + u64(A["SESSION_TOKEN"], 0),
        "TRIGGER": u32(A["TRIGGER_COUNT"], 1) + u32(A["TRIGGER_CONTEXTS"], 1),
    }
    cmd = header_enum("PERSECMON_CMD_")
    requests = [(name, CMD[name], payload, 0) for name, payload in requests.items()]
    # AGG_DUMP as a request and as a netlink dump: two code paths.
    requests += [("AGG_DUMP", cmd["AGG_DUMP"], b"", 0),
                 ("AGG_DUMP/dump", cmd["AGG_DUMP"], b"", NLM_F_DUMP)]
    bad = 0
    for name, c, payload, flags in requests:
        err, msg, _ = g.send_raw(fam, c, payload, flags=flags)
        print("%-13s -> %s (%s)" % (name, errno.errorcode.get(err, err), msg))
        if err != errno.EPERM:
            bad += 1
    return bad


def malformed(g, fam):
    trig = u32(A["TRIGGER_CONTEXTS"], 1)
    cases = [
        ("unknown command", 99, b"", {}),
        ("ENABLE without GROUP", CMD["ENABLE"], b"", {}),
        ("ENABLE of an unknown group", CMD["ENABLE"], string(A["GROUP"], "nosuchgroup"), {}),
        ("GROUP not NUL-terminated", CMD["ENABLE"], attr(A["GROUP"], b"test"), {}),
        ("GROUP of 300 bytes", CMD["ENABLE"], string(A["GROUP"], "x" * 300), {}),
        ("u32 attribute of 2 bytes", CMD["TRIGGER"],
         attr(A["TRIGGER_COUNT"], b"\1\0") + trig, {}),
        ("attribute type beyond the policy", CMD["GET_STATUS"], u32(250, 1), {}),
        ("attribute longer than the message", CMD["GET_STATUS"],
         struct.pack("=HH", 64, A["GROUP"]) + b"test", {}),
        ("reserved header field set", CMD["GET_STATUS"], b"", {"reserved": 1}),
        ("message shorter than the genl header", CMD["GET_STATUS"], b"", {"length": 18}),
        ("TRIGGER count 0", CMD["TRIGGER"], u32(A["TRIGGER_COUNT"], 0) + trig, {}),
        ("TRIGGER without contexts", CMD["TRIGGER"], u32(A["TRIGGER_COUNT"], 1), {}),
        ("TRIGGER fill beyond a record", CMD["TRIGGER"],
         u32(A["TRIGGER_COUNT"], 1) + trig + u32(A["TRIGGER_FILL"], 1 << 20), {}),
        ("SET_FILTER of a session that does not exist", CMD["SET_FILTER"],
         u32(A["SESSION_ID"], 0x7fffffff) + u64(A["SESSION_TOKEN"], 1), {}),
        # Without a session: the global filter (ABI 1.11), which names
        # running processes only and takes no session-only attribute.
        ("global SET_FILTER of no process", CMD["SET_FILTER"],
         u32(A["FILTER_TGID"], 0x7ffffff0), {"expect": errno.ESRCH}),
        ("global SET_FILTER with FILTER_QUIET", CMD["SET_FILTER"],
         u32(A["FILTER_TGID"], 1) + u64(A["FILTER_QUIET"], 1), {"expect": errno.EINVAL}),
        ("global SET_FILTER with FILTER_INCLUDE_SELF", CMD["SET_FILTER"],
         u32(A["FILTER_TGID"], 1) + attr(A["FILTER_INCLUDE_SELF"], b""),
         {"expect": errno.EINVAL}),
        ("global SET_FILTER of 65 tgids", CMD["SET_FILTER"],
         u32(A["FILTER_TGID"], 1) * 65, {"expect": errno.E2BIG}),
        ("ENABLE GROUP_HOLD for a session", CMD["ENABLE"],
         string(A["GROUP"], "test") + u32(A["SESSION_ID"], 1) + u64(A["SESSION_TOKEN"], 1) +
         attr(A["GROUP_HOLD"], b""), {}),
        ("GROUP_HOLD flag with a payload", CMD["ENABLE"],
         string(A["GROUP"], "test") + attr(A["GROUP_HOLD"], b"\1\0\0\0"), {}),
        ("ENABLE GROUP_HOLD of an unknown group", CMD["ENABLE"],
         string(A["GROUP"], "nosuchgroup") + attr(A["GROUP_HOLD"], b""), {}),
        # Checked before the session is looked up: EINVAL, not ENOENT.
        ("SET_FILTER FILTER_QUIET of no group", CMD["SET_FILTER"],
         u32(A["SESSION_ID"], 0x7fffffff) + u64(A["SESSION_TOKEN"], 1) +
         u64(A["FILTER_QUIET"], 1 << 62), {"expect": errno.EINVAL}),
        ("SET_FILTER FILTER_QUIET as a u32", CMD["SET_FILTER"],
         u32(A["SESSION_ID"], 0x7fffffff) + u64(A["SESSION_TOKEN"], 1) +
         u32(A["FILTER_QUIET"], 1), {"expect": errno.EINVAL}),
    ]
    bad = 0
    for what, cmd, payload, kw in cases:
        expect = kw.pop("expect", None)
        err, msg, _ = g.send_raw(fam, cmd, payload, **kw)
        verdict = "ok" if err else "ACCEPTED"
        if err and expect is not None and err != expect:
            verdict = "WRONG ERRNO (want %s)" % errno.errorcode[expect]
        print("%-45s -> %-12s %s  %s" % (what, errno.errorcode.get(err, err),
                                         verdict, msg or ""))
        if verdict != "ok":
            bad += 1
    err, msg, data = g.send_raw(fam, CMD["GET_STATUS"])
    print("%-45s -> %s, %d reply message(s)" % ("well-formed GET_STATUS afterwards",
                                                 errno.errorcode.get(err, err), len(data)))
    if err or not data:
        bad += 1
    return bad


def nested(msg, off, end):
    """(type, payload) of the attributes in msg[off:end]."""
    while off + 4 <= end:
        ln, typ = struct.unpack_from("=HH", msg, off)
        if ln < 4:
            break
        yield typ & 0x3fff, msg[off + 4:off + ln]
        off += (ln + 3) & ~3


def agg_dump(g, fam, name, *opts):
    """Prints the table's columns and rows; every reply message of a large
    table repeats AGG_NAME and AGG_COLUMNS."""
    import json
    cmd, ar = header_enum("PERSECMON_CMD_"), header_enum("PERSECMON_A_AR_")
    a = header_enum("PERSECMON_A_")
    opts = list(opts)
    flags = 0
    if "--dump" in opts:
        opts.remove("--dump")
        flags = NLM_F_DUMP
    if opts[:1] == ["--rcvbuf"] and len(opts) == 2:
        g.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(opts[1]))
    elif opts:
        raise SystemExit(__doc__)
    err, msg, data = g.send_raw(fam, cmd["AGG_DUMP"], string(a["AGG_NAME"], name),
                                flags=flags)
    if err:
        print("AGG_DUMP %s: %s (%s)" % (name, errno.errorcode.get(err, err), msg))
        return 1
    columns = None
    for m in data:
        for typ, payload in nested(m, 20, len(m)):
            if typ == a["AGG_COLUMNS"] and columns is None:
                columns = payload.rstrip(b"\0").decode().split(",")
                print(json.dumps({"columns": columns}))
            if typ != a["AGG_ROW"]:
                continue
            row = dict(nested(payload, 0, len(payload)))
            values = row[ar["VALUES"]]
            print(json.dumps({
                "key": row[ar["KEY"]].rstrip(b"\0").decode(),
                "values": list(struct.unpack("=%dQ" % (len(values) // 8), values))}))
    return 0


def probes_of(group):
    """The group's uprobes (memleak also has tracepoints, always listed)."""
    return [l for l in open("/sys/kernel/debug/persecmon/probes")
            if l.startswith("group %s " % group) and " mechanism uprobe " in l]


def memleak_targets(path=LIBC):
    alloc = header_enum("PERSECMON_ALLOC_", "MALLOC")
    return [uprobe_target(path, libc_offset("malloc"), alloc["MALLOC"]),
            uprobe_target(path, libc_offset("free"), alloc["FREE"],
                          flags=UPROBE_ENTRY)]


def memleak_global(g, fam, state, path=LIBC):
    """The memleak group on malloc and free, in the global set or not."""
    cmd = header_enum("PERSECMON_CMD_")
    if state == "on":
        err, msg, _ = g.send_raw(fam, cmd["UPROBE_ENABLE"],
                                 string(A["GROUP"], "memleak") + b"".join(memleak_targets(path)))
    elif state == "off":
        err, msg, _ = g.send_raw(fam, CMD["DISABLE"], string(A["GROUP"], "memleak"))
    else:
        raise SystemExit(__doc__)
    if err:
        print("memleak %s: %s (%s)" % (state, errno.errorcode.get(err, err), msg))
    return 1 if err else 0


def uprobe_cycles(g, fam, n, path=LIBC):
    """Register and unregister the same targets @n times, while their
    users call them."""
    cmd = header_enum("PERSECMON_CMD_")
    roles = header_enum("PERSECMON_DNS_", "GETADDRINFO")
    dns = [uprobe_target(path, libc_offset(f.lower()), roles[f])
           for f in ("GETADDRINFO", "GETHOSTBYNAME", "GETHOSTBYNAME2")]
    mem = memleak_targets(path)
    bad = 0
    for i in range(n):
        for group, targets in (("dns", dns), ("memleak", mem)):
            err, msg, _ = g.send_raw(fam, cmd["UPROBE_ENABLE"],
                                     string(A["GROUP"], group) + b"".join(targets))
            attached = [l for l in probes_of(group) if " attached 1 " in l]
            if err or len(attached) != len(targets):
                print("cycle %d: UPROBE_ENABLE %s -> %s (%s), %d of %d attached"
                      % (i, group, errno.errorcode.get(err, err), msg,
                         len(attached), len(targets)))
                bad += 1
        for group in ("dns", "memleak"):
            err, msg, _ = g.send_raw(fam, CMD["DISABLE"], string(A["GROUP"], group))
            if err or probes_of(group):
                print("cycle %d: DISABLE %s -> %s (%s), left: %s"
                      % (i, group, errno.errorcode.get(err, err), msg, probes_of(group)))
                bad += 1
    print("%d register/unregister cycles of %d + %d targets" % (n, len(dns), len(mem)))
    return bad


def main():
    check_header_constants()
    g = Genl()
    fam = g.family("persecmon")
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "expect-eperm":
        bad = expect_eperm(g, fam)
    elif mode == "malformed":
        bad = malformed(g, fam)
    elif mode == "agg-dump" and len(sys.argv) >= 3:
        sys.exit(agg_dump(g, fam, *sys.argv[2:]))
    elif mode == "memleak-global" and len(sys.argv) in (3, 4):
        bad = memleak_global(g, fam, *sys.argv[2:])
    elif mode == "uprobe-cycles" and len(sys.argv) in (3, 4):
        bad = uprobe_cycles(g, fam, int(sys.argv[2]), *sys.argv[3:])
    else:
        raise SystemExit(__doc__)
    print("%d unexpected result(s)" % bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
