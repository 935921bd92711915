"""Storage benchmark: bulk import and timeline paging, omnicx beside bare sqlite3 (and PostgreSQL).

1. Bulk import: ``append_interactions`` of N messages into a SQLite store (models in,
   validation of duplicates, JSON serialisation, indexes) beside bare
   ``sqlite3.executemany`` of the very same rows into the same schema, same run.
   Target: omnicx >= 0.25x of bare.
2. Timeline: the 50 newest interactions of a customer with 10k interactions over
   20 identifiers, in a store of TOTAL interactions; p50/p99 over many reads on
   SQLite (target p99 <= 5 ms) and PostgreSQL beside it.

    python benchmarks/storage.py                 # quick: 200k-interaction store
    python benchmarks/storage.py --total 1000000 # the issue's size
    python benchmarks/storage.py --no-postgres   # SQLite only
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from omnicx.models import Author, AuthorRole, Direction, Identifier, Message, TextPart, interaction_id
from omnicx.store import PostgresStore, SQLiteStore, Store
from omnicx.store._sql import interaction_row
from omnicx.testing._postgres_server import PostgresServer, find_postgres_bindir

T0 = datetime(2023, 1, 1, tzinfo=UTC)
CHUNK = 10_000
CUSTOMER_SIZE = 10_000
CUSTOMER_IDENTIFIERS = 20
AUTHOR = Author(role=AuthorRole.CUSTOMER)


def customer_identifiers() -> list[Identifier]:
    emails = [
        Identifier(kind="email", value=f"vip{n}@client-corp.fr") for n in range(CUSTOMER_IDENTIFIERS // 2)
    ]
    phones = [Identifier(kind="phone", value=f"+33670{n:02d}4821") for n in range(CUSTOMER_IDENTIFIERS // 2)]
    return emails + phones


def message(n: int, endpoint: Identifier, rng: random.Random) -> Message:
    at = T0 + timedelta(seconds=rng.randrange(0, 365 * 86_400), microseconds=rng.randrange(1_000_000))
    key = f"evt-{n}"
    return Message(
        id=interaction_id("whatsapp", key),
        channel="whatsapp",
        adapter="whatsapp",
        dedupe_key=key,
        occurred_at=at,
        received_at=at,
        direction=Direction.INBOUND,
        author=AUTHOR,
        endpoint=endpoint,
        parts=(TextPart(text=f"Bonjour, où en est ma commande {n % 9973} ? Merci"),),
        platform_message_id=f"wamid.{n}",
    )


def interactions(total: int, seed: int = 1) -> Iterator[list[Message]]:
    """``total`` messages in chunks: CUSTOMER_SIZE on the customer's 20 identifiers, the rest on 100k others."""
    rng = random.Random(seed)
    mine = customer_identifiers()
    others = [Identifier(kind="phone", value=f"+3361{n:07d}") for n in range(100_000)]
    every = max(1, total // CUSTOMER_SIZE)
    chunk: list[Message] = []
    for n in range(total):
        endpoint = mine[(n // every) % len(mine)] if n % every == 0 else others[rng.randrange(len(others))]
        chunk.append(message(n, endpoint, rng))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fill(store: Store, total: int) -> float:
    """Append ``total`` interactions, one transaction per chunk; return interactions/s (model building excluded)."""
    spent = 0.0
    for chunk in interactions(total):
        start = time.perf_counter()
        with store.transaction() as tx:
            report = tx.append_interactions(chunk)
        spent += time.perf_counter() - start
        assert len(report.stored) == len(chunk)
    return total / spent


def bulk_vs_bare(directory: Path, count: int) -> tuple[float, float]:
    """interactions/s of omnicx's bulk append and of bare executemany of the same rows, same schema."""
    models = [m for chunk in interactions(count, seed=2) for m in chunk]
    store = SQLiteStore(directory / "bulk.db")
    start = time.perf_counter()
    with store.transaction() as tx:
        for n in range(0, count, CHUNK):
            tx.append_interactions(models[n : n + CHUNK])
    ours = count / (time.perf_counter() - start)
    store.close()

    SQLiteStore(directory / "bare.db").close()  # the same schema and indexes, then plain sqlite3
    rows = [interaction_row("default", m, None, None) for m in models]
    conn = sqlite3.connect(directory / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO omnicx_interactions (tenant, id, adapter, dedupe_key, channel, type, endpoint, occurred_us, "
        "conversation_id, raw_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    bare = count / (time.perf_counter() - start)
    conn.close()
    return ours, bare


def timeline_latency(store: Store, reads: int) -> tuple[float, float, float, float, float]:
    """p50 and p99 in ms of the first page, then of the second page (through the cursor), and
    the p99 of the first page in CPU time of this thread (what remains once the machine's
    other load, which deschedules the process, is taken out)."""
    mine = customer_identifiers()
    firsts, seconds, cpu = [], [], []
    with store.snapshot() as view:
        page = view.timeline(mine, limit=50)
        assert len(page.items) == 50
    for _ in range(reads):
        start, start_cpu = time.perf_counter(), time.thread_time()
        with store.snapshot() as view:
            page = view.timeline(mine, limit=50)
        firsts.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
        start = time.perf_counter()
        with store.snapshot() as view:
            view.timeline(mine, limit=50, cursor=page.next_cursor)
        seconds.append(time.perf_counter() - start)

    def pct(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000

    return pct(firsts, 50), pct(firsts, 99), pct(seconds, 50), pct(seconds, 99), pct(cpu, 99)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--total", type=int, default=200_000, help="interactions in the timeline store")
    parser.add_argument(
        "--bulk", type=int, default=100_000, help="interactions in the bulk import comparison"
    )
    parser.add_argument("--reads", type=int, default=2000, help="timeline reads measured per backend")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-bulk", action="store_true", help="skip the bulk import comparison")
    parser.add_argument(
        "--keep",
        metavar="PATH",
        help="SQLite file for the timeline store: filled once, reused when it exists",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="omnicx-bench-") as tmp:
        directory = Path(tmp)
        print(
            f"storage benchmark: bulk {args.bulk:,} rows; timeline store {args.total:,} interactions",
            flush=True,
        )
        if not args.no_bulk:
            ours, bare = bulk_vs_bare(directory, args.bulk)
            print("\nbulk import into SQLite (same rows, same schema, one transaction)")
            print(f"  {'':32} {'interactions/s':>15}")
            print(f"  {'omnicx append_interactions':32} {ours:>15,.0f}")
            print(f"  {'bare sqlite3.executemany':32} {bare:>15,.0f}")
            ratio = ours / bare
            print(f"  ratio {ratio:.2f}x of bare (target >= 0.25x): {'PASS' if ratio >= 0.25 else 'FAIL'}")

        rows = []
        path = Path(args.keep) if args.keep else directory / "timeline.db"
        reuse = path.exists()
        sqlite_store = SQLiteStore(path)
        rate = float("nan") if reuse else fill(sqlite_store, args.total)
        rows.append(("SQLite", rate, *timeline_latency(sqlite_store, args.reads)))
        sqlite_store.close()
        if not args.no_postgres and find_postgres_bindir() is not None:
            with PostgresServer(durable=True) as server:
                pg_store = PostgresStore(server.url)
                rate = fill(pg_store, args.total)
                rows.append(("PostgreSQL", rate, *timeline_latency(pg_store, args.reads)))
                pg_store.close()
        print(
            f"\ntimeline: 50 newest of a customer with {CUSTOMER_SIZE:,} interactions over "
            f"{CUSTOMER_IDENTIFIERS} identifiers, store of {args.total:,} ({args.reads} reads)"
        )
        print(
            f"  {'backend':12} {'fill/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'page2 p50':>10} {'page2 p99':>10} "
            f"{'p99 cpu ms':>11}"
        )
        for name, rate, p50, p99, q50, q99, c99 in rows:
            print(
                f"  {name:12} {rate:>10,.0f} {p50:>8.2f} {p99:>8.2f} {q50:>10.2f} {q99:>10.2f} {c99:>11.2f}"
            )
        print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        sqlite_p99 = rows[0][3]
        print(f"  SQLite p99 {sqlite_p99:.2f} ms (target <= 5 ms): {'PASS' if sqlite_p99 <= 5 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
