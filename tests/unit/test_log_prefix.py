"""Log line prefixes: one table of real lines per format, and every loghub line against its
ground truth (level and message columns of the ``_structured.csv`` files)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from headroom.bench.logs import log_lines
from headroom.compressors.logs.prefix import (
    PrefixParser,
    is_signal,
    normalize_level,
    parse_prefix,
    severity,
)
from tests.conftest import read_bench

# (line, format, timestamp, level, component, message). Lines marked "loghub" are verbatim
# from the loghub samples; the others are small realistic samples of their format.
CASES: list[tuple[str, str, str | None, str | None, str | None, str]] = [
    (  # loghub HDFS
        "081109 214043 2561 WARN dfs.DataNode$DataXceiver: 10.251.30.85:50010:Got exception "
        "while serving blk_-2918118818249673980 to /10.251.90.64:",
        "hdfs",
        "081109 214043",
        "WARN",
        "dfs.DataNode$DataXceiver",
        "10.251.30.85:50010:Got exception while serving blk_-2918118818249673980 to /10.251.90.64:",
    ),
    (  # loghub Hadoop (log4j)
        "2015-10-18 18:04:11,034 ERROR [RMCommunicator Allocator] "
        "org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator: Container complete event "
        "for unknown container id container_1445144423722_0020_01_000012",
        "log4j",
        "2015-10-18 18:04:11,034",
        "ERROR",
        "org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator",
        "Container complete event for unknown container id container_1445144423722_0020_01_000012",
    ),
    (  # loghub Zookeeper (log4j, class at the end of the thread)
        "2015-07-29 19:04:29,071 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688]"
        " - Send worker leaving thread",
        "log4j",
        "2015-07-29 19:04:29,071",
        "WARN",
        "QuorumCnxManager$SendWorker@688",
        "Send worker leaving thread",
    ),
    (  # loghub Zookeeper: nested brackets in the thread name
        "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:"
        "FastLeaderElection@774] - Notification time out: 3200",
        "log4j",
        "2015-07-29 17:41:44,747",
        "INFO",
        "FastLeaderElection@774",
        "Notification time out: 3200",
    ),
    (  # loghub OpenSSH (syslog)
        "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from "
        "173.234.31.186 port 38926 ssh2",
        "syslog",
        "Dec 10 06:55:48",
        None,
        "sshd",
        "Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2",
    ),
    (  # loghub Linux (syslog, program name with parentheses)
        "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 "
        "euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
        "syslog",
        "Jun 14 15:16:01",
        None,
        "sshd(pam_unix)",
        "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
    ),
    (  # loghub Linux (syslog, no pid)
        "Jun  9 06:06:20 combo kernel: Linux version 2.6.5-1.358",
        "syslog",
        "Jun  9 06:06:20",
        None,
        "kernel",
        "Linux version 2.6.5-1.358",
    ),
    (  # RFC 3164 with PRI: <27> is facility 3, severity 3 (error)
        "<27>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8",
        "syslog",
        "Oct 11 22:14:15",
        "ERROR",
        "su",
        "'su root' failed for lonvick on /dev/pts/8",
    ),
    (  # RFC 5424
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 message",
        "syslog",
        "2003-10-11T22:14:15.003Z",
        "NOTICE",
        "evntslog",
        "ID47 message",
    ),
    (  # loghub Apache error log
        "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
        "apache",
        "Sun Dec 04 04:47:44 2005",
        "ERROR",
        None,
        "mod_jk child workerEnv in error state 6",
    ),
    (  # Apache 2.4 error log
        "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] "
        "[client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico",
        "apache",
        "Wed Oct 11 14:32:52.123456 2000",
        "ERROR",
        "core",
        "[client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico",
    ),
    (  # loghub Android (logcat threadtime)
        "03-17 16:13:38.935  1702  3697 W ActivityManager: getRunningAppProcesses: caller 10113 "
        "does not hold REAL_GET_TASKS; limiting output",
        "logcat",
        "03-17 16:13:38.935",
        "WARN",
        "ActivityManager",
        "getRunningAppProcesses: caller 10113 does not hold REAL_GET_TASKS; limiting output",
    ),
    (  # logcat brief
        "E/AndroidRuntime( 2313): FATAL EXCEPTION: main",
        "logcat",
        None,
        "ERROR",
        "AndroidRuntime",
        "FATAL EXCEPTION: main",
    ),
    (  # loghub BGL
        "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 "
        "R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
        "bgl",
        "2005-06-03-15.42.50.675872",
        "INFO",
        "RAS KERNEL",
        "instruction cache parity error corrected",
    ),
    (  # loghub OpenStack (oslo.log behind its file name)
        "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:20.345 2931 WARNING "
        "nova.virt.libvirt.imagecache [req-addc1839-2ed5-4778-b57e-5854eb7b8b09 - - - - -] "
        "Unknown base file: /var/lib/nova/instances/_base/a489c868f0c37da93b76227c91bb03908ac0e742",
        "oslo",
        "2017-05-16 00:00:20.345",
        "WARNING",
        "nova.virt.libvirt.imagecache",
        "Unknown base file: /var/lib/nova/instances/_base/a489c868f0c37da93b76227c91bb03908ac0e742",
    ),
    (  # Python logging, "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
        "2024-01-15 10:00:00,123 - myapp.db - WARNING - pool exhausted, waiting",
        "python",
        "2024-01-15 10:00:00,123",
        "WARNING",
        "myapp.db",
        "pool exhausted, waiting",
    ),
    (  # Python logging, basicConfig default
        "ERROR:root:could not connect to db",
        "python",
        None,
        "ERROR",
        "root",
        "could not connect to db",
    ),
    (  # Python logging, "%(asctime)s %(levelname)s %(name)s: %(message)s"
        "2024-01-15 10:00:00,123 INFO uvicorn.access: 127.0.0.1:5000 - GET / 200",
        "log4j",
        "2024-01-15 10:00:00,123",
        "INFO",
        "uvicorn.access",
        "127.0.0.1:5000 - GET / 200",
    ),
    (  # Spring Boot
        "2024-01-15 10:00:00.123  INFO 12345 --- [           main] com.example.DemoApplication"
        "              : Started DemoApplication in 2.5 seconds",
        "spring",
        "2024-01-15 10:00:00.123",
        "INFO",
        "com.example.DemoApplication",
        "Started DemoApplication in 2.5 seconds",
    ),
    (  # logback default pattern
        "10:00:00.123 [main] ERROR com.example.Service - request failed",
        "logback",
        "10:00:00.123",
        "ERROR",
        "com.example.Service",
        "request failed",
    ),
    (  # nginx access log (combined): the level comes from the status
        '203.0.113.9 - - [10/Oct/2023:13:55:36 +0000] "GET /api/v1/users/42 HTTP/1.1" 502 157 '
        '"-" "curl/8.4.0"',
        "access",
        "10/Oct/2023:13:55:36 +0000",
        "ERROR",
        "203.0.113.9",
        '"GET /api/v1/users/42 HTTP/1.1" 502 157 "-" "curl/8.4.0"',
    ),
    (
        '203.0.113.9 - alice [10/Oct/2023:13:55:37 +0000] "GET /missing HTTP/1.1" 404 0 "-" "-"',
        "access",
        "10/Oct/2023:13:55:37 +0000",
        "WARN",
        "203.0.113.9",
        '"GET /missing HTTP/1.1" 404 0 "-" "-"',
    ),
    (
        '127.0.0.1 - - [10/Oct/2023:13:55:38 +0000] "GET / HTTP/1.1" 200 612',
        "access",
        "10/Oct/2023:13:55:38 +0000",
        "INFO",
        "127.0.0.1",
        '"GET / HTTP/1.1" 200 612',
    ),
    (  # nginx error log
        "2023/10/10 13:55:36 [error] 1234#1234: *5 connect() failed (111: Connection refused) "
        "while connecting to upstream",
        "nginx",
        "2023/10/10 13:55:36",
        "ERROR",
        None,
        "connect() failed (111: Connection refused) while connecting to upstream",
    ),
    (  # JSON lines (structlog / zap style)
        '{"ts":"2024-01-15T10:00:00Z","level":"warn","logger":"api","msg":"slow request","ms":812}',
        "json",
        "2024-01-15T10:00:00Z",
        "WARN",
        "api",
        '{"ts":"2024-01-15T10:00:00Z","level":"warn","logger":"api","msg":"slow request","ms":812}',
    ),
    (  # Docker json-file driver: the level is inside the application's line
        '{"log":"2024-01-15 10:00:00 ERROR worker crashed\\n","stream":"stderr",'
        '"time":"2024-01-15T10:00:00.123456789Z"}',
        "json",
        "2024-01-15T10:00:00.123456789Z",
        "ERROR",
        None,
        '{"log":"2024-01-15 10:00:00 ERROR worker crashed\\n","stream":"stderr",'
        '"time":"2024-01-15T10:00:00.123456789Z"}',
    ),
    (  # Kubernetes CRI log file around a klog line
        "2024-01-15T10:00:00.123456789Z stderr F E0115 10:00:00.123456       1 "
        'controller.go:114] error syncing "default/web": timed out',
        "klog",
        "0115 10:00:00.123456",
        "ERROR",
        "controller.go:114",
        'error syncing "default/web": timed out',
    ),
    (  # klog on its own (kubectl logs of a control-plane component)
        "I0115 10:00:00.123456   12345 leaderelection.go:248] attempting to acquire leader lease",
        "klog",
        "0115 10:00:00.123456",
        "INFO",
        "leaderelection.go:248",
        "attempting to acquire leader lease",
    ),
    (  # docker logs -t around a plain application line
        "2024-01-15T10:00:00.123456789Z [WARN] cache miss for key user:42",
        "generic",
        "2024-01-15T10:00:00.123456789Z",
        "WARN",
        None,
        "cache miss for key user:42",
    ),
    (  # logfmt
        'time="2024-01-15T10:00:00Z" level=error msg="dial tcp: i/o timeout" component=proxy',
        "logfmt",
        "2024-01-15T10:00:00Z",
        "ERROR",
        None,
        'time="2024-01-15T10:00:00Z" level=error msg="dial tcp: i/o timeout" component=proxy',
    ),
    (  # generic: a timestamp and a level word
        "12:00:01 INFO: server listening on :8080",
        "generic",
        "12:00:01",
        "INFO",
        None,
        "server listening on :8080",
    ),
    ("plain text without any prefix", "generic", None, None, None, "plain text without any prefix"),
    ("", "generic", None, None, None, ""),
]


@pytest.mark.parametrize(
    ("line", "fmt", "timestamp", "level", "component", "message"),
    CASES,
    ids=[f"{i}-{case[1]}" for i, case in enumerate(CASES)],
)
def test_prefix_table(
    line: str,
    fmt: str,
    timestamp: str | None,
    level: str | None,
    component: str | None,
    message: str,
) -> None:
    prefix = parse_prefix(line)
    assert (prefix.format, prefix.timestamp, prefix.level, prefix.component) == (
        fmt,
        timestamp,
        level,
        component,
    )
    assert line[prefix.end :] == message
    # A line ending is not part of the prefix.
    assert parse_prefix(line + "\r").end == prefix.end


@pytest.mark.parametrize(
    ("word", "normalized", "rank"),
    [
        ("W", "WARN", 3),
        ("warning", "WARNING", 3),
        ("err", "ERROR", 4),
        ("SEVERE", "SEVERE", 4),
        ("crit", "CRITICAL", 5),
        ("F", "FATAL", 5),
        ("notice", "NOTICE", 2),
        ("V", "VERBOSE", 0),
        ("debug", "DEBUG", 1),
        ("unheard-of", "UNHEARD-OF", 2),
    ],
)
def test_levels(word: str, normalized: str, rank: int) -> None:
    assert normalize_level(word) == normalized
    assert severity(normalized) == rank


@pytest.mark.parametrize(
    ("level", "message", "signal"),
    [
        ("INFO", "took 3 ms", False),
        ("INFO", "instruction cache parity error corrected", False),  # the level decides
        ("INFO", "java.io.IOException: Connection reset", True),  # exceptions always count
        ("DEBUG", "Traceback (most recent call last):", True),
        ("WARN", "anything", True),
        (None, "Accepted password for fztu", False),
        (None, "Failed password for root", True),
        (None, "Connection timed out", True),
        (None, "error: Received disconnect", True),
        (None, "terror and errands", False),  # whole words only
        (None, "goroutine 1 panic: runtime error", True),
    ],
)
def test_is_signal(level: str | None, message: str, signal: bool) -> None:
    assert is_signal(level, message) is signal


def test_parser_learns_the_formats_of_its_log() -> None:
    parser = PrefixParser(sample=2)
    hdfs = "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1"
    apache = "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6"
    assert parser.parse(hdfs).format == "hdfs"
    assert parser.parse(apache).format == "apache"
    # Past the sample, formats seen in it are still recognised ...
    assert parser.parse(hdfs).format == "hdfs"
    assert parser.parse(apache).format == "apache"
    # ... while a format first met later gets the generic parse (its level word survives).
    late = parser.parse("03-17 16:13:38.935  1702  3697 W ActivityManager: x")
    assert late.format == "generic"
    assert parse_prefix("03-17 16:13:38.935  1702  3697 W ActivityManager: x").format == "logcat"


@pytest.mark.parametrize(
    "line",
    [
        "x" * 1_000_000,
        "2024-01-15 10:00:00 " + "INFO" * 250_000,
        "[" * 1_000_000,
        "A" * 500_000 + "Exception",
        "\x00\x01\ufffd\udc80 binary junk",
    ],
    ids=["1MB-token", "1MB-levels", "1MB-brackets", "long-word", "binary"],
)
def test_pathological_lines_parse(line: str) -> None:
    prefix = parse_prefix(line)
    assert 0 <= prefix.end <= len(line)
    is_signal(prefix.level, line[prefix.end :])


_LOGHUB_FORMATS = {
    "Android": "logcat",
    "Apache": "apache",
    "BGL": "bgl",
    "HDFS": "hdfs",
    "Hadoop": "log4j",
    "OpenSSH": "syslog",
    "OpenStack": "oslo",
    "Zookeeper": "log4j",
}


@pytest.mark.parametrize("name", sorted(_LOGHUB_FORMATS))
def test_every_loghub_line_matches_its_ground_truth(bench_data: Path, name: str) -> None:
    path = bench_data / "loghub" / f"{name}_2k.log"
    lines = log_lines(read_bench(path))
    with path.with_name(path.name + "_structured.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    parser = PrefixParser()
    for line, row in zip(lines, rows, strict=True):
        prefix = parser.parse(line)
        assert prefix.format == _LOGHUB_FORMATS[name], line
        if "Level" in row:
            assert prefix.level == normalize_level(row["Level"]), line
        else:
            assert prefix.level is None
        message = line[prefix.end :]
        if name == "Apache":  # loghub keeps "[client ...]" in Content; so does Headroom
            assert message == row["Content"], line
        else:
            assert message.strip() == row["Content"].strip(), line
