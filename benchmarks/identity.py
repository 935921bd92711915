#!/usr/bin/env python3
"""Identity resolution benchmark: omnicx against a plain union-find and Splink, side by side.

Usage::

    python benchmarks/identity.py                 # 200k records (about two minutes)
    python benchmarks/identity.py 1m --write-docs # 1M records, results into docs/benchmarks.md
    python benchmarks/identity.py 50k --contenders omnicx-batch uf
    python benchmarks/identity.py 1m --rounds 3   # each contender's median of three runs in turn

A seeded generator (below, self-contained; modelled on the reference harness in
../shared/bench) writes messy interaction records with ground truth to
``benchmarks/.data/<size>/``: people with 0-3 emails, 0-2 phones, a Messenger
PSID and web-chat visitor ids; raw phones in E.164, spaced, dashed, US national,
"(0)" trunk-prefix and WhatsApp digits-without-plus forms; households sharing a
family phone; and about 1% of records carrying a *junk shared identifier that
no default blocklist holds* (a shop's order mailbox, a switchboard number, a
kiosk's chat id). Then every contender runs in its own subprocess (so its peak
RSS is its own) on the same records:

* ``omnicx-batch``: what ``omnicx resolve`` does, from the raw JSONL file to the CSV
  file, normalization and the full default policy included, no blocklist handed
  over; with ``omnicx[fast]`` installed its DuckDB engine reads the file (peak RSS
  and CPU include its helper process);
* ``omnicx-batch-python``: the same with ``--engine python`` (line by line);
* ``omnicx-incremental``: ``IdentityEngine.observe()`` one record at a time
  (identifiers pre-normalized before the clock starts);
* ``omnicx-incremental-bulk``: the same records through ``IdentityEngine.observe_many()``
  in one call (the same engine state; one result for the whole batch);
* ``omnicx-core``: the same records straight into the resolution core (no
  pydantic objects), the engine's own speed;
* ``uf``: plain-Python union-find on pre-normalized identifiers (digits-only
  phones) with the junk list handed over, and ``uf-noblock`` without it;
* ``splink``: Splink 5 deterministic_link (block on email OR phone OR handle)
  and cluster_pairwise_predictions_at_threshold on the same pre-normalized
  input with the junk list handed over (needs ``pip install omnicx[bench]``).

The peers run as ../shared/bench runs them: their input is a parquet file written before
the clock starts, with the junk values already nulled where the junk list is handed
over, and their clock covers reading it and their work (pandas, which pyarrow's first
read imports, is imported before). A peer's process imports nothing of omnicx.

Scores: pairwise and B-cubed precision / recall against the true person of each
record, the largest cluster, records/s and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import cast

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path(os.environ.get("OMNICX_BENCH_DATA", HERE / ".data"))
SEED = 20251124
SIZES = {"10k": 10_000, "50k": 50_000, "100k": 100_000, "200k": 200_000, "1m": 1_000_000}
CONTENDERS = [
    "omnicx-batch",
    "omnicx-batch-python",
    "omnicx-incremental",
    "omnicx-incremental-bulk",
    "omnicx-core",
    "uf",
    "uf-noblock",
    "splink",
]

# --------------------------------------------------------------------------- generator

CHANNELS = {"email": 30, "sms": 12, "whatsapp": 15, "messenger": 10, "chat": 23, "voice": 10}
PHONE_CHANNELS = {"sms", "whatsapp", "voice"}
FIRST = [
    "ana",
    "luis",
    "marta",
    "pablo",
    "james",
    "mary",
    "john",
    "linda",
    "david",
    "susan",
    "karen",
    "nancy",
    "lisa",
    "mark",
    "paul",
    "emma",
    "olivia",
    "noah",
    "liam",
    "mia",
    "sofia",
    "lucas",
    "hugo",
    "lea",
    "jonas",
    "fatima",
    "ahmed",
    "priya",
    "rahul",
    "chloe",
    "mateo",
    "elena",
    "ivan",
    "yuki",
    "kenji",
    "amara",
    "kofi",
    "zanele",
    "thabo",
    "ingrid",
    "lars",
    "astrid",
    "nils",
    "camille",
    "louis",
    "jules",
    "manon",
    "giulia",
    "marco",
]
LAST = [
    "ortiz",
    "smith",
    "garcia",
    "miller",
    "davis",
    "lopez",
    "wilson",
    "moore",
    "taylor",
    "thomas",
    "lee",
    "white",
    "harris",
    "clark",
    "lewis",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "green",
    "baker",
    "adams",
    "nelson",
    "hill",
    "campbell",
    "mitchell",
    "roberts",
    "carter",
    "phillips",
    "evans",
    "turner",
    "torres",
    "parker",
    "collins",
    "edwards",
    "stewart",
    "morris",
    "murphy",
    "cook",
    "rogers",
]
DOMAINS = [
    ("gmail.com", 40),
    ("yahoo.com", 12),
    ("outlook.com", 10),
    ("hotmail.com", 10),
    ("icloud.com", 8),
    ("proton.me", 3),
    ("gmx.de", 4),
    ("orange.fr", 3),
    ("web.de", 3),
    ("live.co.uk", 4),
]
COUNTRIES = [("US", 60), ("GB", 12), ("DE", 9), ("FR", 7), ("IN", 7), ("BR", 5)]
CC = {"US": "1", "GB": "44", "DE": "49", "FR": "33", "IN": "91", "BR": "55"}
US_AREA = [201, 206, 212, 213, 305, 310, 312, 404, 408, 415, 503, 512, 617, 646, 702, 713, 718, 773, 917, 925]

# Junk that no default blocklist holds: only the co-occurrence counts give it away.
JUNK_EMAILS = [
    "orders@shopfront-mail.com",
    "info@globex-corp.com",
    "frontdesk@hotel-plaza.net",
    "bookings@citytours.travel",
    "office@familydental.clinic",
]
JUNK_PHONES = ["+14155238800", "+442079460321", "+33142685300", "+4930901820"]
JUNK_HANDLES = ["chat:kiosk-lobby-01", "chat:shared-ipad-frontdesk"]


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class Phones:
    """Unique mobile numbers that phonenumbers calls valid."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.used = rng, set()

    def _national(self, country: str) -> str:
        r = self.rng
        if country == "US":
            exch = r.randint(200, 999)
            while exch % 100 == 11 or exch == 555:
                exch = r.randint(200, 999)
            return f"{r.choice(US_AREA)}{exch}{r.randint(0, 9999):04d}"
        if country == "GB":
            return f"7{r.randint(4, 9)}{r.randint(0, 99_999_999):08d}"
        if country == "DE":
            return f"1{r.choice(['51', '52', '60', '70', '71', '76'])}{r.randint(0, 99_999_999):08d}"
        if country == "FR":
            return f"{r.choice('67')}{r.randint(0, 99_999_999):08d}"
        if country == "IN":
            return f"{r.choice('6789')}{r.randint(0, 999_999_999):09d}"
        return f"{r.choice(['11', '21', '31', '41'])}9{r.randint(0, 99_999_999):08d}"

    def new(self, country: str | None = None) -> tuple[str, str]:
        import phonenumbers

        country = country or _weighted(self.rng, COUNTRIES)
        while True:
            e164 = "+" + CC[country] + self._national(country)
            if e164 in self.used or not phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
                continue
            self.used.add(e164)
            return e164, country


