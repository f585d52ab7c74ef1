"""One SSL context per test process for httpx's default verification, instead of one per client.

httpx builds a new context and loads certifi's whole CA bundle into it for every `Client` and
`AsyncClient` it opens, and for every `httpx.get(...)`: 68 ms each on this machine under the
suite's load, 3 ms with a shared one (measured). The tests open thousands of them against hubs on
plain http, where the context is never used. httpx's own advice is to share one context
(`verify=ctx`); the tests' clients and the desk's own (client/api.py) are not all ours to pass it
to, so the function httpx calls is wrapped here: the default case (verify=True, no client
certificate) gets one context per value of SSL_CERT_FILE and SSL_CERT_DIR (which httpx reads
when `trust_env`), built once; any other `verify` is built as httpx would. Registered from
tests/conftest.py (`pytest_plugins`).
"""

from __future__ import annotations

import functools
import os
import ssl
from typing import Any

import httpx._transports.default as transports
from httpx._config import create_ssl_context


@functools.cache
def _default_context(
    trust_env: bool, cert_file: str | None, cert_dir: str | None
) -> ssl.SSLContext:
    """(`cert_file` and `cert_dir` key the cache: httpx reads them from the environment.)"""
    return create_ssl_context(verify=True, trust_env=trust_env)


def _shared_when_default(
    verify: Any = True, cert: Any = None, trust_env: bool = True
) -> ssl.SSLContext:
    if verify is True and cert is None:
        environ = os.environ
        return _default_context(
            trust_env, environ.get("SSL_CERT_FILE"), environ.get("SSL_CERT_DIR")
        )
    return create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)


transports.create_ssl_context = _shared_when_default  # type: ignore[assignment]
