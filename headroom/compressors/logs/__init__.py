"""The log compressor: prefix parsing, native template clustering, rendering.

- :mod:`~headroom.compressors.logs.prefix`: timestamp, level, component of a line;
- :mod:`~headroom.compressors.logs.traces`: stack traces that continue a line;
- :mod:`~headroom.compressors.logs.clustering`: lines to clusters (native kernels);
- :mod:`~headroom.compressors.logs.render`: header and line annotations;
- :mod:`~headroom.compressors.logs.compressor`: :class:`LogCompressor`, which ties them up.
"""

from __future__ import annotations

from headroom.compressors.logs.compressor import LogCompressor

__all__ = ["LogCompressor"]