def phone_raw(rng: random.Random, e164: str, country: str, channel: str) -> str:
    """A phone as the channel's source system writes it."""
    nat = e164[1 + len(CC[country]) :]
    if channel == "whatsapp":
        return e164[1:] if rng.random() < 0.85 else e164
    x = rng.random()
    if x < 0.5:
        return e164
    if country == "US":
        a, b, c = nat[:3], nat[3:6], nat[6:]
        return (f"+1 {a} {b} {c}", f"+1-{a}-{b}-{c}", f"({a}) {b}-{c}", f"{a}.{b}.{c}")[int((x - 0.5) * 8)]
    groups = " ".join(nat[i : i + 3] for i in range(0, len(nat), 3))
    if x < 0.75:
        return f"+{CC[country]} {groups}"
    if x < 0.87:
        return f"+{CC[country]}-" + "-".join(nat[i : i + 4] for i in range(0, len(nat), 4))
    return f"+{CC[country]} (0) {groups}"


def email_raw(rng: random.Random, email: str) -> str:
    x = rng.random()
    local, domain = email.split("@")
    out = email if x < 0.7 else (local.title() + "@" + domain.upper() if x < 0.9 else email.upper())
    if rng.random() < 0.03:
        out = " " + out + " "
    return out


def generate(n: int, seed: int = SEED) -> tuple[list[dict[str, object]], list[int], dict[str, object]]:
    """Records (JSONL objects), the true person of each, and counts describing them."""
    rng = random.Random(seed)
    n_persons = max(1, n // 4)
    weights = [rng.lognormvariate(0.0, 1.1) for _ in range(n_persons)]
    owner = rng.choices(range(n_persons), weights=weights, k=n)
    phones = Phones(random.Random(seed + 1))
    prng = random.Random(seed + 2)
    people: dict[int, dict[str, object]] = {}
    for pid in sorted(set(owner)):
        first, last = prng.choice(FIRST), prng.choice(LAST)
        tag = f"{pid * 7919 % 9_999_991}"
        emails = [f"{first}.{last}.{tag}@{_weighted(prng, DOMAINS)}"]
        if prng.random() < 0.25:
            emails.append(f"{first[0]}{last}{tag}@{prng.choice(['acme', 'initech', 'umbrella'])}.com")
            if prng.random() < 0.2:
                emails.append(f"{last}_{tag}@{_weighted(prng, DOMAINS)}")
        if prng.random() < 0.1:
            emails = []
        own = [phones.new()] if prng.random() < 0.85 else []
        if own and prng.random() < 0.15:
            own.append(phones.new(own[0][1]))
        feasible = [
            c
            for c in CHANNELS
            if (c in PHONE_CHANNELS and own) or c in ("messenger", "chat") or (c == "email" and emails)
        ]
        chans = prng.sample(feasible, k=min(len(feasible), prng.choices([1, 2, 3], weights=[35, 40, 25])[0]))
        people[pid] = {
            "emails": emails,
            "phones": own,
            "psid": str(prng.randint(10**15, 10**16 - 1)),
            "visitors": [f"v_{prng.getrandbits(48):012x}" for _ in range(1 + (prng.random() < 0.3))],
            "channels": chans,
            "family": None,
        }
    hrng = random.Random(seed + 3)
    pool = sorted(people)
    hrng.shuffle(pool)
    i = households = 0
    while i < int(len(pool) * 0.015):
        members = pool[i : i + hrng.choice([2, 2, 3, 4])]
        i += len(members)
        family = phones.new("US")
        for m in members:
            people[m]["family"] = family
            if not people[m]["phones"]:
                people[m]["phones"] = [family]
                people[m]["channels"] = [*people[m]["channels"], "voice"]  # type: ignore[misc]
        households += 1
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()
    stamps = sorted(int(t0 + rng.random() * 730 * 86400) for _ in range(n))
    rrng = random.Random(seed + 4)
    records, truth, junk = [], [], 0
    for idx in range(n):
        p = people[owner[idx]]
        chans: list[str] = p["channels"]  # type: ignore[assignment]
        ch = rrng.choices(chans, weights=[0.6, 0.3, 0.1, 0.1][: len(chans)])[0]
        em: list[str] = p["emails"]  # type: ignore[assignment]
        ph: list[tuple[str, str]] = p["phones"]  # type: ignore[assignment]

        def pick(items: list, bias: float = 0.75) -> object:
            return items[0] if len(items) == 1 or rrng.random() < bias else rrng.choice(items[1:])

        def a_phone(channel: str, p: dict[str, object] = p, ph: list[tuple[str, str]] = ph) -> str:
            fam = p["family"]
            e164, country = fam if fam and channel in ("voice", "sms") and rrng.random() < 0.35 else pick(ph)  # type: ignore[misc]
            return phone_raw(rrng, e164, country, channel)

        email = phone = handle = None
        if ch == "email":
            email = email_raw(rrng, pick(em))  # type: ignore[arg-type]
            if ph and rrng.random() < 0.25:
                phone = a_phone("email")
        elif ch in ("sms", "voice", "whatsapp"):
            phone = a_phone(ch)
            if em and rrng.random() < 0.2:
                email = email_raw(rrng, pick(em))  # type: ignore[arg-type]
        elif ch == "messenger":
            handle = "messenger:" + str(p["psid"])
            if em and rrng.random() < 0.3:
                email = email_raw(rrng, pick(em))  # type: ignore[arg-type]
            if ph and rrng.random() < 0.2:
                phone = a_phone("messenger")
        else:
            if rrng.random() < 0.6:
                handle = "chat:" + str(pick(p["visitors"], 0.6))  # type: ignore[arg-type]
            if em and rrng.random() < 0.7:
                email = email_raw(rrng, pick(em))  # type: ignore[arg-type]
            if ph and rrng.random() < 0.3:
                phone = a_phone("chat")
            if email is None and phone is None and handle is None:
                handle = "chat:" + str(p["visitors"][0])  # type: ignore[index]
        if rrng.random() < 0.01:
            junk += 1
            replace = ch != "whatsapp" and rrng.random() < 0.5
            if ch in ("sms", "voice") and replace:
                phone = rrng.choice(JUNK_PHONES)
            elif ch == "chat" and replace and handle is not None:
                handle = rrng.choice(JUNK_HANDLES)
            elif replace:
                email = rrng.choice(JUNK_EMAILS)
            else:
                free = [s for s, v in (("email", email), ("phone", phone)) if v is None]
                slot = rrng.choice(free) if free else "email"
                if slot == "email":
                    email = rrng.choice(JUNK_EMAILS)
                else:
                    phone = rrng.choice(JUNK_PHONES)
        ids = [
            {"type": t, "value": v} for t, v in (("email", email), ("phone", phone), ("handle", handle)) if v
        ]
        ts = dt.datetime.fromtimestamp(stamps[idx], dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        records.append({"record_id": f"r{idx:08d}", "ts": ts, "channel": ch, "identifiers": ids})
        truth.append(owner[idx])
    stats = {"records": n, "persons": len(people), "records_with_junk": junk, "households": households}
    return records, truth, stats


def prepare(size: str) -> Path:
    """Write the data set once: records.jsonl, truth.json, junk.txt, norm.parquet (peers' input)."""
    out = DATA / size
    if (out / "done").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    records, truth, stats = generate(SIZES.get(size) or int(size))
    with open(out / "records.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    (out / "truth.json").write_text(json.dumps(truth))
    (out / "junk.txt").write_text("\n".join(JUNK_EMAILS + JUNK_PHONES + JUNK_HANDLES) + "\n")
    (out / "stats.json").write_text(json.dumps(stats))
    _write_peer_input(records, out)
    (out / "done").write_text("ok")
    print(f"generated {size} in {time.perf_counter() - t:.1f} s: {stats}", file=sys.stderr)
    return out


def _simple(kind: str, value: str) -> str:
    if kind == "email":
        return value.strip().lower()
    if kind == "phone":
        return "".join(ch for ch in value if ch.isdigit())
    return value.strip()


def _write_peer_input(records: list[dict[str, object]], out: Path) -> None:
    """The peers' input, as ../shared/bench prepares it: digits-only phones, lower-cased emails."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols: dict[str, list[str | None]] = {"email": [], "phone": [], "handle": []}
    for r in records:
        row = dict.fromkeys(cols)
        for item in r["identifiers"]:  # type: ignore[attr-defined]
            row[item["type"]] = _simple(item["type"], item["value"])
        for k in cols:
            cols[k].append(row[k])
    table = pa.table(
        {
            "rid": pa.array(range(len(records)), pa.int64()),
            **{k: pa.array(v, pa.string()) for k, v in cols.items()},
        }
    )
    pq.write_table(table, out / "norm.parquet")


# --------------------------------------------------------------------------- contenders


def _peak_mib() -> float:
    """This process's peak resident set (VmHWM: reset by exec, unlike ru_maxrss which a child inherits)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _peer_input(folder: Path, blocklist: bool) -> Path:
    """The peers' parquet input: ``norm.parquet``, or with ``blocklist`` ``norm_blocked.parquet``,
    the same with the junk values nulled, as ../shared/bench prepares its ``simple`` variant
    (untimed: a peer is handed its blocklist applied, and only reads the file in its clock)."""
    if not blocklist:
        return folder / "norm.parquet"
    out = folder / "norm_blocked.parquet"
    sources = (folder / "norm.parquet", folder / "junk.txt")
    if not out.exists() or any(f.stat().st_mtime > out.stat().st_mtime for f in sources):
        import pyarrow as pa
        import pyarrow.parquet as pq

        junk = {
            _simple("email" if "@" in v else ("handle" if ":" in v else "phone"), v)
            for v in (folder / "junk.txt").read_text().split()
        }
        t = pq.read_table(folder / "norm.parquet")
        columns = {
            k: (
                t.column(k)
                if k == "rid"
                else pa.array([None if v in junk else v for v in t.column(k).to_pylist()], pa.string())
            )
            for k in t.column_names
        }
        partial = out.with_suffix(".partial")
        pq.write_table(pa.table(columns), partial)
        partial.replace(out)
    return out


def _load_peer_columns(path: Path) -> tuple[int, list[list[str | None]]]:
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["email", "phone", "handle"])
    return t.num_rows, [t.column(k).to_pylist() for k in ("email", "phone", "handle")]


def run_uf(path: Path) -> list[int]:
    n, cols = _load_peer_columns(path)
    parent, size = list(range(n)), [1] * n

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for col in cols:
        owner: dict[str, int] = {}
        for i, v in enumerate(col):
            if v is None:
                continue
            j = owner.setdefault(v, i)
            if j != i:
                ri, rj = find(i), find(j)
                if ri != rj:
                    if size[ri] < size[rj]:
                        ri, rj = rj, ri
                    parent[rj] = ri
                    size[ri] += size[rj]
    return [find(i) for i in range(n)]


def run_splink(path: Path) -> list[int]:
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE input_records AS SELECT rid AS unique_id, email, phone, handle FROM read_parquet('{path}')"
    )
    api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("email"), block_on("phone"), block_on("handle")],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(api.register("input_records"), settings, log_level=None)
    pairs = linker.inference.deterministic_link()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs)
    res = con.sql(
        f"SELECT unique_id, dense_rank() OVER (ORDER BY cluster_id) AS c FROM {clusters.physical_name} "
        "ORDER BY unique_id"
    ).fetchall()
    return [int(c) for _, c in res]


