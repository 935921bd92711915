"""Shared fixtures: a throwaway PostgreSQL server for the whole session, one fresh schema per test.

Under ``CI=true`` the PostgreSQL tests must run: missing binaries fail the run.
Locally they skip with a message saying how to install PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from omnicx.testing._postgres_server import INSTALL_HINT, PostgresServer, find_postgres_bindir

_schemas = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server started for this test session and stopped at its end."""
    if find_postgres_bindir() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the PostgreSQL tests must run: {INSTALL_HINT}", pytrace=False)
        pytest.skip(INSTALL_HINT)
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """The URL of a fresh, empty schema on the session's server (its own search_path)."""
    import psycopg

    schema = f"t{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{pg_server.url}?options={quote(f'-csearch_path={schema}')}"
