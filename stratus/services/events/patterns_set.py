"""Many compiled patterns, one event: which ids match, without walking every pattern.

Approach: most rules require an exact string at some field outside any ``$or`` (typically
``source`` or ``detail-type``). For each pattern we pick such an anchor -- the required
field path whose leaf holds only exact strings, preferring the fewest values and the
shallowest path -- and index the pattern under ``(path, value)``. For an event we read the
values at each indexed path once (a handful of paths in practice), look up the candidate
patterns, and fully match only those, plus the few patterns without an anchor. Matching
cost grows with the number of candidates, not with the number of rules.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from stratus.services.events.patterns import Pattern
from stratus.services.events.patterns_match import MISSING, ObjectNode, objects, scalars

Path = tuple[str, ...]


def anchor(pattern: Pattern) -> tuple[Path, frozenset[str]] | None:
    """The best required exact-string field of a pattern, or None."""
    best: tuple[int, int, Path, frozenset[str]] | None = None
    stack: list[tuple[Path, ObjectNode]] = [((), pattern.root)]
    while stack:
        path, node = stack.pop()
        for key, leaf in node.leaves.items():
            if leaf.only_strings():
                rank = (len(leaf.strings), len(path))
                if best is None or rank < best[:2]:
                    best = (*rank, (*path, key), frozenset(leaf.strings))
        for key, child in node.children.items():
            stack.append(((*path, key), child))
    return None if best is None else (best[2], best[3])


def values_at(event: Mapping[str, Any], path: Path) -> list[Any]:
    """The scalar values an event holds at a path, through arrays (a superset of what any
    array-consistent match can use, which is all an index lookup needs)."""
    level: list[Any] = [event]
    for key in path[:-1]:
        nxt: list[Any] = []
        for obj in level:
            nxt.extend(objects(obj.get(key, MISSING)))
        level = nxt
    out: list[Any] = []
    for obj in level:
        out.extend(scalars(obj.get(path[-1], MISSING)))
    return out


class PatternSet:
    """Patterns keyed by id (a rule name, a subscription ARN ...)."""

    def __init__(self, patterns: Iterable[tuple[Hashable, Pattern]] = ()) -> None:
        self._patterns: dict[Hashable, tuple[int, Pattern]] = {}
        self._index: dict[Path, dict[str, set[Hashable]]] = {}
        self._anchors: dict[Hashable, tuple[Path, frozenset[str]]] = {}
        self._unanchored: set[Hashable] = set()
        self._seq = 0
        for key, pattern in patterns:
            self.add(key, pattern)

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._patterns

    def add(self, key: Hashable, pattern: Pattern) -> None:
        """Add or replace the pattern for ``key``."""
        if key in self._patterns:
            self.remove(key)
        self._seq += 1
        self._patterns[key] = (self._seq, pattern)
        found = anchor(pattern)
        if found is None:
            self._unanchored.add(key)
            return
        path, values = found
        self._anchors[key] = found
        by_value = self._index.setdefault(path, {})
        for value in values:
            by_value.setdefault(value, set()).add(key)

    def remove(self, key: Hashable) -> None:
        if self._patterns.pop(key, None) is None:
            return
        self._unanchored.discard(key)
        found = self._anchors.pop(key, None)
        if found is None:
            return
        path, values = found
        by_value = self._index[path]
        for value in values:
            keys = by_value[value]
            keys.discard(key)
            if not keys:
                del by_value[value]
        if not by_value:
            del self._index[path]

    def candidates(self, event: Mapping[str, Any]) -> set[Hashable]:
        found = set(self._unanchored)
        for path, by_value in self._index.items():
            for value in values_at(event, path):
                if type(value) is str and (keys := by_value.get(value)):
                    found |= keys
        return found

    def matching(self, event: Mapping[str, Any]) -> list[Hashable]:
        """Ids of the patterns the event matches, in the order they were added."""
        hits = []
        for key in self.candidates(event):
            seq, pattern = self._patterns[key]
            if pattern.root.matches(event):  # type: ignore[arg-type]
                hits.append((seq, key))
        hits.sort(key=lambda hit: hit[0])
        return [key for _, key in hits]


__all__ = ["PatternSet", "anchor", "values_at"]
