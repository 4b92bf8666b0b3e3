"""Load YAML files and folders into plain data, keeping the line and column of every node.

PyYAML (with libyaml when present) composes each document into nodes; we turn nodes into
plain Python values ourselves so that we can record positions, reject duplicate keys and
refuse YAML features that have no JSON meaning. Nothing here raises on bad input: problems
come back as ManifestErrors.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import CollectionEndEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agentgo_cli.errors import ManifestError
from agentgo_cli.manifests._files import MAX_FILE_BYTES, Unreadable, read_regular, unreadable

__all__ = [
    "MAX_FILE_BYTES",
    "Document",
    "LoadResult",
    "Pos",
    "files_stamp",
    "iter_yaml_files",
    "load_paths",
    "load_text",
]

Pos = tuple[int, int]
"""A 1-based (line, column)."""

PathKey = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_DEPTH = 100
"""How deep collections may nest. A long text is checked before composing as well: libyaml
composes recursively in C and would crash the process (around 20,000 levels) instead of
raising, and newer releases refuse some depth of their own, with their own words."""
_MAX_ALIAS_VALUES = 100_000
"""How many values aliases may expand to in one document: stops "billion laughs" files and
self-referencing anchors such as ``&a [*a, *a]``."""
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_STR = "tag:yaml.org,2002:str"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
}
_TEXT_TAGS = {_STR, "tag:yaml.org,2002:timestamp"}


@dataclass
class Document:
    """One YAML document with the position of each value and each mapping key."""

    file: str
    index: int
    data: Any = None
    pos: dict[PathKey, Pos] = field(default_factory=dict)
    key_pos: dict[PathKey, Pos] = field(default_factory=dict)

    def at(self, path: PathKey) -> Pos:
        """Position of the value at ``path``, or of its nearest ancestor that has one."""
        while path not in self.pos and path:
            path = path[:-1]
        return self.pos.get(path, (1, 1))

    def key_at(self, path: PathKey) -> Pos:
        """Position of the key that holds ``path`` (for unknown and duplicate fields)."""
        return self.key_pos.get(path) or self.at(path)

    def error(self, path: PathKey, message: str, code: str, *, key: bool = False) -> ManifestError:
        line, col = self.key_at(path) if key else self.at(path)
        return ManifestError(self.file, line, col, format_path(path), message, code)


@dataclass
class LoadResult:
    """What loading produced: documents, errors, and which files were read."""

    documents: list[Document] = field(default_factory=list)
    errors: list[ManifestError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def format_path(path: Iterable[str | int]) -> str:
    """Render ('spec', 'steps', 2, 'agent') as 'spec.steps[2].agent'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += "[" + json.dumps(part, ensure_ascii=False) + "]"
        else:
            out += f".{part}" if out else part
    return out


