"""Run by test_wheels.py with the clean venv's Python: the core from its wheel, on a real log.

    python core_example.py LOG_FILE EXPECTED_VERSION

Compresses the log, checks it got smaller, and retrieves the original byte for byte, from
the default SQLite store (HEADROOM_HOME) and again from a new client on the same store.
"""

from __future__ import annotations

import sys
from pathlib import Path

import headroom
from headroom import Headroom, compress_text, count_tokens, retrieve


def main() -> None:
    log_path, expected_version = Path(sys.argv[1]), sys.argv[2]
    assert headroom.__version__ == expected_version, (headroom.__version__, expected_version)
    text = log_path.read_bytes().decode("utf-8")
    out = compress_text(text)
    before, after = count_tokens(text), count_tokens(out.text)
    assert after < before / 2, f"{log_path.name}: {before} -> {after} tokens"
    assert out.handles, "a lossy compression returned no handle"
    original = retrieve(out.handles[0])
    assert original == text, "retrieve() did not return the exact original"
    # Another client on the same (default, on-disk) store reads it back too.
    assert Headroom().retrieve(out.handles[0]) == text
    print(f"{log_path.name}: {before} -> {after} tokens, original retrieved byte-exact")
    print(f"headroom {headroom.__version__} from {Path(headroom.__file__).parent}")


if __name__ == "__main__":
    main()
