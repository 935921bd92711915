"""Webhook → stored, one transaction per request, through the whole hub pipeline.

Self-contained: a seeded generator makes a realistic mix of signed requests
(WhatsApp Cloud API, web chat, email, Twilio Voice; real payload shapes, see
tests/hub/_payloads.py) from a population of customers who come back on several
channels, then each contender ingests the same requests in one process:

* omnicx ``Hub.ingest`` on SQLite (and PostgreSQL when its binaries are installed):
  raw inbox, verify, parse, normalize, identity, store, conversations, events;
* the floor: the adapters' signature check and parse alone, nothing stored;
* the peer: what a hand-written endpoint does at the least — store the raw body
  and one row per request in SQLite with the stdlib, one transaction each; with
  SQLite's default ``synchronous=FULL`` (an fsync per commit) and with the
  ``NORMAL`` that omnicx's SQLite store uses in WAL mode.

A second table shows what a request costs as one sender's history grows: a customer writing
on WhatsApp again and again, and a junk notification address (``noreply@…``) emailing again
and again; the latency of the next 100 requests is reported after 100, 1,000 and 5,000
earlier ones.

    python benchmarks/hub.py [REQUESTS]       # default 3000
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.hub._payloads builds the signed real-format requests

from tests.hub import _payloads as p  # noqa: E402

from omnicx.hub import Hub  # noqa: E402
from omnicx.models import InboundRequest  # noqa: E402

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
FIRST = ["Ana", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Liu", "Mo", "Noa", "Oli"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "orange.fr", "web.de", "icloud.com"]


def requests(n: int, seed: int = 7) -> list[tuple[str, InboundRequest]]:
    rng = random.Random(seed)
    people = max(10, n // 6)
    out: list[tuple[str, InboundRequest]] = []
    for i in range(n):
        who = int(rng.paretovariate(1.1)) % people if rng.random() < 0.6 else rng.randrange(people)
        name = f"{FIRST[who % len(FIRST)]} {who}"
        mail = f"{FIRST[who % len(FIRST)].lower()}.{who}@{DOMAINS[who % len(DOMAINS)]}"
        wa = f"4479{who:08d}"
        at = T0 + timedelta(minutes=i * 3 + rng.randrange(3))
        kind = rng.random()
        if kind < 0.45:
            out.append(("whatsapp", p.whatsapp(at, wa, name, f"message {i}", wamid=f"wamid.B{i}")))
        elif kind < 0.70:
            out.append(
                (
                    "webchat",
                    p.webchat(
                        at,
                        f"s{who}-{i // 50}",
                        f"v{who}",
                        f"chat {i}",
                        email=mail,
                        name=name,
                        event_id=f"e{i}",
                    ),
                )
            )
        elif kind < 0.90:
            out.append(
                (
                    "email",
                    p.email(
                        at, f"{name} <{mail}>", f"Order {who}", f"mail {i}", message_id=f"m{i}@{DOMAINS[0]}"
                    ),
                )
            )
        else:
            out.append(("twilio_voice", p.twilio_call(at, "+" + wa, "CA" + f"{i:032x}")))
    return out


def run_hub(url: str, batch: list[tuple[str, InboundRequest]]) -> list[float]:
    latencies = []
    with Hub.open(url, channels=p.adapters()) as hub:
        for channel, request in batch:
            start = time.perf_counter()
            result = hub.ingest(channel, request)
            latencies.append(time.perf_counter() - start)
            assert result.status == "accepted", result
    return latencies


def run_bare(path: Path, batch: list[tuple[str, InboundRequest]], synchronous: str = "FULL") -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, channel TEXT, received_at TEXT, body BLOB)")
    latencies = []
    for channel, request in batch:
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO raw (channel, received_at, body) VALUES (?, ?, ?)",
            (channel, request.received_at.isoformat(), request.body),
        )
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - start)
    conn.close()
    return latencies


def run_adapters(batch: list[tuple[str, InboundRequest]]) -> list[float]:
    """The adapters' own work alone, nothing stored: verify the signature and parse.

    The floor of any ingestion that checks what it takes in: the time left for the rest of
    the pipeline within the target is what this leaves."""
    adapters = {a.name: a for a in p.adapters()}  # type: ignore[attr-defined]
    latencies = []
    for channel, request in batch:
        start = time.perf_counter()
        adapter = adapters[channel]
        adapter.verify(request)
        adapter.parse(request)
        latencies.append(time.perf_counter() - start)
    return latencies


SWITCHBOARD = "+442079460958"


def one_sender(count: int, *, junk: bool | str, seed: int = 11) -> list[tuple[str, InboundRequest]]:
    """``count`` messages of one sender a minute apart: a customer on WhatsApp, a junk
    notification address (``noreply@…``, on the default blocklist) by email, or
    (``junk="switchboard"``) the shop's switchboard calling, after five people typed its
    number into the chat form, which quarantines it."""
    rng = random.Random(seed)
    at = [T0 + timedelta(minutes=i) for i in range(count)]
    if junk == "switchboard":
        typed = [
            (
                "webchat",
                p.webchat(
                    T0 - timedelta(minutes=10 - i),
                    f"s{i}",
                    f"v{i}",
                    "call me back",
                    email=f"p{i}@gmail.com",
                    phone=SWITCHBOARD,
                    event_id=f"sw{i}",
                ),
            )
            for i in range(5)
        ]
        return typed + [
            ("twilio_voice", p.twilio_call(at[i], SWITCHBOARD, "CA" + f"{i:032x}")) for i in range(count)
        ]
    if junk:
        return [
            (
                "email",
                p.email(
                    at[i],
                    "Alerts <noreply@alerts.example-shop.io>",
                    "Order",
                    f"n{rng.random()}",
                    message_id=f"j{i}@alerts",
                ),
            )
            for i in range(count)
        ]
    return [
        ("whatsapp", p.whatsapp(at[i], "447911123456", "Ana", f"m{rng.random()}", wamid=f"wamid.L{i}"))
        for i in range(count)
    ]


def history_rows(url_of: Callable[[str], str]) -> list[str]:
    rows = []
    for junk in (False, True, "switchboard"):
        for history in (100, 1_000, 5_000):
            batch = one_sender(history + 100, junk=junk)
            with Hub.open(url_of(f"{junk}-{history}"), channels=p.adapters()) as hub:
                cut = len(batch) - 100  # the latency of the last 100
                for channel, request in batch[:cut]:
                    hub.ingest(channel, request)
                latencies = []
                for channel, request in batch[cut:]:
                    start = time.perf_counter()
                    hub.ingest(channel, request)
                    latencies.append(time.perf_counter() - start)
            q = statistics.quantiles(latencies, n=100)
            who = {False: "customer (WhatsApp)", True: "junk sender (email)"}.get(junk, "switchboard (call)")
            rows.append(
                f"| {who:<19} | {history:>15,} | {statistics.median(latencies) * 1e3:>8.2f} | {q[98] * 1e3:>8.2f} |"
            )
    return rows


def row(label: str, latencies: list[float]) -> str:
    total = sum(latencies)
    q = statistics.quantiles(latencies, n=100)
    return (
        f"| {label:<44} | {len(latencies) / total:>10,.0f} | {statistics.median(latencies) * 1e3:>8.2f} | "
        f"{q[98] * 1e3:>8.2f} |"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    batch = requests(n)
    mix: dict[str, int] = {}
    for channel, _ in batch:
        mix[channel] = mix.get(channel, 0) + 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(row("omnicx Hub.ingest, SQLite (WAL)", run_hub(f"sqlite:///{tmp}/hub.db", batch)))
        rows.append(row("adapters alone: verify + parse, no storage", run_adapters(batch)))
        rows.append(row("bare sqlite3: raw body insert only", run_bare(Path(tmp) / "bare.db", batch)))
        rows.append(
            row(
                "bare sqlite3, synchronous=NORMAL (as omnicx)",
                run_bare(Path(tmp) / "bare-normal.db", batch, "NORMAL"),
            )
        )
    try:
        from omnicx.testing._postgres_server import PostgresServer, find_postgres_bindir

        if find_postgres_bindir() is not None:
            with PostgresServer() as server:
                rows.append(row("omnicx Hub.ingest, PostgreSQL", run_hub(server.url, batch)))
        else:
            rows.append(
                "| omnicx Hub.ingest, PostgreSQL                | (PostgreSQL binaries not installed) |"
            )
    except ImportError:
        pass
    print(
        f"hub ingestion benchmark: {n} signed requests, mix {dict(sorted(mix.items()))}, one transaction each"
    )
    print()
    print(f"| {'contender':<44} | {'requests/s':>10} | {'p50 ms':>8} | {'p99 ms':>8} |")
    print(f"|{'-' * 46}|{'-' * 11}:|{'-' * 9}:|{'-' * 9}:|")
    for line in rows:
        print(line)
    with tempfile.TemporaryDirectory() as tmp:
        lines = history_rows(lambda name: f"sqlite:///{tmp}/history-{name}.db")
    print()
    print("one sender's requests as its history grows (SQLite, latency of the next 100)")
    print()
    print(f"| {'sender':<19} | {'earlier requests':>15} | {'p50 ms':>8} | {'p99 ms':>8} |")
    print(f"|{'-' * 21}|{'-' * 16}:|{'-' * 9}:|{'-' * 9}:|")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