class _Converter:
    """Turns composed nodes into values, filling position maps and collecting errors."""

    def __init__(self, doc: Document, errors: list[ManifestError], aliases: bool = True) -> None:
        self.doc = doc
        self.errors = errors
        self.aliases = aliases
        """Whether the text has anchors at all; without them no node is reached twice."""
        self.seen: set[int] = set()
        self.active: set[int] = set()
        self.repeats = 0
        self.too_deep = False

    def _err(self, node: Node, path: PathKey, message: str, code: str) -> None:
        mark = node.start_mark
        self.errors.append(
            ManifestError(
                self.doc.file, mark.line + 1, mark.column + 1, format_path(path), message, code
            )
        )

    def convert(self, node: Node, path: PathKey, depth: int = 0) -> Any:
        if self.aliases:
            return self._tracked(node, path, depth)
        mark = node.start_mark
        self.doc.pos[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, ScalarNode):  # the common case, kept short
            return node.value if node.tag == _STR else self._scalar(node, path)
        if depth > _MAX_DEPTH:
            return self._too_deep(node, path)
        return self._convert(node, path, depth)

    def _tracked(self, node: Node, path: PathKey, depth: int) -> Any:
        """Convert with alias bookkeeping: a text with anchors may reach a node twice."""
        key = id(node)
        if key in self.active:
            self._err(node, path, "an alias refers to a value that contains it", "yaml-alias")
            return None
        if key in self.seen:  # reached again through an alias
            self.repeats += 1
            if self.repeats > _MAX_ALIAS_VALUES:
                if self.repeats == _MAX_ALIAS_VALUES + 1:
                    message = f"aliases expand to more than {_MAX_ALIAS_VALUES} values"
                    self._err(node, path, message, "yaml-alias")
                return None
        self.seen.add(key)
        mark = node.start_mark
        self.doc.pos[path] = (mark.line + 1, mark.column + 1)
        if depth > _MAX_DEPTH and not isinstance(node, ScalarNode):  # as convert() does
            return self._too_deep(node, path)
        self.active.add(key)
        try:
            return self._convert(node, path, depth)
        finally:
            self.active.discard(key)

    def _too_deep(self, node: Node, path: PathKey) -> None:
        if not self.too_deep:  # once: a wide value there would repeat it many times
            self.too_deep = True
            self._err(node, path, f"nested more than {_MAX_DEPTH} levels deep", "yaml-depth")

    def _convert(self, node: Node, path: PathKey, depth: int) -> Any:
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self._err(node, path, f"unsupported YAML tag '{node.tag}'", "yaml-tag")
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        self._err(node, path, "unsupported YAML node", "yaml-tag")  # pragma: no cover
        return None

    def _scalar(self, node: ScalarNode, path: PathKey) -> Any:
        tag = node.tag
        if tag in _TEXT_TAGS:
            return node.value
        build = _SCALAR_TAGS.get(tag)
        if build is not None:
            try:
                return build(node)
            except (yaml.YAMLError, ValueError):
                self._err(node, path, f"invalid {tag.rsplit(':', 1)[-1]} '{node.value}'", "yaml")
                return node.value
        self._err(node, path, f"unsupported YAML tag '{tag}'", "yaml-tag")
        return node.value

    def _key(self, node: Node, path: PathKey) -> str | None:
        if not isinstance(node, ScalarNode):
            self._err(node, path, "a mapping key must be a plain scalar", "yaml-key")
            return None
        # Keys are always text: `on:` or `1:` must not turn into True or 1.
        return str(node.value)

    def _mapping(self, node: MappingNode, path: PathKey, depth: int) -> dict[str, Any]:
        if node.tag != "tag:yaml.org,2002:map":
            self._err(node, path, f"unsupported YAML tag '{node.tag}'", "yaml-tag")
        out: dict[str, Any] = {}
        own_keys: dict[str, Pos] = {}
        merged: list[tuple[Node, Node]] = []
        own: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for src in sources:
                    if isinstance(src, MappingNode):
                        merged.extend(src.value)
                    else:
                        self._err(src, path, "a merge key '<<' needs a mapping", "yaml-merge")
            else:
                own.append((key_node, value_node))
        for key_node, value_node in merged:
            key = self._key(key_node, path)
            if key is not None and key not in out:
                out[key] = self.convert(value_node, (*path, key), depth + 1)
                self._note_key(key_node, (*path, key))
        for key_node, value_node in own:
            key = self._key(key_node, path)
            if key is None:
                continue
            kpath = (*path, key)
            if key in own_keys:
                line, _ = own_keys[key]
                self._err(
                    key_node,
                    kpath,
                    f"duplicate key '{key}' (first defined at line {line})",
                    "duplicate-key",
                )
                continue
            own_keys[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.convert(value_node, kpath, depth + 1)
            self._note_key(key_node, kpath)
        return out

    def _note_key(self, key_node: Node, kpath: PathKey) -> None:
        mark = key_node.start_mark
        self.doc.key_pos[kpath] = (mark.line + 1, mark.column + 1)


def load_text(text: str | bytes, file: str) -> LoadResult:
    """Parse every document of one YAML text; errors carry ``file`` and positions."""
    result = LoadResult(files=[file])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            result.errors.append(
                ManifestError(file, 1, 1, "", f"not UTF-8 text: {exc.reason}", "encoding")
            )
            return result
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a str with lone surrogates, never a file's bytes
        result.errors.append(
            ManifestError(file, 1, 1, "", f"not UTF-8 text: {exc.reason}", "encoding")
        )
        return result
    if "\x00" in text:
        at = text.index("\x00")
        line = text.count("\n", 0, at) + 1
        col = at - text.rfind("\n", 0, at)
        result.errors.append(ManifestError(file, line, col, "", "NUL byte in YAML text", "yaml"))
        return result
    deep = _too_deep(text) if _may_nest_deeply(text) else None
    if deep is not None:
        message = f"nested more than {_MAX_DEPTH} levels deep"
        result.errors.append(ManifestError(file, *deep, "", message, "yaml-depth"))
        return result
    aliases = "&" in text
    loader = _Loader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node said there was one
                break
            doc = Document(file=file, index=index)
            index += 1
            if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
                continue  # an empty document, e.g. after a trailing '---'
            doc.data = _Converter(doc, result.errors, aliases).convert(node, ())
            result.documents.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        lines = _LINE_BREAK.split(text)
        if line > len(lines):  # libyaml ends a text that has no final line break on a new line
            line, col = len(lines), len(lines[-1]) + 1
        problem = exc.problem or "invalid YAML"
        first = "; first occurrence"
        if exc.context and exc.context.endswith(first) and exc.context_mark:
            # A duplicate anchor: the problem is only "second occurrence".
            at = exc.context_mark.line + 1
            problem = f"{exc.context.removesuffix(first)} (first defined at line {at})"
        elif exc.context and "found" not in exc.context:
            problem = f"{problem} ({exc.context})"
        result.errors.append(
            ManifestError(file, line, col, "", f"YAML syntax error: {problem}", "yaml-syntax")
        )
    except yaml.reader.ReaderError as exc:
        # libyaml gives a byte offset into the UTF-8 text, not a mark.
        before = text.encode("utf-8")[: exc.position].decode("utf-8", "replace")
        lines = _LINE_BREAK.split(before)
        problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        result.errors.append(
            ManifestError(
                file,
                len(lines),
                len(lines[-1]) + 1,
                "",
                f"YAML syntax error: {problem}",
                "yaml-syntax",
            )
        )
    except yaml.YAMLError as exc:
        result.errors.append(ManifestError(file, 1, 1, "", f"YAML error: {exc}", "yaml-syntax"))
    except RecursionError:
        result.errors.append(ManifestError(file, 1, 1, "", "YAML nested too deeply", "yaml-depth"))
    finally:
        loader.dispose()
    return result


_SAFE_COMPOSE_DEPTH = 8000
"""libyaml composes 15,000 levels without trouble here; below this bound no pre-pass is needed."""


def _may_nest_deeply(text: str) -> bool:
    """Cheap bound: each nesting level needs one of '[', '{', '-', ':' or '?' in the text.

    Only a text that could nest past what the composer handles safely pays for the
    event pass of ``_too_deep``; shallower texts are limited by the converter instead.
    """
    return sum(text.count(c) for c in "[{-:?") > _SAFE_COMPOSE_DEPTH


def _too_deep(text: str, retry: bool = True) -> Pos | None:
    """Where collections first nest deeper than ``_MAX_DEPTH``, if they do.

    The place and the limit are those the converter would report, so the message does not
    depend on the text's length, and checking at our own limit, far below libyaml's, keeps
    PyYAML's own depth error (worded as each release likes) from coming first.
    """
    parser = _Loader(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > _MAX_DEPTH + 1:  # the converter counts the top collection as 0
                    mark = event.start_mark
                    return (mark.line + 1, mark.column + 1) if mark else (1, 1)
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        # In "[[[[..." every entry may still turn out to be a key, so the scanner reads far
        # ahead before the parser emits any event, and may fail there first. The text before
        # the failure yields those events; if it nests too deep, that is reported instead.
        at = exc.problem_mark.index if exc.problem_mark else 0
        return _too_deep(text[:at], retry=False) if retry and 0 < at < len(text) else None
    except yaml.YAMLError:
        return None  # composing reports it, with its position
    finally:
        parser.dispose()
    return None


def iter_yaml_files(
    root: Path, on_error: Callable[[OSError], None] | None = None
) -> Iterator[Path]:
    """Yield the .yaml/.yml files under a folder, sorted, skipping hidden folders.

    A folder that cannot be listed goes to ``on_error``. Links to folders are not followed,
    so a link back up cannot make the walk go round; links to files are yielded.
    """
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                yield Path(dirpath) / name


def display_path(path: Path) -> str:
    """A path as a user should read it: relative to the working folder when inside it."""
    absolute = os.path.abspath(path)  # not resolve(): a symlink is shown as the user named it
    try:
        return (
            os.path.relpath(absolute, os.getcwd())
            if absolute.startswith(os.getcwd() + os.sep)
            else str(path)
        )
    except (ValueError, OSError):
        return str(path)


def load_paths(paths: Iterable[str | Path]) -> LoadResult:
    """Load files and folders (recursively); a missing path is an error, not an exception."""
    result = LoadResult()
    seen: set[str] = set()

    def cannot_list(exc: OSError) -> None:
        folder = Path(exc.filename) if exc.filename is not None else Path()
        problem = str(unreadable(exc))
        result.errors.append(ManifestError(display_path(folder), 1, 1, "", problem, "io"))

    for raw in paths:
        path = Path(raw)
        if not path.exists():
            result.errors.append(
                ManifestError(display_path(path), 1, 1, "", "no such file or folder", "not-found")
            )
            continue
        files = iter_yaml_files(path, cannot_list) if path.is_dir() else iter([path])
        for file in files:
            real = os.path.realpath(file)  # not resolve(): that raises on a symlink loop
            if real in seen:
                continue
            seen.add(real)
            shown = display_path(file)
            try:
                data = read_regular(file)
            except Unreadable as exc:
                result.errors.append(ManifestError(shown, 1, 1, "", str(exc), "io"))
                continue
            one = load_text(data, shown)
            result.documents.extend(one.documents)
            result.errors.extend(one.errors)
            result.files.append(shown)
    return result


SETTLE_NS = 2_000_000_000
"""How old (ns) a file's last change must be for ``files_stamp`` to vouch for it."""


def files_stamp(paths: Iterable[str | Path]) -> tuple[tuple[object, ...], ...] | None:
    """What the files ``load_paths`` would read look like now: each one's path, modification
    and change times, size and inode (``None`` for a path that is missing or cannot be
    looked at). Equal stamps mean the set would load the same, so a long-lived process
    (``agentgo serve``) keeps what it made of the set until a file is added, removed or
    changed, at the cost of a stat per file instead of parsing them all.

    ``None`` while a file was modified less than ``SETTLE_NS`` ago: a file system's clock
    ticks coarsely, so a second edit of the same size within one tick would leave the same
    stamp. (An mtime set back by hand still changes the change time, which the stamp has.)
    """
    stamp: list[tuple[object, ...]] = []
    settled = time.time_ns() - SETTLE_NS
    for raw in paths:
        path = Path(raw)
        files = iter_yaml_files(path) if path.is_dir() else iter([path])
        for file in files:
            try:
                info = os.stat(file)
            except OSError:
                stamp.append((str(file), None))
                continue
            if info.st_mtime_ns > settled:
                return None
            stamp.append((str(file), info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino))
    return tuple(stamp)
