"""Import the proxy extra's packages, or say what to install."""

from __future__ import annotations

try:
    import httpx  # noqa: F401
    import prometheus_client  # noqa: F401
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
    import websockets  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        f"the Headroom proxy needs {error.name or 'its server stack'}: "
        'pip install "headroom-ctx[proxy]"'
    ) from error
