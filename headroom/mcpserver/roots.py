"""Which local files ``headroom_read`` may open: those under the roots given by ``--allow-read``.

A path is resolved the way the operating system will open it (``~`` expanded, relative to
the server's working directory, every symlink followed) before it is checked, so neither
``..`` nor a symlink inside a root can lead out of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from headroom.errors import InvalidArgumentError

__all__ = ["ReadRoots"]


class ReadRoots:
    """The directories ``headroom_read`` may read under; none means reading is off.

    Args:
        roots: directories; each is resolved (symlinks followed) once, here.

    Raises:
        InvalidArgumentError: a root does not exist or is not a directory.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as top:
        ...     roots = ReadRoots([top])
        ...     _ = (Path(top) / "a.txt").write_text("hi")
        ...     roots.resolve(str(Path(top) / "a.txt")).name
        'a.txt'
    """

    def __init__(self, roots: Iterable[str | os.PathLike[str]] = ()) -> None:
        resolved = []
        for root in roots:
            path = Path(root).expanduser()
            if not path.is_dir():
                raise InvalidArgumentError(f"--allow-read {root}: not a directory")
            resolved.append(path.resolve(strict=True))
        self.roots: tuple[Path, ...] = tuple(dict.fromkeys(resolved))

    def __bool__(self) -> bool:
        return bool(self.roots)

    def resolve(self, path: str) -> Path:
        """The real path of ``path``, if it is a file under one of the roots.

        Raises:
            InvalidArgumentError: reading is off, ``path`` is empty, it does not exist, it
                is not a regular file, or its real path is outside every root.
        """
        if not self.roots:
            raise InvalidArgumentError(
                "headroom_read is off: start the server with --allow-read DIR to allow "
                "reading files under DIR"
            )
        if not path or "\x00" in path:
            raise InvalidArgumentError(f"path: expected a file path, got {path!r}")
        try:
            real = Path(path).expanduser().resolve(strict=True)
        except FileNotFoundError:
            raise InvalidArgumentError(f"path {path!r}: no such file") from None
        except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
            raise InvalidArgumentError(f"path {path!r}: cannot be resolved ({error})") from None
        if not any(real.is_relative_to(root) for root in self.roots):
            allowed = ", ".join(str(root) for root in self.roots)
            raise InvalidArgumentError(
                f"path {path!r} resolves to {str(real)!r}, outside the allowed roots ({allowed})"
            )
        if not real.is_file():
            raise InvalidArgumentError(f"path {path!r}: not a regular file")
        return real
