"""Explanations: the evidence path between two identifiers, and a customer's history.

Both are derived from the resolution core's current state (a pure function of the
ledger and the policy), so they explain what the engine answers now.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise

from omnicx.identity import _core as core
from omnicx.identity._core import Core, Ev, LinkRec, NeverRec
from omnicx.identity._ledger import Evidence, LinkKind
from omnicx.identity._results import EvidenceStep, Explanation, HistoryEvent
from omnicx.models import Assurance, Identifier

__all__ = ["evidence", "history", "why_linked"]


def evidence(ev: Ev) -> Evidence:
    """The public form of an internal evidence tuple."""
    return Evidence(channel=ev[0], dedupe_key=ev[1], actor=ev[2], reason=ev[3])


def why_linked(
    c: Core, ident: Callable[[int], Identifier], a: Identifier, b: Identifier, x: int, y: int
) -> Explanation | None:
    """The shortest chain of admitted links from ``x`` to ``y`` (``a`` and ``b``); None when not one customer.

    Of several shortest chains, the breadth-first search that visits neighbours in the order
    of their keys finds one: the choice depends on the ledger alone, not on the order in which
    the engine met the identifiers (their ints).
    """
    if c.flag[x] != core.MEMBER or c.flag[y] != core.MEMBER or c.find(x) != c.find(y):
        return None
    keys = c.keys
    prev: dict[int, int] = {x: x}
    queue = deque([x])
    while queue and y not in prev:
        u = queue.popleft()
        for v in sorted(c.nbrs.get(u, ()), key=lambda v: keys[v] or ""):
            if v not in prev and c.pairs[(min(u, v), max(u, v))].status == core.ADMITTED:
                prev[v] = u
                queue.append(v)
    path = [y]
    while path[-1] != x:
        path.append(prev[path[-1]])
    path.reverse()
    steps = []
    for u, v in pairwise(path):
        pair = c.pairs[(min(u, v), max(u, v))]
        assert pair.key is not None
        rec = pair.key[1]
        steps.append(
            EvidenceStep(
                source=ident(u),
                target=ident(v),
                link_id=rec.id,
                kind=LinkKind(rec.kind),
                at=rec.at,
                assurance=Assurance(rec.assurance),
                evidence=evidence(rec.ev),
            )
        )
    return Explanation(a=a, b=b, customer_id=c.birth_id(c.canon_of(c.find(x))), steps=tuple(steps))


def history(c: Core, ident: Callable[[int], Identifier], root: int) -> tuple[HistoryEvent, ...]:
    """The events of the customer rooted at ``root``, oldest first (see IdentityEngine.history)."""
    current = c.birth_id(c.canon_of(root))
    members = [m for m in c.members_of(root) if c.flag[m] == core.MEMBER]
    inside = set(members)
    events: list[tuple[tuple[datetime, str], HistoryEvent]] = []
    parent = {m: m for m in members}
    canon = {m: m for m in members}

    def revoked(entry: LinkRec | NeverRec, reason: str) -> None:
        """The ``revoked`` event of a link or rule a revocation lifted (none while it holds)."""
        if entry.active or entry.revoked_at is None:
            return
        assert entry.revoked_ev is not None
        assert entry.revoked_by is not None
        event = HistoryEvent(
            type="revoked",
            at=entry.revoked_at,
            customer_id=current,
            identifiers=(ident(entry.a), ident(entry.b)),
            link_id=entry.id,
            reason=reason,
            evidence=evidence(entry.revoked_ev),
        )
        events.append(((entry.revoked_at, entry.revoked_by), event))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    pairs = c.all_pairs_of(members)
    admitted = sorted(
        (p for p in pairs if p.status == core.ADMITTED and p.a in inside and p.b in inside),
        key=lambda p: p.key,  # type: ignore[arg-type,return-value]
    )
    for p in admitted:
        ra, rb = find(p.a), find(p.b)
        if ra == rb:
            continue
        ca, cb = canon[ra], canon[rb]
        keep, lose = (ca, cb) if c.older(ca, cb) else (cb, ca)
        parent[rb] = ra
        canon[ra] = keep
        assert p.key is not None
        rec = p.key[1]
        events.append(
            (
                (rec.at, rec.id),
                HistoryEvent(
                    type="merged",
                    at=rec.at,
                    customer_id=c.birth_id(keep),
                    retired_id=c.birth_id(lose) if c.first_at[lose] < rec.at else None,
                    identifiers=(ident(rec.a), ident(rec.b)),
                    link_id=rec.id,
                    evidence=evidence(rec.ev),
                ),
            )
        )
    for p in pairs:
        for i in p.links:
            link = c.links[i]
            if link is not None:
                revoked(link, "link revoked")
        if p.status in core.REFUSED and p.key is not None:
            status, detail = c.verdict(p)
            rec = p.key[1]
            events.append(
                (
                    (rec.at, rec.id),
                    HistoryEvent(
                        type="refused",
                        at=rec.at,
                        customer_id=current,
                        identifiers=(ident(rec.a), ident(rec.b)),
                        link_id=rec.id,
                        reason=f"{status}: {detail}",
                        evidence=evidence(rec.ev),
                    ),
                )
            )
    for rule in c.never_ids.values():
        if not (rule.a in inside or rule.b in inside):
            continue
        revoked(rule, "never-link rule revoked")
        if rule.active:
            events.append(
                (
                    (rule.at, rule.id),
                    HistoryEvent(
                        type="never_link",
                        at=rule.at,
                        customer_id=current,
                        identifiers=(ident(rule.a), ident(rule.b)),
                        link_id=rule.id,
                        reason="never-link rule",
                        evidence=evidence(rule.ev),
                    ),
                )
            )
    order = {"merged": 0, "revoked": 1, "never_link": 2, "refused": 3}
    events.sort(key=lambda item: (item[0][0], order[item[1].type], item[0][1]))
    return tuple(e for _, e in events)
