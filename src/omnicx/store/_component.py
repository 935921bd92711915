"""The ledger component walk every backend shares; only the entry look-up differs."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from omnicx.identity import LedgerEntry, Link, NeverLink

__all__ = ["walk_component"]


def walk_component(
    keys: Iterable[str], entries_by_refs: Callable[[list[str]], dict[str, LedgerEntry]]
) -> dict[str, LedgerEntry]:
    """Every entry naming an identifier reachable from ``keys`` through links (whatever their status)
    and never-link rules: an engine rebuilt from it knows each identifier a rule names with its
    own sightings and links, not only as the rule's end (a forget can leave a split's rule as the
    one entry between two customers).

    ``entries_by_refs`` returns ``{entry id: entry}`` of the entries naming any of the given keys.
    """
    seen = set(keys)
    frontier = sorted(seen)
    found: dict[str, LedgerEntry] = {}
    while frontier:
        batch = entries_by_refs(frontier)
        frontier = []
        for entry_id, entry in batch.items():
            if entry_id in found:
                continue
            found[entry_id] = entry
            if isinstance(entry, Link | NeverLink):
                for key in (entry.a.key, entry.b.key):
                    if key not in seen:
                        seen.add(key)
                        frontier.append(key)
    return found
