"""Discovery: which intents a caller may call, and which ones fit a task.

Both answers are computed from the catalog alone, with no model call, so the same catalog,
caller and task always give the same answer. ``route_intent`` ranks intents with TF-IDF
weights (BM25-style saturation) over small documents made of each intent's name parts and
tags (weighted most), description, and example inputs (weighted least).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentgo_cli.semver import Version, parse_range, parse_version

if TYPE_CHECKING:
    from agentgo_cli.a2a.catalog import Catalog, CatalogEntry

__all__ = [
    "Allowed",
    "Route",
    "discover",
    "latest_entries",
    "newest",
    "route_intent",
    "tokenize",
]

Allowed = Callable[["CatalogEntry"], bool]
"""A predicate saying whether the caller may call one intent version (e.g. its ACL)."""

FIELD_WEIGHTS = {"name": 3.0, "tags": 3.0, "description": 1.0, "example": 0.5}
"""How much a word counts in each field of an intent: names and tags are chosen words."""

_SATURATION = 1.0
"""BM25's k: a word's weight in a document grows with repeats, but never past 1 + k."""

_STOP_TEXT = """
    a about all also an and any are as at be been but by can could do does for from get given
    has have how i if in into is it its me my need of on or our please should so some than that
    the their them then there these this those to up us use using want was we what when which
    who will with would you your
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())

_IS_RELEASE = parse_range("*")
_WORD = re.compile(r"[a-z0-9]+")
_VOWEL = re.compile(r"[aeiouy]")


@dataclass(frozen=True)
class Route:
    """One intent that fits a task, with how well and why."""

    intent: str
    """'name@version', the exact intent version."""
    target: str
    score: float
    """In (0, 1]: the share of the task's weighted words the intent matches."""
    why: str
    """E.g. 'matched: summarize, batteries (name, description, example)'."""

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "target": self.target, "score": self.score, "why": self.why}


def latest_entries(catalog: Catalog, allowed: Allowed | None = None) -> list[CatalogEntry]:
    """The newest version the caller may call of each intent, by name (see ``newest``)."""
    by_name: dict[str, list[CatalogEntry]] = {}
    for entry in catalog.entries():
        if allowed is None or allowed(entry):
            by_name.setdefault(entry.name, []).append(entry)
    return [newest(by_name[name]) for name in sorted(by_name)]


def newest(versions: Iterable[CatalogEntry]) -> CatalogEntry:
    """The newest release, as a call without a range picks; else the newest prerelease."""

    def key(entry: CatalogEntry) -> tuple[bool, Version]:
        version = parse_version(entry.version)
        return _IS_RELEASE(version), version

    return max(versions, key=key)


def discover(
    catalog: Catalog, *, query: str | None = None, allowed: Allowed | None = None
) -> list[dict[str, Any]]:
    """The latest callable version of each intent, optionally filtered by a query.

    The query is a case-insensitive substring of the intent's name, description or one of
    its tags. Each answer is a small dict: intent ('name@version'), target, description,
    tags, input (its JSON Schema) and examples (example inputs only).
    """
    wanted = (query or "").strip().casefold()
    found: list[dict[str, Any]] = []
    for entry in latest_entries(catalog, allowed):
        intent = entry.intent
        if wanted and not any(
            wanted in text.casefold() for text in (entry.name, intent.description, *intent.tags)
        ):
            continue
        found.append(
            {
                "intent": entry.ref,
                "target": entry.target,
                "description": intent.description,
                "tags": list(intent.tags),
                "input": intent.input,
                "examples": [example.input for example in intent.examples],
            }
        )
    return found


def route_intent(
    catalog: Catalog, task: str, *, allowed: Allowed | None = None, limit: int = 3
) -> list[Route]:
    """The intents that best fit a task description, best first, at most ``limit``.

    Deterministic: no model is called, equal scores go by intent name (one version per name
    is ranked: the latest callable), and intents that share no word with the task are left
    out.
    """
    entries = latest_entries(catalog, allowed)
    words = _task_words(task)
    if not entries or not words or limit < 1:
        return []
    docs = [_document(entry) for entry in entries]
    n = len(docs)
    idf: dict[str, float] = {}
    for stem in words:
        df = sum(1 for doc in docs if stem in doc)
        idf[stem] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    best_possible = sum(idf.values()) * (1.0 + _SATURATION)
    routes: list[tuple[float, str, Route]] = []
    for entry, doc in zip(entries, docs, strict=True):
        raw = 0.0
        matched: list[str] = []
        fields: set[str] = set()
        for stem, surface in words.items():
            hits = doc.get(stem)
            if not hits:
                continue
            weighted = sum(FIELD_WEIGHTS[field] * count for field, count in hits.items())
            raw += idf[stem] * weighted * (1.0 + _SATURATION) / (weighted + _SATURATION)
            matched.append(surface)
            fields.update(hits)
        if not matched:
            continue
        score = round(raw / best_possible, 4)
        where = ", ".join(f for f in FIELD_WEIGHTS if f in fields)
        why = f"matched: {', '.join(matched)} ({where})"
        route = Route(entry.ref, entry.target, score, why)
        routes.append((-score, entry.name, route))
    routes.sort(key=lambda r: r[:2])
    return [r[2] for r in routes[:limit]]


def tokenize(text: str) -> list[str]:
    """Lower-case word stems of a text, stop words left out."""
    return [_stem(word) for word in _words(text)]


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS and len(w) > 1]


def _task_words(task: str) -> dict[str, str]:
    """Each distinct stem of the task, mapped to the first word it came from."""
    words: dict[str, str] = {}
    for word in _words(task):
        words.setdefault(_stem(word), word)
    return words


def _stem(word: str) -> str:
    """A light suffix stemmer: plurals, -ing and -ed, and a final -e."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("ing") and len(word) >= 6 and _VOWEL.search(word[:-3]):
        word = _undouble(word[:-3])
    elif word.endswith("ed") and len(word) >= 5 and _VOWEL.search(word[:-2]):
        word = _undouble(word[:-2])
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _undouble(stem: str) -> str:
    """'runn' → 'run' (after -ing or -ed), but 'fall' and 'pass' keep their pair."""
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeioulsz":
        return stem[:-1]
    return stem


def _document(entry: CatalogEntry) -> dict[str, dict[str, int]]:
    """stem → field → how many times the stem occurs in that field of the intent."""
    intent = entry.intent
    fields = {
        "name": tokenize(entry.name.replace("_", " ")),
        "tags": tokenize(" ".join(intent.tags)),
        "description": tokenize(intent.description),
        "example": tokenize(" ".join(_example_texts(entry))),
    }
    doc: dict[str, dict[str, int]] = {}
    for field, stems in fields.items():
        for stem in stems:
            counts = doc.setdefault(stem, {})
            counts[field] = counts.get(field, 0) + 1
    return doc


def _example_texts(entry: CatalogEntry) -> Iterator[str]:
    for example in entry.intent.examples:
        yield from _strings(example.input)
        if example.description:
            yield example.description


def _strings(value: Any) -> Iterator[str]:
    """The words of an example input: its strings, and the keys of its objects."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
