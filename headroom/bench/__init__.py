"""Benchmarks and the demo: each module runs as ``python -m headroom.bench.<name>``.

``make bench`` runs them on the real data in ``../shared/bench-data``; ``headroom bench PATH``
(:mod:`headroom.bench.cli`) measures the user's own files. Figures: docs/benchmarks.md.

- :mod:`~headroom.bench.cli`: the ``headroom bench`` verb: tokens saved per kind, fidelity
  checks (round trip, error and warning lines kept, never larger) and speed on any files.
- :mod:`~headroom.bench.summary`: tokens saved and speed per content kind over a data directory.
- :mod:`~headroom.bench.speed`: end-to-end speed of ``compress()`` against its floor.
- :mod:`~headroom.bench.logs`: LogCompressor on the loghub samples, against ground truth.
- :mod:`~headroom.bench.json_data`: SmartCrusher on real JSON, file by file.
- :mod:`~headroom.bench.conversation`: RollingSummarizer on real agent transcripts.
- :mod:`~headroom.bench.source_code`: CodeCompressor on real source files.
- :mod:`~headroom.bench.html_pages`: the ``html`` kind on real pages, and extractors compared.
- :mod:`~headroom.bench.markdown_docs`: the ``markdown`` kind on real READMEs and docs pages.
- :mod:`~headroom.bench.listing`: ListingCompressor on real file listings.
- :mod:`~headroom.bench.rag`: RAG pruning on SQuAD 2.0: tokens saved vs. answers kept.
- :mod:`~headroom.bench.store`: CCR store latency and throughput (SQLite, Redis).
- :mod:`~headroom.bench.proxy_load`: the HTTP proxy under load: added latency, throughput,
  a long conversation fresh and seen before (the ``proxy`` extra).
- :mod:`~headroom.bench.mcp_server`: the MCP server's tools over stdio (the ``mcp`` extra).
- :mod:`~headroom.bench.demo`: a tour: real tool outputs compressed, what was saved.
"""
