"""From log lines to clusters: the native kernels plus one prefix parse per template.

1. ``mine_templates`` (native) masks every line and groups equal templates.
2. For each distinct template, the prefix of its first line is parsed (a few hundred regex
   matches, not one per line): its level, whether it is signal, its component, and the index
   of its first message token.
   Where the format writes its level inside a masked token (an access log's HTTP status),
   the template's lines are split by level first.
3. ``cluster_templates`` (native) merges templates whose messages differ in one word that
   takes many values (user names, hosts). The key ``level | signal | component`` keeps
   levels apart, so a WARN line never hides behind an INFO template.

Example:
    >>> lines = [f"Dec 10 06:55:{i:02d} host sshd[{i}]: Invalid user u{c} from 10.0.0.{i}"
    ...          for i, c in enumerate("abcdef")]
    >>> analysis = analyse(lines)
    >>> len(analysis.clusters), analysis.clusters[0].count, analysis.clusters[0].signal
    (1, 6, True)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Final

from headroom import _core
from headroom.compressors.logs.prefix import (
    Prefix,
    PrefixParser,
    is_signal,
    parse_prefix,
    read_masked_level,
)

__all__ = ["MIN_VALUES", "Analysis", "Cluster", "analyse", "cluster_values"]

MIN_VALUES: Final = 5
"""Distinct words a message position must take to count as a variable. Fewer keep separate
templates apart: ``VM Paused`` / ``VM Resumed`` / ``VM Stopped`` are three events, while a
position that names five different users is a user name."""

_DIGITS: Final = re.compile(r"\d+")
_WILDCARD_TOKEN: Final = "*"


@dataclass(frozen=True, slots=True)
class Cluster:
    """Lines that share one template.

    Attributes:
        template: the masked template (the prefix as in the first line's template).
        start: index of the first message token in ``template``.
        first: index of the cluster's first line in the analysed lines.
        count: how many lines the cluster has.
        level: the normalised level of its lines, if they have one.
        signal: whether its lines are warnings, errors or exceptions.
    """

    template: str
    start: int
    first: int
    count: int
    level: str | None
    signal: bool


@dataclass(frozen=True, slots=True)
class Analysis:
    """The clusters of a list of lines and how to find a line's cluster.

    Attributes:
        clusters: the clusters, numbered by first appearance.
        line_templates: the template id of each line.
        templates: the masked templates.
        template_counts: how many lines have each template.
        template_clusters: the cluster id of each template.
        template_starts: the index of the first message token of each template.
        level_counts: lines per level (``None`` for lines without one).
    """

    clusters: list[Cluster]
    line_templates: list[int]
    templates: list[str]
    template_counts: list[int]
    template_clusters: list[int]
    template_starts: list[int]
    level_counts: Counter[str | None]


def analyse(lines: list[str]) -> Analysis:
    """Cluster log lines.

    Args:
        lines: the lines (continuation lines of stack traces already left out).

    Returns:
        The clusters and per-line bookkeeping.
    """
    line_templates, templates, first_lines, counts = _core.mine_templates(lines)
    parser = PrefixParser()
    prefixes = [parser.parse(lines[first]) for first in first_lines]
    _split_by_level(lines, line_templates, templates, first_lines, counts, prefixes)
    keys: list[str] = []
    starts: list[int] = []
    signals: list[bool] = []
    for first, prefix in zip(first_lines, prefixes, strict=True):
        line = lines[first]
        signal = is_signal(prefix.level, line[prefix.end :])
        component = _DIGITS.sub("#", prefix.component or "")
        keys.append(f"{prefix.level or ''}|{int(signal)}|{component}")
        # Token i of a line is token i of its template, so the count carries over.
        starts.append(len(_core.tokenize(line[: prefix.end])))
        signals.append(signal)
    template_clusters, cluster_templates = _core.cluster_templates(
        templates, keys, starts, MIN_VALUES
    )

    cluster_counts = [0] * len(cluster_templates)
    # The template a cluster's template comes from (its lowest-numbered), and its first line.
    first_template = [-1] * len(cluster_templates)
    first_line = [len(lines)] * len(cluster_templates)
    level_counts: Counter[str | None] = Counter()
    for template, cluster in enumerate(template_clusters):
        cluster_counts[cluster] += counts[template]
        if first_template[cluster] < 0:
            first_template[cluster] = template
        first_line[cluster] = min(first_line[cluster], first_lines[template])
        level_counts[prefixes[template].level] += counts[template]
    clusters = [
        Cluster(
            cluster_templates[cluster],
            starts[template],
            first_line[cluster],
            cluster_counts[cluster],
            prefixes[template].level,
            signals[template],
        )
        for cluster, template in enumerate(first_template)
    ]
    return Analysis(
        clusters,
        line_templates,
        templates,
        counts,
        template_clusters,
        starts,
        level_counts,
    )


def _split_by_level(
    lines: list[str],
    line_templates: list[int],
    templates: list[str],
    first_lines: list[int],
    counts: list[int],
    prefixes: list[Prefix],
) -> None:
    """Give lines of one template but different levels templates of their own, in place.

    Some formats write the level inside a token that masking replaces: the HTTP status of an
    access log, the ``E0115`` of klog, syslog's ``<27>``. A 502 and a 200 then share a
    template, and only the first line's level would be seen. The lines of such templates are
    parsed one by one, and lines whose level differs from the first line's move to new
    templates (numbered after the others).
    """
    masked = {t for t, prefix in enumerate(prefixes) if prefix.masked_level}
    if not masked:
        return
    moved: dict[tuple[int, str | None], int] = {}
    for number, template in enumerate(line_templates):
        if template not in masked:
            continue
        level = read_masked_level(lines[number], prefixes[template].format)
        if level == prefixes[template].level:
            continue
        new = moved.get((template, level))
        if new is None:
            new = moved[(template, level)] = len(templates)
            templates.append(templates[template])
            first_lines.append(number)
            counts.append(0)
            prefixes.append(parse_prefix(lines[number], prefixes[template].format))
        counts[template] -= 1
        counts[new] += 1
        line_templates[number] = new


def cluster_values(
    analysis: Analysis,
    lines: list[str],
    clusters: list[int],
    *,
    max_values: int,
    max_chars: int,
) -> dict[int, list[Counter[str]]]:
    """The values of the clusters' message variables, where there are few.

    The values of masked variables are counted by the native kernel over the lines of the
    clusters' templates; a position where templates were merged takes each template's word.

    Args:
        analysis: the analysis the clusters belong to.
        lines: the analysed lines.
        clusters: the cluster ids to report on.
        max_values: a variable with more distinct values than this is left out.
        max_chars: a variable with a value longer than this is left out.

    Returns:
        For each cluster, for each message variable that takes between 2 and ``max_values``
        values, each no longer than ``max_chars``: how many lines have each value, in
        message order.
    """
    members: dict[int, list[int]] = {cluster: [] for cluster in clusters}
    for template, cluster in enumerate(analysis.template_clusters):
        if cluster in members:
            members[cluster].append(template)
    wanted = [template for cluster in clusters for template in members[cluster]]
    counted = _core.variable_values(lines, analysis.line_templates, wanted, max_values)
    variables = {template: dict(found) for template, found in zip(wanted, counted, strict=True)}
    result: dict[int, list[Counter[str]]] = {}
    for cluster in clusters:
        info = analysis.clusters[cluster]
        message = _core.tokenize(info.template)[info.start :]
        open_positions = {j: Counter[str]() for j, t in enumerate(message) if t == _WILDCARD_TOKEN}
        for template in members[cluster]:
            if not open_positions:
                break
            start = analysis.template_starts[template]
            tokens = _core.tokenize(analysis.templates[template])
            for j in list(open_positions):
                counter = open_positions[j]
                index = start + j
                found = variables[template].get(index)
                if found is not None:
                    counter.update(dict(found))
                    too_many = len(found) > max_values
                elif index < len(tokens):
                    # A merged position: this template has a word there, on all its lines.
                    counter[tokens[index]] += analysis.template_counts[template]
                    too_many = False
                else:
                    too_many = True  # cannot happen for masked templates; be safe
                if (
                    too_many
                    or len(counter) > max_values
                    or any(len(v) > max_chars for v in counter)
                ):
                    del open_positions[j]
        result[cluster] = [counter for counter in open_positions.values() if len(counter) > 1]
    return result
