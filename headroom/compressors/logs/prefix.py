"""Parse the prefix of a log line: timestamp, level, component, and where the message starts.

Known formats are tried first, then a generic fallback that takes a leading timestamp and a
level word near the start of the line. :class:`PrefixParser` remembers which formats a log
uses and tries those first. The compressor parses once per distinct masked template, not
once per line.

Levels are normalised to upper case with abbreviations spelled out (``err`` -> ``ERROR``,
Android's ``W`` -> ``WARN``); :func:`severity` ranks them. Lines of formats without a level
(syslog, plain text) have ``level=None``; :data:`SIGNAL_WORDS` decides whether such a line
reads as an error. Access logs take their level from the HTTP status: 5xx is ``ERROR``, 4xx
``WARN``, anything else ``INFO``. The vocabulary (level ranks, error words, exceptions) is
:mod:`headroom.signals`, shared with the router, the JSON crusher and the summarizer.

Example:
    >>> p = parse_prefix("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1")
    >>> p.format, p.level, p.component, p.timestamp
    ('hdfs', 'INFO', 'dfs.DataNode$PacketResponder', '081109 203615')
    >>> "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1"[p.end :]
    'PacketResponder 1'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from headroom._regex import compile_possessive
from headroom.signals import (
    EXCEPTION_RE,
    SEVERITY,
    SIGNAL_RE,
    WARN_SEVERITY,
    has_signal_words,
    names_exception,
)

__all__ = [
    "EXCEPTION_RE",
    "SIGNAL_WORDS",
    "Prefix",
    "PrefixParser",
    "is_signal",
    "normalize_level",
    "parse_prefix",
    "read_masked_level",
    "severity",
]


@dataclass(frozen=True, slots=True)
class Prefix:
    """What the start of a log line says.

    Attributes:
        format: name of the format that matched (``"generic"`` for the fallback).
        end: index in the line where the message starts (0 when the line has no prefix).
        timestamp: the timestamp as written, if any.
        level: normalised level name, if the line has one.
        component: logger, tag, program or class name, if the format has one.
        masked_level: whether the level is read from a token that masking replaces (an
            HTTP status, klog's ``E0115``, syslog's ``<27>``), so that lines with one
            template can have different levels.
    """

    format: str
    end: int
    timestamp: str | None = None
    level: str | None = None
    component: str | None = None
    masked_level: bool = False


# Spelled-out names of abbreviated levels; other level words are only upper-cased.
_LEVEL_NAMES: Final[dict[str, str]] = {
    "V": "VERBOSE",
    "D": "DEBUG",
    "I": "INFO",
    "W": "WARN",
    "E": "ERROR",
    "F": "FATAL",
    "A": "ASSERT",
    "ERR": "ERROR",
    "CRIT": "CRITICAL",
    "EMERG": "EMERGENCY",
}

# syslog PRI: the severity is the low three bits.
_SYSLOG_SEVERITIES: Final = (
    "EMERGENCY",
    "ALERT",
    "CRITICAL",
    "ERROR",
    "WARNING",
    "NOTICE",
    "INFO",
    "DEBUG",
)

SIGNAL_WORDS: Final = SIGNAL_RE
"""Words that make a line without a level read as an error or warning
(:data:`headroom.signals.SIGNAL_RE`)."""

_LEVEL_UP = (
    r"TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|SEVERE|ALERT"
    r"|EMERG|EMERGENCY|PANIC|FINEST|FINER|FINE|CONFIG|VERBOSE"
)
_ISO = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?: ?Z| ?[+-]\d{2}:?\d{2})?"
    r"|\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
)
# A bracketed thread name may hold one level of nested brackets (Zookeeper's
# "QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181").
_NESTED = r"(?:[^\[\]\n]|\[[^\[\]\n]*\])*"

# (name, pattern) in the order they are tried: a pattern that would also match a prefix of
# another format's lines comes after it (log4j's optional parts match the start of Spring
# Boot lines). Each pattern matches the whole prefix, so the match end is where the message
# starts; named groups: ts, level, comp, thread, pri, status.
_FORMATS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (name, compile_possessive(pattern))
    for name, pattern in (
        # 081109 203615 148 INFO dfs.DataNode$PacketResponder: ...
        ("hdfs", rf"(?P<ts>\d{{6}} \d{{6}}) \d+ (?P<level>{_LEVEL_UP}) (?P<comp>[^\s:]+): "),
        # 2024-01-15 10:00:00.123  INFO 12345 --- [main] com.example.App : ...
        (
            "spring",
            rf"(?P<ts>{_ISO})\s+(?P<level>{_LEVEL_UP}) \d+ --- \[\s*(?P<thread>[^\]]*)\]"
            r" (?P<comp>\S+)\s+: ",
        ),
        # 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-...] ...
        # (oslo.log, optionally behind the name of the file it came from)
        (
            "oslo",
            # "\S+\.log\S* " with the run taken possessively: the ".log" is looked for apart.
            rf"(?:(?=\S+?\.log)\S++ )?(?P<ts>{_ISO}) \d+ (?P<level>{_LEVEL_UP}) (?P<comp>[\w.]+) "
            r"(?:\[[^\[\]\n]*\] )?",
        ),
        # 2015-10-18 18:01:47,978 INFO [main] org.apache...MRAppMaster: ...
        # 2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/...:FastLeaderElection@774] - ...
        # 2024-01-15 10:00:00,123 WARNING myapp.db: ...
        (
            "log4j",
            rf"\[?(?P<ts>{_ISO})\]?\s+(?:-\s+)?\[?(?P<level>{_LEVEL_UP})\]?\s+"
            rf"(?:\[(?P<thread>{_NESTED})\]\s+)?(?:-\s+|(?P<comp>[\w.$@-]+):\s)?",
        ),
        # 2024-01-15 10:00:00,123 - myapp.db - WARNING - ...   and   WARNING:root:...
        ("python", rf"(?P<ts>{_ISO}) - (?P<comp>\S+) - (?P<level>{_LEVEL_UP}) - "),
        ("python", r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<comp>[^:\s]*):"),
        # 10:00:00.123 [main] INFO  com.example.App - ...   (logback default)
        (
            "logback",
            rf"(?P<ts>\d{{2}}:\d{{2}}:\d{{2}}[.,]\d+) \[(?P<thread>{_NESTED})\] "
            rf"(?P<level>{_LEVEL_UP})\s+(?P<comp>\S+) - ",
        ),
        # Dec 10 06:55:46 LabSZ sshd[24200]: ...   <34>Oct 11 22:14:15 host su: ...
        # <165>1 2003-10-11T22:14:15.003Z host app - ...   (RFC 5424 without structured data)
        (
            "syslog",
            r"(?:<(?P<pri>\d{1,3})>(?:1 )?)?"
            r"(?P<ts>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}"
            r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) "
            r"(?P<host>\S+) (?P<comp>[^\s:\[]+)(?:\[\d+\])?:? (?:- )?",
        ),
        # 03-17 16:13:38.811  1702  2395 D WindowManager: ...   (Android logcat threadtime)
        (
            "logcat",
            r"(?P<ts>\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3})\s+\d+\s+\d+\s+(?P<level>[VDIWEFA])"
            # The component up to its last non-space before the first ":" ("[^:\n]*?\s*: "
            # retried "\s*" from every character: quadratic in a run of spaces).
            r" (?P<comp>(?:\s*+[^:\s])*+)\s*: ",
        ),
        ("logcat", r"(?P<level>[VDIWEFA])/(?P<comp>[^(\n]+?)\(\s*\d+\): "),
        # [Sun Dec 04 04:47:44 2005] [error] ...   [Wed Oct 11 14:32:52.1 2000] [core:error] ...
        (
            "apache",
            r"\[(?P<ts>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d [\d:.]+ \d{4})\] "
            # "[client 1.2.3.4]" stays in the message: which clients failed is worth listing.
            r"\[(?:(?P<comp>[\w-]+):)?(?P<level>[a-z]+)\d?\] (?:\[pid [^\]\n]*\] )?",
        ),
        # 2024/01/15 10:00:00 [error] 1234#1234: *5 ...   (nginx error log)
        (
            "nginx",
            r"(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?P<level>[a-z]+)\] \d+#\d+: "
            r"(?:\*\d+ )?",
        ),
        # 127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 ...  (access logs)
        (
            "access",
            r"(?P<comp>\S+) \S+ \S+ \[(?P<ts>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}"
            r"(?: [+-]\d{4})?)\] (?=\"(?:[^\"\\\n]|\\.)*\" (?P<status>\d{3})\b)",
        ),
        # - 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 ... INFO ...
        (
            "bgl",
            r"\S+ \d{9,10} \d{4}\.\d{2}\.\d{2} \S+ "
            r"(?P<ts>\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d+) \S+ (?P<comp>[A-Z]+ [A-Z_]+) "
            rf"(?P<level>{_LEVEL_UP}) ",
        ),
        # I0115 10:00:00.123456   12345 controller.go:123] ...   (klog / glog)
        (
            "klog",
            r"(?P<level>[IWEF])(?P<ts>\d{4} \d{2}:\d{2}:\d{2}\.\d+)\s+\d+ "
            r"(?P<comp>[^\]\s]+)\] ",
        ),
    )
)

_FORMAT_NAMES: Final = frozenset(name for name, _ in _FORMATS)
_FORMATS_BY_NAME: Final[dict[str, tuple[re.Pattern[str], ...]]] = {
    name: tuple(p for n, p in _FORMATS if n == name) for name in _FORMAT_NAMES
}

# A container runtime's own prefix in front of the application's line.
_CRI = re.compile(
    r"(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))"
    r" (?:(?:stdout|stderr) [FP] )?"
)
_JSON_LEVEL = re.compile(
    r'"(?:level|severity|lvl|levelname|loglevel|log\.level)"\s*:\s*"(?P<level>[A-Za-z]+)"'
)
_JSON_TS = re.compile(r'"(?:@?timestamp|time|ts|datetime)"\s*:\s*"?(?P<ts>[^",}]+)')
_JSON_COMPONENT = re.compile(r'"(?:logger(?:_name)?|component|module|caller)"\s*:\s*"([^"]*)"')
_LOGFMT_LEVEL = re.compile(r'(?:^|\s)(?:level|lvl|severity)="?(?P<level>[A-Za-z]+)')
_LOGFMT_TS = re.compile(r'(?:^|\s)(?:time|ts|t)="?(?P<ts>[^"\s]+)')
_GENERIC_TS = re.compile(
    rf"\[?(?P<ts>{_ISO}|[A-Z][a-z]{{2}} [ \d]\d \d{{2}}:\d{{2}}:\d{{2}}"
    r"|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?|\d{10}(?:\.\d+)?)\]?\s+"
)
# Level words in upper case, or in lower case inside brackets. Neither pattern starts with a
# look-behind or a word boundary, which lets the regex engine jump to candidate characters;
# the boundary before an upper-case word is checked by hand (see _find_level).
_LEVEL_WORD = re.compile(rf"(?P<level>{_LEVEL_UP})\b[\])>]?:?\s*(?:-\s+)?")
_LEVEL_BRACKETED = re.compile(
    r"\[(?P<level>trace|debug|info|notice|warn|warning|error|fatal|critical)\]\s*"
)
_GENERIC_LEVEL_WINDOW = 80
_LOGFMT_WINDOW = 400

_JSON_LINE = re.compile(r"\s*\{")


def normalize_level(word: str) -> str:
    """The normalised name of a level word.

    >>> normalize_level("err"), normalize_level("W"), normalize_level("warning")
    ('ERROR', 'WARN', 'WARNING')
    """
    upper = word.upper()
    return _LEVEL_NAMES.get(upper, upper)


def severity(level: str | None) -> int:
    """Rank of a normalised level: 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 fatal.

    Unknown or missing levels rank as info.

    >>> severity("WARN"), severity("FATAL"), severity(None)
    (3, 5, 2)
    """
    return SEVERITY.get(level, 2) if level else 2


def is_signal(level: str | None, message: str) -> bool:
    """Whether a line is signal: WARN or worse, an exception, or error words without a level.

    >>> is_signal("INFO", "took 3 ms"), is_signal("WARN", "slow"), is_signal(None, "failed")
    (False, True, True)
    >>> is_signal("INFO", "java.io.IOException: closed")
    True
    """
    if level is not None and severity(level) >= WARN_SEVERITY:
        return True
    if names_exception(message):
        return True
    return level is None and has_signal_words(message)


def parse_prefix(line: str, hint: str | None = None) -> Prefix:
    """Parse the prefix of one log line, trying every known format.

    Args:
        line: the line (a trailing ``"\r"`` is fine).
        hint: the format of a neighbouring line, tried first.

    Returns:
        The parsed prefix; a ``"generic"`` prefix when no known format matches.

    Example:
        >>> parse_prefix("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user admin").component
        'sshd'
    """
    return _parse(line, (hint,) if hint else (), search_all=True)


class PrefixParser:
    """Parses the prefixes of one log's lines, learning which formats the log uses.

    The first ``sample`` lines are matched against every known format; after that only the
    formats seen so far are tried (most recent first), then the generic fallback. A log
    rarely starts using a new format late, and a log of a format Headroom does not know would
    otherwise pay for a dozen failed matches per line.

    Example:
        >>> parser = PrefixParser()
        >>> parser.parse("081109 203615 148 INFO dfs.DataNode: x").format
        'hdfs'
    """

    def __init__(self, sample: int = 32) -> None:
        self._sample = sample
        self._seen: list[str] = []

    def parse(self, line: str) -> Prefix:
        """Parse the prefix of one line."""
        search_all = self._sample > 0
        self._sample -= 1
        prefix = _parse(line, self._seen, search_all=search_all)
        if prefix.format in _FORMAT_NAMES and self._seen[:1] != [prefix.format]:
            if prefix.format in self._seen:
                self._seen.remove(prefix.format)
            self._seen.insert(0, prefix.format)
        return prefix


def _parse(
    line: str, preferred: Sequence[str], *, search_all: bool, container: bool = True
) -> Prefix:
    if _JSON_LINE.match(line):
        return _parse_json(line)
    # One container runtime prefix at most: peeling them one by one copied the rest of the
    # line each time (quadratic, and a RecursionError past ~1,000 of them).
    cri = _CRI.match(line) if container else None
    if cri is not None:
        inner = _parse(line[cri.end() :], preferred, search_all=search_all, container=False)
        if inner.format != "generic" or inner.end or inner.level:
            return Prefix(
                inner.format,
                cri.end() + inner.end,
                inner.timestamp or cri["ts"],
                inner.level,
                inner.component,
                inner.masked_level,
            )
    for name in preferred:
        for pattern in _FORMATS_BY_NAME.get(name, ()):
            if match := pattern.match(line):
                return _from_match(name, match)
    if search_all:
        for name, pattern in _FORMATS:
            if name not in preferred and (match := pattern.match(line)):
                return _from_match(name, match)
    return _parse_generic(line)


# Just the level of formats whose level masking hides (see Prefix.masked_level): much cheaper
# than a full parse, for the one pass over the lines of such templates.
_MASKED_LEVEL_READERS: Final[dict[str, re.Pattern[str]]] = {
    "access": re.compile(r'[^"\n]*"(?:[^"\\\n]|\\.)*" (?P<status>\d{3})\b'),
    "klog": re.compile(rf"(?:{_CRI.pattern})?(?P<level>[IWEF])\d{{4}} "),
    "syslog": re.compile(r"<(?P<pri>\d{1,3})>"),
}


def read_masked_level(line: str, fmt: str) -> str | None:
    """The level of a line of format ``fmt`` whose level masking hides.

    >>> read_masked_level('1.2.3.4 - - [10/Oct/2023:13:55:36] "GET / HTTP/1.1" 503 0', "access")
    'ERROR'
    >>> read_masked_level("<12>Oct 11 22:14:15 host app: x", "syslog")
    'WARNING'
    >>> read_masked_level("W0115 10:00:00.000001 1 a.go:1] x", "klog")
    'WARN'
    """
    reader = _MASKED_LEVEL_READERS.get(fmt)
    match = reader.match(line) if reader is not None else None
    if match is None:
        return parse_prefix(line, fmt).level
    return _level_of(match.groupdict())


def _level_of(groups: dict[str, str | None]) -> str | None:
    pri = groups.get("pri")
    if pri is not None:
        return _SYSLOG_SEVERITIES[int(pri) & 7]
    status = groups.get("status")
    if status is not None:
        code = int(status)
        return "ERROR" if code >= 500 else "WARN" if code >= 400 else "INFO"
    level = groups.get("level")
    return normalize_level(level) if level else None


def _from_match(name: str, match: re.Match[str]) -> Prefix:
    groups = match.groupdict()
    level = _level_of(groups)
    masked_level = (
        name == "klog" or groups.get("pri") is not None or groups.get("status") is not None
    )
    component = groups.get("comp")
    thread = groups.get("thread")
    if component is None and thread:
        # Zookeeper names the class at the end of the thread: ".../0:2181:FastLeaderElection@774".
        component = thread.rsplit(":", 1)[-1].strip() or None
    return Prefix(name, match.end(), groups.get("ts"), level, component, masked_level)


def _parse_json(line: str) -> Prefix:
    level = _JSON_LEVEL.search(line)
    ts = _JSON_TS.search(line)
    component = _JSON_COMPONENT.search(line)
    word = level["level"] if level else None
    if word is None:
        # Docker's json-file driver wraps the application's line: look for its level word.
        found = _find_level(line, 0, len(line))
        if found is not None:
            word = found[0]
    return Prefix(
        "json",
        0,
        ts["ts"] if ts else None,
        normalize_level(word) if word else None,
        component.group(1) if component else None,
    )


def _parse_generic(line: str) -> Prefix:
    ts_match = _GENERIC_TS.match(line)
    end = ts_match.end() if ts_match else 0
    ts = ts_match["ts"] if ts_match else None
    logfmt = _LOGFMT_LEVEL.search(line, 0, _LOGFMT_WINDOW) if "=" in line else None
    if logfmt is not None:
        ts_logfmt = _LOGFMT_TS.search(line)
        return Prefix(
            "logfmt",
            0,
            ts_logfmt["ts"] if ts_logfmt else ts,
            normalize_level(logfmt["level"]),
        )
    found = _find_level(line, end, end + _GENERIC_LEVEL_WINDOW)
    if found is not None:
        word, level_end = found
        return Prefix("generic", level_end, ts, normalize_level(word))
    return Prefix("generic", end, ts)


def _find_level(line: str, start: int, stop: int) -> tuple[str, int] | None:
    """The first level word in ``line[start:stop]`` and the end of its match, if any."""
    best: re.Match[str] | None = None
    for match in _LEVEL_WORD.finditer(line, start, stop):
        at = match.start()
        # An optional opening bracket belongs to the level, so "[WARN]" matches as a whole.
        if at == 0 or not (line[at - 1].isalnum() or line[at - 1] == "_"):
            best = match
            break
    bracketed = _LEVEL_BRACKETED.search(line, start, stop)
    if bracketed is not None and (best is None or bracketed.start() < best.start()):
        best = bracketed
    return (best["level"], best.end()) if best is not None else None
