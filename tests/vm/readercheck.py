# SPDX-License-Identifier: GPL-2.0
"""Checks of a `persecmon-read -g test --verify --json` run, shared by the
data-path tests (t10, t17): imported after sys.path.insert(0, TESTS_DIR)."""
import collections
import json


def lossless_summary(text):
    """The reader's --json summary line, which must show a run that lost
    nothing: verify ok, nothing dropped, records = written on every CPU."""
    s = json.loads(text)["summary"]
    assert s["verify"]["ok"], s["verify"]
    assert s["dropped"] == 0, s
    for c in s["cpus"]:
        assert c["records"] == c["written"], c
    return s


def intact_test_events(path, key):
    """How many test records of the --json stream in @path fall on each
    key(record); every one must be intact."""
    per = collections.Counter()
    for line in open(path):
        d = json.loads(line)
        if d["type"] != "test":
            continue
        assert d["intact"] is True, d
        per[key(d)] += 1
    return per
