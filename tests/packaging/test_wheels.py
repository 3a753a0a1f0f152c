"""The built wheels, installed outside the repository (``make dist`` then ``make test-dist``).

One new virtual environment per run, made with Python 3.10 (the oldest supported; pyenv's
if present), with every folder holding ``cargo``, ``rustc`` or ``maturin`` taken off ``PATH``:
the core wheel must work without a Rust toolchain. Into it go the core wheel and every
integration wheel of ``dist/`` (with their extras but ``test``); their dependencies come from
PyPI. Then, from a folder outside the repository: ``headroom --version``, the core example
on a real loghub log, and every ``examples/*.py`` of each integration whose wheel was built.
Nothing is cached between runs but pip's own cache.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BENCH_DATA, REPO_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # the dev tools' Python 3.10
    import tomli as tomllib

DIST_DIR = Path(os.environ.get("HEADROOM_DIST_DIR") or REPO_ROOT / "dist").resolve()
CORE_EXAMPLE = Path(__file__).with_name("core_example.py")
RUST_TOOLS = ("cargo", "rustc", "maturin", "rustup")
# Extras that are for developing a package, not for using it.
DEV_EXTRAS = frozenset({"test", "tests", "dev", "docs", "lint", "typing"})
OLDEST_PYTHON = (3, 10)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Integration:
    """An integration distribution of the repository: its folder and project table."""

    root: Path
    name: str
    extras: tuple[str, ...]

    @property
    def examples(self) -> list[Path]:
        return sorted((self.root / "examples").glob("*.py"))


def _integrations() -> list[Integration]:
    """Every ``integrations/**/pyproject.toml`` but benchmarks', as :class:`Integration`."""
    found = []
    for pyproject in sorted((REPO_ROOT / "integrations").glob("**/pyproject.toml")):
        relative = pyproject.relative_to(REPO_ROOT).parts
        if any(part in ("benchmarks", "examples", "tests", ".venv") for part in relative):
            continue
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if "name" not in project:
            continue
        extras = sorted(set(project.get("optional-dependencies", {})) - DEV_EXTRAS)
        found.append(Integration(pyproject.parent, _normalise(project["name"]), tuple(extras)))
    return found


INTEGRATIONS = _integrations()


def _wheels() -> dict[str, Path]:
    """The wheels of ``DIST_DIR`` by normalised distribution name."""
    return {_normalise(p.name.split("-", 1)[0]): p for p in sorted(DIST_DIR.glob("*.whl"))}


