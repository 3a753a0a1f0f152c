"""JSON: minified, written as tables (the lossless codec in :mod:`headroom.jsontables`), then
crushed when allowed.

- :mod:`~headroom.compressors.json.minify`: :class:`JsonMinifier`, whitespace only;
- :mod:`~headroom.compressors.json.smart_crusher`: :class:`SmartCrusher`, tables then crush;
- the lossy stage: :mod:`~headroom.compressors.json.crush` walks the value,
  :mod:`~headroom.compressors.json.profile` and :mod:`~headroom.compressors.json.signals`
  say which rows carry signal, :mod:`~headroom.compressors.json.select` picks the rows kept,
  :mod:`~headroom.compressors.json.summary` writes the marker's summary and
  :mod:`~headroom.compressors.json.text` shortens long free-text strings.
"""

from __future__ import annotations

from headroom.compressors.json.minify import JsonMinifier
from headroom.compressors.json.smart_crusher import SmartCrusher

__all__ = ["JsonMinifier", "SmartCrusher"]