def run_omnicx_batch(folder: Path, engine: str) -> Path:
    """What ``omnicx resolve`` does: the JSONL file in, the CSV file out (read back after the clock)."""
    from omnicx.cli._resolve import resolve_file
    from omnicx.identity import MergePolicy

    out = folder / f"omnicx-{engine}.csv"
    done = resolve_file(str(folder / "records.jsonl"), str(out), MergePolicy(), engine=engine)
    assert done.engine == ("duckdb" if engine == "auto" else "python"), done
    return out


def _labels_from_csv(path: Path) -> list[int]:
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        next(rows)
        labels = _labels_from(rows)
    path.unlink()
    return labels


def _labels_from(pairs: object) -> list[int]:
    names: dict[str, int] = {}
    out = []
    for n, (_, label) in enumerate(pairs):  # type: ignore[attr-defined]
        out.append(names.setdefault(label, len(names)) if label else -1 - n)
    return out


def _prenormalized(folder: Path) -> list[list[tuple[str, str]]]:
    """Every record's identifiers as (kind, normalized value), computed before the clock starts."""
    from omnicx.cli._resolve import Resolver
    from omnicx.identity import MergePolicy

    resolver = Resolver(MergePolicy())
    out = []
    with open(folder / "records.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            ids = []
            for item in r["identifiers"]:
                got = resolver.identifier(item["type"], item["value"], r["channel"] == "whatsapp")
                if got is not None and got not in ids:
                    ids.append(got)
            out.append((r["ts"], r["channel"], r["record_id"], ids))
    return out  # type: ignore[return-value]


def run_omnicx_incremental(folder: Path, prepared: list) -> list[int]:  # type: ignore[type-arg]
    from omnicx.identity import IdentityEngine

    engine = IdentityEngine()
    for at, channel, rid, idents in prepared:
        engine.observe(idents, at=at, channel=channel, dedupe_key=rid)
    return _labels_by_identifier(engine, prepared)


def run_omnicx_incremental_bulk(folder: Path, prepared: list) -> list[int]:  # type: ignore[type-arg]
    from omnicx.identity import IdentityEngine

    engine = IdentityEngine()
    got = engine.observe_many(prepared)
    names: dict[str, int] = {}
    return [names.setdefault(cid, len(names)) if cid else -1 - n for n, cid in enumerate(got.customer_ids)]


def _labels_by_identifier(engine: object, prepared: list) -> list[int]:  # type: ignore[type-arg]
    from omnicx.identity._core import MEMBER

    core = engine._core  # type: ignore[attr-defined]
    out = []
    for n, (_, _, _, idents) in enumerate(prepared):
        label = -1 - n
        for ident in idents:
            x = core.index[ident.key]
            if core.flag[x] == MEMBER:
                label = core.find(x)
                break
        out.append(label)
    return out


def run_omnicx_core(folder: Path, prepared: list) -> list[int]:  # type: ignore[type-arg]
    import gc

    from omnicx.identity import MergePolicy
    from omnicx.identity._core import MEMBER, Core
    from omnicx.identity._engine import DEFAULT_SALT

    gc.disable()  # as `omnicx resolve` does: the engine makes no reference cycles
    core = Core(MergePolicy().compile(), DEFAULT_SALT)
    observe, settle = core.observe, core.settle
    per_record = []
    for keys, kinds, ranks, at, ev in prepared:
        ids, _, touched, hot = observe(keys, kinds, ranks, at, ev)
        if touched or hot:
            settle(touched, hot)
        per_record.append(ids)
    out = []
    flag, find = core.flag, core.find
    for n, ids in enumerate(per_record):
        label = -1 - n  # the customer of the record's first member identifier, else its own
        for x in ids:
            if flag[x] == MEMBER:
                label = find(x)
                break
        out.append(label)
    return out


def contender(name: str, folder: Path) -> dict[str, object]:
    """Run one contender in this process; timings exclude imports and untimed preparation (a
    peer's process imports nothing of omnicx, so that its peak RSS is its own)."""
    if name.startswith("omnicx"):
        import phonenumbers  # noqa: F401  (imported before the clock, as a service would)

        import omnicx.cli._resolve
        import omnicx.identity  # noqa: F401

    prepared = None
    if name in ("omnicx-incremental", "omnicx-incremental-bulk", "omnicx-core"):
        from datetime import datetime

        from omnicx.models import Identifier

        raw = _prenormalized(folder)
        if name == "omnicx-incremental":
            prepared = [
                (datetime.fromisoformat(ts), ch, rid, [Identifier.parse(k) for k, _ in ids])
                for ts, ch, rid, ids in raw
            ]
        elif name == "omnicx-incremental-bulk":
            from omnicx.identity import Observation

            prepared = [
                Observation([Identifier.parse(k) for k, _ in ids], datetime.fromisoformat(ts), ch, rid)
                for ts, ch, rid, ids in raw
            ]
        else:  # the core's own arguments: key, kind and rank lists, evidence tuple
            prepared = [
                (
                    [k for k, _ in ids],
                    [kind for _, kind in ids],
                    [1] * len(ids),
                    datetime.fromisoformat(ts),
                    (ch, rid, None, None),
                )
                for ts, ch, rid, ids in raw
            ]
        del raw
    if name in ("splink", "omnicx-batch"):
        # not NumPy for omnicx: it starts threads on import, and `omnicx resolve` forks its helper
        # process only from a process with one thread (its DuckDB engine imports NumPy after that)
        import duckdb  # noqa: F401
    if name == "splink":
        import numpy  # noqa: F401  (Splink imports it with itself)
        import splink  # noqa: F401
    peer_input = None
    if name.startswith(("uf", "splink")):
        import pandas  # noqa: F401  (pyarrow's first read_table imports it: not the peer's work)
        import pyarrow.parquet  # noqa: F401

        peer_input = _peer_input(folder, blocklist=name != "uf-noblock")
    rss_before = _peak_mib()
    cpu = time.process_time()
    t = time.perf_counter()
    written = None
    if name == "omnicx-batch":
        written = run_omnicx_batch(folder, "auto")
    elif name == "omnicx-batch-python":
        written = run_omnicx_batch(folder, "python")
    elif name == "omnicx-incremental":
        labels = run_omnicx_incremental(folder, prepared)  # type: ignore[arg-type]
    elif name == "omnicx-incremental-bulk":
        labels = run_omnicx_incremental_bulk(folder, prepared)  # type: ignore[arg-type]
    elif name == "omnicx-core":
        labels = run_omnicx_core(folder, prepared)  # type: ignore[arg-type]
    elif name in ("uf", "uf-noblock"):
        assert peer_input is not None
        labels = run_uf(peer_input)
    elif name == "splink":
        assert peer_input is not None
        labels = run_splink(peer_input)
    elif written is None:
        raise SystemExit(f"unknown contender {name}")
    wall = time.perf_counter() - t
    cpu = time.process_time() - cpu
    if written is not None:
        labels = _labels_from_csv(written)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_s": cpu + children.ru_utime + children.ru_stime,
        "contender": name,
        "wall_s": wall,
        # with the peak of a helper process the contender forked (omnicx resolve's DuckDB engine)
        "peak_rss_mib": _peak_mib() + children.ru_maxrss / 1024.0,
        "rss_before_mib": rss_before,
        "helper_peak_mib": children.ru_maxrss / 1024.0,  # 0: no helper process ran
        **score(labels, json.loads((folder / "truth.json").read_text())),
    }