def _wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def _find_python_310() -> Path | None:
    """Python 3.10: ``HEADROOM_DIST_PYTHON``, pyenv's, or ``python3.10`` on PATH.

    Each candidate is asked its version: a pyenv shim with no 3.10 selected fails that.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [os.environ.get("HEADROOM_DIST_PYTHON", "")]
    candidates += [str(p) for p in sorted((pyenv_root / "versions").glob("3.10*/bin/python3.10"))]
    candidates.append(shutil.which("python3.10") or "")
    for candidate in filter(None, candidates):
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; print(*sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.split() == ["3", "10"]:
            return Path(candidate)
    return None


def _toolchain_free_path(venv_bin: Path) -> str:
    """``PATH`` with the venv first and no folder that holds a Rust tool or maturin."""
    kept = [str(venv_bin)]
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and not any((Path(folder) / tool).exists() for tool in RUST_TOOLS):
            kept.append(folder)
    return os.pathsep.join(kept)


@dataclass(frozen=True)
class CleanVenv:
    """The venv the wheels went into, and how to run things in it."""

    bin: Path
    python_version: tuple[int, int]
    env: dict[str, str]
    workdir: Path

    def run(self, *args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _explain(done: subprocess.CompletedProcess[str]) -> str:
    return f"{done.args} exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


@pytest.fixture(scope="module")
def wheels() -> dict[str, Path]:
    found = _wheels()
    if "headroom-ctx" not in found:
        pytest.skip(f"no headroom-ctx wheel in {DIST_DIR}: run make dist")
    return found


@pytest.fixture(scope="module")
def clean_venv(
    wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CleanVenv]:
    root = tmp_path_factory.mktemp("clean-venv")
    python = _find_python_310()
    if python is not None:
        subprocess.run([python, "-m", "venv", root / "venv"], check=True, timeout=300)
    else:  # the running interpreter (3.11+); test_oldest_python says so
        venv.create(root / "venv", with_pip=True)
    venv_bin = root / "venv" / "bin"
    env = {
        key: value
        for key, value in os.environ.items()
        # Nothing of the repository's venv, no toolchain, no credentials.
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CARGO_HOME", "RUSTUP_HOME")
        and not key.endswith("_API_KEY")
    }
    env["PATH"] = _toolchain_free_path(venv_bin)
    env["HEADROOM_HOME"] = str(root / "headroom-home")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    workdir = root / "work"
    workdir.mkdir()
    for tool in RUST_TOOLS:
        assert shutil.which(tool, path=env["PATH"]) is None, f"{tool} is on the test's PATH"
    done = subprocess.run(
        [venv_bin / "python", "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    major, minor = (int(part) for part in done.stdout.split())
    clean = CleanVenv(venv_bin, (major, minor), env, workdir)

    upgrade = clean.run(venv_bin / "python", "-m", "pip", "install", "-q", "--upgrade", "pip")
    assert upgrade.returncode == 0, _explain(upgrade)
    # Each wheel by its file, so that a release of the same name on PyPI is never taken
    # instead; the integrations' requirement on headroom-ctx is met by the local wheel.
    requirements = [str(wheels["headroom-ctx"])]
    for integration in INTEGRATIONS:
        if integration.name in wheels:
            extras = f"[{','.join(integration.extras)}]" if integration.extras else ""
            requirements.append(f"{wheels[integration.name]}{extras}")
    install = clean.run(
        venv_bin / "python",
        "-m",
        "pip",
        "install",
        "-q",
        "--find-links",
        DIST_DIR,
        *requirements,
        timeout=1800,
    )
    assert install.returncode == 0, _explain(install)
    yield clean


def test_oldest_python(clean_venv: CleanVenv) -> None:
    # The interpreter found as 3.10 must be what the wheels went into (the skip is decided
    # by the search, not by the venv's version, so a wrong interpreter fails here).
    if _find_python_310() is None:
        pytest.skip(
            "no Python 3.10 found (HEADROOM_DIST_PYTHON, python3.10 on PATH, pyenv): the "
            f"wheels were tested under {clean_venv.python_version} only"
        )
    assert clean_venv.python_version == OLDEST_PYTHON


def test_installed_from_the_wheels(clean_venv: CleanVenv, wheels: dict[str, Path]) -> None:
    """Every wheel is installed at its version, and nothing comes from the repository."""
    script = (
        "import importlib.metadata as m, json, headroom, headroom._native as n; "
        "print(json.dumps([headroom.__file__, n.__file__, "
        "{d.metadata['Name']: d.version for d in m.distributions()}]))"
    )
    done = clean_venv.run(clean_venv.bin / "python", "-c", script)
    assert done.returncode == 0, _explain(done)
    module_file, native_file, versions = json.loads(done.stdout)
    for path in (module_file, native_file):
        assert Path(path).is_relative_to(clean_venv.bin.parent), path
    assert Path(native_file).name.endswith(".abi3.so")
    installed = {_normalise(name): version for name, version in versions.items()}
    for name, wheel in wheels.items():
        assert installed.get(name) == _wheel_version(wheel), (name, installed.get(name))


def test_version_command(clean_venv: CleanVenv, wheels: dict[str, Path]) -> None:
    done = clean_venv.run(clean_venv.bin / "headroom", "--version")
    assert done.returncode == 0, _explain(done)
    assert done.stdout.split() == ["headroom", _wheel_version(wheels["headroom-ctx"])]


def test_licence_files(clean_venv: CleanVenv) -> None:
    """Our licence, NOTICE and the vocabularies' MIT licence are in the installed metadata."""
    script = (
        "import importlib.metadata as m; "
        "print('\\n'.join(str(f) for f in m.distribution('headroom-ctx').files "
        "if '/licenses/' in str(f)))"
    )
    done = clean_venv.run(clean_venv.bin / "python", "-c", script)
    assert done.returncode == 0, _explain(done)
    names = {Path(line).name for line in done.stdout.split()}
    assert {"LICENSE", "NOTICE", "LICENSE-tiktoken.txt"} <= names, names


def test_core_wheel_is_manylinux2014(wheels: dict[str, Path]) -> None:
    """The extension needs glibc 2.17 at most, as the wheel's manylinux2014 tag promises."""
    wheel = wheels["headroom-ctx"]
    assert re.search(r"manylinux(2014|_2_17)_", wheel.name), wheel.name  # any architecture
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".so")]
        binary = archive.read(name)
    needed = {tuple(map(int, v.split(b"."))) for v in re.findall(rb"GLIBC_(2\.[0-9.]+)", binary)}
    assert needed and max(needed) <= (2, 17), sorted(needed)


def test_core_example_on_a_real_log(clean_venv: CleanVenv, wheels: dict[str, Path]) -> None:
    log = BENCH_DATA / "loghub" / "HDFS_2k.log"
    if not log.is_file():
        pytest.skip(f"benchmark data not found at {log}")
    example = shutil.copy(CORE_EXAMPLE, clean_venv.workdir / CORE_EXAMPLE.name)
    done = clean_venv.run(
        clean_venv.bin / "python", example, log, _wheel_version(wheels["headroom-ctx"])
    )
    assert done.returncode == 0, _explain(done)
    assert "original retrieved byte-exact" in done.stdout


@pytest.mark.parametrize(
    "integration", INTEGRATIONS, ids=[integration.name for integration in INTEGRATIONS]
)
def test_integration_has_examples(integration: Integration, wheels: dict[str, Path]) -> None:
    if integration.name not in wheels:
        pytest.skip(f"no {integration.name} wheel in {DIST_DIR}")
    assert integration.examples, f"{integration.root} has no examples/*.py"


EXAMPLES = [(i, example) for i in INTEGRATIONS for example in i.examples]


@pytest.mark.parametrize(
    ("integration", "example"),
    EXAMPLES,
    ids=[f"{integration.name}/{example.name}" for integration, example in EXAMPLES],
)
def test_integration_example(
    integration: Integration, example: Path, clean_venv: CleanVenv, wheels: dict[str, Path]
) -> None:
    """Each example exits 0, run from a copy of its folder outside the repository."""
    if integration.name not in wheels:
        pytest.skip(f"no {integration.name} wheel in {DIST_DIR}")
    copy = clean_venv.workdir / integration.name
    if not copy.exists():
        shutil.copytree(example.parent, copy)
    done = clean_venv.run(clean_venv.bin / "python", copy / example.name)
    assert done.returncode == 0, _explain(done)
