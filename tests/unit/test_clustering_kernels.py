"""Template mining, clustering and value counting: table cases and real logs, against the
pure-Python reference and the native kernels (through ``headroom._core``)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from headroom import _core, _reference
from headroom.bench.logs import log_lines
from headroom.compressors.logs.clustering import MIN_VALUES, analyse
from tests.conftest import read_bench

IMPLEMENTATIONS = [
    pytest.param(_reference, id="reference"),
    pytest.param(
        _core,
        id="core",
        marks=pytest.mark.skipif(not _core.NATIVE_AVAILABLE, reason="native not built"),
    ),
]

# (templates, keys, starts, min_values, cluster ids, cluster templates); the same table as
# the Rust unit tests.
CLUSTER_CASES: list[tuple[list[str], list[str], list[int], int, list[int], list[str]]] = [
    ([], [], [], 2, [], []),
    (["u alice x", "u bob x", "u carol x", "v x"], [""] * 4, [0] * 4, 3, [0, 0, 0, 1],
     ["u <*> x", "v x"]),
    (["u alice x", "u bob x", "u carol x"], [""] * 3, [0] * 3, 4, [0, 1, 2],
     ["u alice x", "u bob x", "u carol x"]),
    (["u alice x", "u bob x", "u carol x"], ["k", "k", "j"], [0] * 3, 2, [0, 0, 1],
     ["u <*> x", "u carol x"]),
    (["h1 sshd: ok", "h2 sshd: ok", "h3 cron: ok"], [""] * 3, [2] * 3, 9, [0, 0, 0],
     ["h1 sshd: ok"]),
    (["user <*> in", "user a in", "user b in"], [""] * 3, [0] * 3, 2, [0, 0, 0],
     ["user <*> in"]),
    (["user a in", "user b in", "user <*>, in"], [""] * 3, [0] * 3, 2, [0, 0, 1],
     ["user <*> in", "user <*>, in"]),
    (["user a in", "user <*> in"], [""] * 2, [0] * 2, 2, [0, 1], ["user a in", "user <*> in"]),
    (["p: a", "p: b", "p: c"], [""] * 3, [1] * 3, 2, [0, 1, 2], ["p: a", "p: b", "p: c"]),
    (["u a, x", "u b x", "u c x"], [""] * 3, [0] * 3, 2, [0, 1, 1], ["u a, x", "u <*> x"]),
    (["a x", "b x", "b y"], [""] * 3, [0] * 3, 2, [0, 0, 0], ["<*> <*>"]),
    (["a 1", "b 2", "c"], ["", "", "k"], [5, 9, 1], 1, [0, 0, 1], ["a 1", "c"]),
    (["x * y", "x * z", "x * w", "x a q", "x b q", "x c q"], [""] * 6, [0] * 6, 3,
     [0, 0, 0, 1, 1, 1], ["x * <*>", "x <*> q"]),
]  # fmt: skip


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    ("templates", "keys", "starts", "min_values", "ids", "want"),
    CLUSTER_CASES,
    ids=[f"case{i}" for i in range(len(CLUSTER_CASES))],
)
def test_cluster_templates_table(
    impl: ModuleType,
    templates: list[str],
    keys: list[str],
    starts: list[int],
    min_values: int,
    ids: list[int],
    want: list[str],
) -> None:
    assert impl.cluster_templates(templates, keys, starts, min_values) == (ids, want)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_holes_stop_at_the_position_limit(impl: ModuleType) -> None:
    filler = "w " * _reference.HOLE_POSITIONS
    late = [filler + v for v in "abc"]
    assert impl.cluster_templates(late, [""] * 3, [0] * 3, 2)[0] == [0, 1, 2]
    early = [v + " " + filler for v in "abc"]
    assert impl.cluster_templates(early, [""] * 3, [0] * 3, 2)[0] == [0, 0, 0]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_bad_arguments(impl: ModuleType) -> None:
    with pytest.raises(ValueError, match="same length"):
        impl.cluster_templates(["a"], ["k", "j"], [0], 2)
    with pytest.raises(ValueError, match="non-negative"):
        impl.cluster_templates(["a"], ["k"], [-1], 2)
    with pytest.raises(ValueError, match="same length"):
        impl.variable_values(["a 1"], [], [0], 2)
    with pytest.raises(ValueError, match="non-negative"):
        impl.variable_values(["a 1"], [0], [0], -1)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_mine_templates(impl: ModuleType) -> None:
    lines = ["a 1", "b", "a 22", "", "b", "c /x/y", "c /p/q", "a 3\r"]
    assert impl.mine_templates(lines) == (
        [0, 1, 0, 2, 1, 3, 3, 4],
        ["a <*>", "b", "", "c <*>", "a <*>\r"],
        [0, 1, 3, 5, 7],
        [2, 2, 1, 2, 1],
    )


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_variable_values(impl: ModuleType) -> None:
    lines = ["a 1 x /p/q", "b", "a 2 x /p/r", "a 1 x /p/q", "a 3 x /p/s"]
    ids = [0, 1, 0, 0, 0]
    want_0 = [(1, [("1", 2), ("2", 1), ("3", 1)]), (3, [("/p/q", 2), ("/p/r", 1), ("/p/s", 1)])]
    assert impl.variable_values(lines, ids, [0, 1, 7, 0], 2) == [want_0, [], [], want_0]
    assert impl.variable_values(["v 1", "v 2", "v 3", "v 1"], [0] * 4, [0], 0) == [
        [(1, [("1", 2)])]
    ]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_lone_surrogates(impl: ModuleType) -> None:
    lines = ["a\udc80 1", "a\udc80 2", "b"]
    assert impl.mine_templates(lines) == ([0, 0, 1], ["a\udc80 <*>", "b"], [0, 2], [2, 1])
    assert impl.cluster_templates(["\ud800 x", "\ud800 y"], ["", ""], [0, 0], 2) == (
        [0, 0],
        ["\ud800 <*>"],
    )
    assert impl.variable_values(lines, [0, 0, 1], [0], 3) == [[(1, [("1", 1), ("2", 1)])]]


def _events(path: Path) -> list[str]:
    with path.with_name(path.name + "_structured.csv").open(encoding="utf-8", newline="") as f:
        return [row["EventId"] for row in csv.DictReader(f)]


def test_openssh_user_names_become_variables(bench_data: Path) -> None:
    path = bench_data / "loghub" / "OpenSSH_2k.log"
    lines = log_lines(read_bench(path))
    analysis = analyse(lines)
    # 183 masked templates (user names are words), 27 loghub events: clustering gets close.
    assert len(analysis.templates) >= 180
    assert len(analysis.clusters) <= 40
    invalid = [c for c in analysis.clusters if re.search(r"Invalid user <\*> from", c.template)]
    assert invalid and sum(c.count for c in invalid) >= 100


def test_events_with_few_distinct_words_stay_apart(bench_data: Path) -> None:
    path = bench_data / "loghub" / "OpenStack_2k.log"
    lines = log_lines(read_bench(path))
    events = _events(path)
    analysis = analyse(lines)
    events_of_cluster: dict[int, set[str]] = defaultdict(set)
    for line_template, event in zip(analysis.line_templates, events, strict=True):
        events_of_cluster[analysis.template_clusters[line_template]].add(event)
    # "VM Paused" / "VM Resumed" / "VM Stopped" / "VM Started" (E20-E23) stay four clusters.
    lifecycle = [c for c, e in events_of_cluster.items() if e & {"E20", "E21", "E22", "E23"}]
    assert all(len(events_of_cluster[c]) == 1 for c in lifecycle)
    assert MIN_VALUES > 4