def score(labels: list[int], truth: list[int]) -> dict[str, float | int]:
    """Pairwise and B-cubed precision/recall of ``labels`` against ``truth`` (one per record)."""
    lab, tru = Counter(labels), Counter(truth)
    cell = Counter(zip(labels, truth, strict=True))

    def pairs(counter: Counter) -> int:  # type: ignore[type-arg]
        return sum(c * (c - 1) // 2 for c in counter.values())

    tp, pp, tp_all = pairs(cell), pairs(lab), pairs(tru)
    n = len(labels)
    b3p = sum(cell[(label, t)] / lab[label] for label, t in zip(labels, truth, strict=True)) / n
    b3r = sum(cell[(label, t)] / tru[t] for label, t in zip(labels, truth, strict=True)) / n
    return {
        "records": n,
        "pair_precision": tp / pp if pp else 1.0,
        "pair_recall": tp / tp_all if tp_all else 1.0,
        "bcubed_precision": b3p,
        "bcubed_recall": b3r,
        "clusters": len(lab),
        "largest_cluster": max(lab.values()),
    }


def isolated(name: str, folder: Path) -> dict[str, object]:
    """Run a contender in a fresh subprocess so its peak RSS is its own."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run(
        [sys.executable, __file__, "--one", name, str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])  # type: ignore[no-any-return]
    return {"contender": name, "error": (proc.stderr.strip() or f"exit {proc.returncode}")[-600:]}


NAMES = {
    "omnicx-batch": "omnicx batch (`omnicx resolve`, DuckDB engine: raw JSONL to CSV, normalization + default policy, no blocklist)",
    "omnicx-batch-python": "omnicx batch (`omnicx resolve --engine python`: raw JSONL to CSV, line by line)",
    "omnicx-incremental": "omnicx incremental (`IdentityEngine.observe` per record, pre-normalized, no blocklist)",
    "omnicx-incremental-bulk": "omnicx incremental in one call (`IdentityEngine.observe_many`, pre-normalized, no blocklist)",
    "omnicx-core": "omnicx resolution core alone (pre-normalized keys, cyclic GC paused, no blocklist)",
    "uf": "plain-Python union-find (digits-only phones, junk list handed over)",
    "uf-noblock": "plain-Python union-find (digits-only phones, no junk list)",
    "splink": "Splink 5 deterministic link + clustering (DuckDB; digits-only phones, junk list handed over)",
}


def _num(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else "n/a"


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run of median wall time of one contender's runs (the lower median of an even
    count), with the range of the wall times as ``wall_range`` when there are several; a
    failed run stands for them all."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda r: r["wall_s"])  # type: ignore[arg-type,return-value]
    out = dict(ordered[(len(ordered) - 1) // 2])
    if len(ordered) > 1:
        out["wall_range"] = (ordered[0]["wall_s"], ordered[-1]["wall_s"])
    return out


def table(results: list[dict[str, object]]) -> str:
    ranged = any("wall_range" in r for r in results)
    rows = [
        "| contender | wall s |"
        + (" wall range s |" if ranged else "")
        + " CPU s | records/s | peak RSS MiB | pair P | pair R | B³ P | B³ R | clusters | largest |",
        "|---|---:|" + ("---:|" if ranged else "") + "---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r:
            rows.append(
                f"| {NAMES.get(str(r['contender']), r['contender'])} | failed: {str(r['error'])[-120:]} "
                + "|"
                + " |" * (10 if ranged else 9)
            )
            continue
        span = ""
        if ranged:
            low, high = cast("tuple[float, float]", r.get("wall_range", (r["wall_s"], r["wall_s"])))
            span = f"{low:.2f} to {high:.2f} | "
        rows.append(
            f"| {NAMES.get(str(r['contender']), r['contender'])} | {r['wall_s']:.2f} | {span}"
            f"{_num(r.get('cpu_s'))} | "
            f"{r['records'] / r['wall_s']:,.0f} | {r['peak_rss_mib']:.0f} | {r['pair_precision']:.4f} | "  # type: ignore[operator]
            f"{r['pair_recall']:.4f} | {r['bcubed_precision']:.4f} | {r['bcubed_recall']:.4f} | "
            f"{r['clusters']:,} | {r['largest_cluster']:,} |"
        )
    return "\n".join(rows)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("size", nargs="?", default="200k", help="10k | 50k | 100k | 200k | 1m | a record count")
    ap.add_argument("--contenders", nargs="+", default=CONTENDERS, choices=CONTENDERS)
    ap.add_argument("--write-docs", action="store_true", help="write the table into docs/benchmarks.md")
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the contenders this many times, in turn, and report each one's median run "
        "(the machine's speed drifts over minutes: rounds put the contenders side by side)",
    )
    ap.add_argument("--one", nargs=2, metavar=("CONTENDER", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(contender(args.one[0], Path(args.one[1]))))
        return 0
    try:
        import pyarrow  # noqa: F401  (writes the peers' input)
    except ImportError:
        print("benchmarks/identity.py needs the bench extra: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    folder = prepare(args.size)
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in args.contenders}
    for turn in range(max(1, args.rounds)):
        for name in args.contenders:
            if name == "splink" and not _importable("splink"):
                res: dict[str, object] = {
                    "contender": name,
                    "error": "splink is not installed: pip install -e '.[bench]'",
                }
            else:
                res = isolated(name, folder)
            runs[name].append(res)
            brief = (
                res.get("error")
                or f"{res['wall_s']:.2f} s, {res['peak_rss_mib']:.0f} MiB, "
                f"P {res['pair_precision']:.4f} R {res['pair_recall']:.4f}"
            )
            turns = f" (round {turn + 1})" if args.rounds > 1 else ""
            print(f"[{args.size}] {name}{turns}: {brief}", file=sys.stderr, flush=True)
    results = [median_run(runs[name]) for name in args.contenders]
    stats = json.loads((folder / "stats.json").read_text())
    text = (
        f"### {args.size} records ({stats['persons']:,} people, {stats['records_with_junk']:,} records with junk, "
        f"{stats['households']:,} households), seed {SEED}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d}, Python {sys.version.split()[0]}, {os.cpu_count()} cores"
        + (f", median of {args.rounds} rounds run in turn" if args.rounds > 1 else "")
        + "\n\n"
        + table(results)
        + "\n"
    )
    print(text)
    if args.write_docs:
        _write_docs(args.size, text)
    return 0


def _write_docs(size: str, text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    marker_start, marker_end = f"<!-- identity:{size}:start -->", f"<!-- identity:{size}:end -->"
    body = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{marker_start}\n{text}{marker_end}"
    if marker_start in body:
        head, rest = body.split(marker_start, 1)
        body = head + block + rest.split(marker_end, 1)[1]
    else:
        body = body.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(body)


if __name__ == "__main__":
    sys.exit(main())
