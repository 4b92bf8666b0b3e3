"""The documentation cannot drift from the code silently.

README.md and docs/*.md are read as the user reads them:

- every YAML snippet that is a manifest (has ``apiVersion`` and ``kind``) validates with
  ``agentgo validate``. The snippets of one page form one manifest set, as a project copied
  from the page would. An HTML comment on the line before a snippet changes that:
  ``<!-- planned: why -->`` skips it (the skip says why), ``<!-- alone -->`` validates it as
  a set of its own, ``<!-- invalid -->`` expects ``validate`` to fail on it (exit 1);
- a YAML snippet whose first line is ``# agentgo.yaml`` is a config file and must load
  without errors; a Python snippet whose first line is ``# name.py`` is written beside the
  page's manifests (the module a python tool of the page imports) and must compile;
- every relative link points to a file that exists, and a ``#fragment`` to a heading of it;
- every field named in a reference table (a table after ``<!-- fields: KIND[,KIND]
  [PREFIX[,PREFIX]] -->``, its paths under each PREFIX) exists in
  ``schemas/<kind>.schema.json``, with the default and the "required" the schema gives it;
  and every field of the schemas is named in some table.
"""

from __future__ import annotations

import functools
import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from agentgo_cli.cli.app import app

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SCHEMAS = REPO / "schemas"
KINDS = ("agent", "tool", "capability", "team", "workflow", "config")

_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
_MARKER = re.compile(r"^\s*<!--\s*(planned|alone|invalid)\b\s*:?\s*(.*?)\s*-->\s*$")
_FIELDS = re.compile(r"^\s*<!--\s*fields:\s*([\w,]+)(?:\s+(\S+))?\s*-->\s*$")
_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_ROW_FIELD = re.compile(r"^`([^`]+)`")

runner = CliRunner()


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


# -- reading pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    """One fenced code block of a page."""

    page: Path
    line: int
    """1-based line of the opening fence."""
    lang: str
    text: str
    marker: str | None
    """planned, alone or invalid: from an HTML comment on the line before the fence."""
    reason: str

    @property
    def where(self) -> str:
        return f"{_rel(self.page)}:{self.line}"

    def documents(self) -> list[Any]:
        """The YAML documents of the snippet ([] when it does not parse)."""
        try:
            return [d for d in yaml.safe_load_all(self.text) if d is not None]
        except yaml.YAMLError:
            return []

    @property
    def is_manifest(self) -> bool:
        if self.lang not in ("yaml", "yml"):
            return False
        docs = self.documents()
        if docs:
            return any(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in docs)
        # A snippet that does not parse is still a manifest when it says it is one.
        return bool(
            re.search(r"(?m)^apiVersion:", self.text) and re.search(r"(?m)^kind:", self.text)
        )

    @property
    def is_config(self) -> bool:
        return self.lang in ("yaml", "yml") and self.text.startswith("# agentgo.yaml")

    @property
    def module_file(self) -> str | None:
        """``crm.py`` for a Python snippet whose first line is ``# crm.py``."""
        m = re.match(r"# ([A-Za-z_]\w*\.py)\b", self.text)
        return m.group(1) if m is not None and self.lang == "python" else None


def _snippets(page: Path) -> Iterator[Snippet]:
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = _MARKER.match(before)
        yield Snippet(
            page,
            start + 1,
            lang,
            "\n".join(body) + "\n",
            marker.group(1) if marker else None,
            marker.group(2) if marker else "",
        )


def _outside_code(page: Path) -> Iterator[tuple[int, str]]:
    """The lines of a page outside fenced code blocks, numbered from 1."""
    fence: str | None = None
    for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        m = _FENCE.match(line)
        if fence is None and m is not None:
            fence = m.group(2)
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            yield n, line


# -- manifest snippets -----------------------------------------------------------------------


@dataclass
class Case:
    """Snippets validated together, and what validate must say."""

    name: str
    snippets: list[Snippet]
    modules: list[Snippet]
    """The page's Python snippets named ``# <module>.py``, written beside the manifests (a
    python tool's entrypoint imports from the manifests' folder)."""
    expect_valid: bool = True
    skip: str | None = None


def _cases() -> list[Case]:
    cases: list[Case] = []
    for page in PAGES:
        snippets = list(_snippets(page))
        modules = [s for s in snippets if s.module_file is not None]
        together = Case(f"{_rel(page)}[page set]", [], modules)
        for snippet in snippets:
            if not snippet.is_manifest:
                continue
            if snippet.marker == "planned":
                why = snippet.reason or "no reason given"
                cases.append(Case(snippet.where, [snippet], [], skip=f"marked planned: {why}"))
            elif snippet.marker == "alone":
                cases.append(Case(snippet.where, [snippet], modules))
            elif snippet.marker == "invalid":
                cases.append(Case(snippet.where, [snippet], modules, expect_valid=False))
            else:
                together.snippets.append(snippet)
        if together.snippets:
            cases.append(together)
    return cases


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.name)
def test_manifest_snippets_validate(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.skip is not None:
        pytest.skip(case.skip)
    # A project of its own (no agentgo.yaml above it is found), whose profile adds no
    # manifests: validate reads the snippets alone, and python tools import from its root.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agentgo.yaml").write_text("profile: docs\nprofiles: {docs: {}}\n")
    folder = tmp_path / "m"
    folder.mkdir()
    for n, snippet in enumerate(case.snippets):
        (folder / f"{n:02d}-line{snippet.line}.yaml").write_text(snippet.text, encoding="utf-8")
    for module in case.modules:
        assert module.module_file is not None
        (tmp_path / module.module_file).write_text(module.text, encoding="utf-8")
    result = runner.invoke(app, ["validate", "m"], catch_exceptions=False)
    shown = "\n".join(s.where for s in case.snippets)
    if case.expect_valid:
        assert result.exit_code == 0, f"snippets at\n{shown}\ndo not validate:\n{result.stdout}"
    else:
        assert result.exit_code == 1, f"snippet at {shown} is marked invalid but:\n{result.stdout}"


def _config_snippets() -> list[Snippet]:
    return [s for page in PAGES for s in _snippets(page) if s.is_config]


@pytest.mark.parametrize("snippet", _config_snippets(), ids=lambda s: s.where)
def test_config_snippets_load(snippet: Snippet, tmp_path: Path) -> None:
    from agentgo_cli.config import load_config

    path = tmp_path / "agentgo.yaml"
    path.write_text(snippet.text, encoding="utf-8")
    loaded = load_config(path=path)
    assert [str(e) for e in loaded.errors] == [], f"config snippet at {snippet.where}"


def _module_snippets() -> list[Snippet]:
    return [s for page in PAGES for s in _snippets(page) if s.module_file is not None]


@pytest.mark.parametrize("snippet", _module_snippets(), ids=lambda s: s.where)
def test_module_snippets_compile(snippet: Snippet) -> None:
    compile(snippet.text, snippet.where, "exec")


def test_snippet_markers_are_known() -> None:
    """A misspelt marker (``<!-- planed -->``) would silently validate the snippet."""
    bad = [
        f"{_rel(page)}:{n}: {line.strip()}"
        for page in PAGES
        for n, line in _outside_code(page)
        if re.match(r"^\s*<!--\s*(plan|alon|inval)", line) and not _MARKER.match(line)
    ]
    assert bad == []


# -- links -----------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    for _, line in _outside_code(page):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m is None:
            continue
        slug = _slug(m.group(1))
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def _links() -> list[tuple[str, Path, str]]:
    out = []
    for page in PAGES:
        for n, line in _outside_code(page):
            for m in _LINK.finditer(re.sub(r"`[^`]*`", "", line)):
                target = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                    continue
                out.append((f"{_rel(page)}:{n}", page, target))
    return out


@pytest.mark.parametrize(("where", "page", "target"), _links(), ids=lambda v: str(v))
def test_relative_links_resolve(where: str, page: Path, target: str) -> None:
    path_part, _, fragment = target.partition("#")
    dest = (page.parent / path_part).resolve() if path_part else page
    assert dest.exists(), f"{where}: link to {target}: {dest} does not exist"
    assert dest.is_relative_to(REPO), f"{where}: link to {target} leaves the repository"
    if fragment and dest.suffix == ".md":
        assert fragment in _anchors(dest), f"{where}: no heading '#{fragment}' in {_rel(dest)}"


def test_pages_link_to_the_reference() -> None:
    """The README links the manifest reference, and every page of docs/ is linked from
    the README or from another page."""
    linked = {(page.parent / t.partition("#")[0]).resolve() for _, page, t in _links()}
    assert (REPO / "docs" / "manifests.md").resolve() in linked
    orphans = [_rel(p) for p in PAGES[1:] if p.resolve() not in linked]
    assert orphans == []


# -- field tables ----------------------------------------------------------------------------


@functools.cache
def _schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{kind}.schema.json").read_text("utf-8"))
    return schema


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a schema node stands for: $ref followed, anyOf and oneOf spread,
    null alternatives dropped."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        return _resolve(root, root["$defs"][ref.rsplit("/", 1)[1]])
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [alt for sub in node[key] for alt in _resolve(root, sub)]
    return [] if node.get("type") == "null" else [node]


@dataclass
class _Field:
    """What the schema says of one field path (over all the branches that have it)."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    required: list[bool] = field(default_factory=list)
    defaults: list[Any] = field(default_factory=list)


def _step(root: dict[str, Any], nodes: list[dict[str, Any]], seg: str) -> _Field:
    """The field ``seg`` (``name``, ``name[]``, ``<key>`` for a map value) under ``nodes``."""
    out = _Field()
    name, items = (seg[:-2], True) if seg.endswith("[]") else (seg, False)
    for node in nodes:
        for alt in _resolve(root, node):
            if name.startswith("<") and name.endswith(">"):
                subs = (
                    [alt["additionalProperties"]]
                    if isinstance(alt.get("additionalProperties"), dict)
                    else list(alt.get("patternProperties", {}).values())
                )
                out.nodes.extend(subs)
                continue
            prop = alt.get("properties", {}).get(name)
            if prop is None:
                continue
            out.nodes.append(prop)
            out.required.append(name in alt.get("required", []))
            if "default" in prop:
                out.defaults.append(prop["default"])
    if items:
        out.nodes = [a["items"] for n in out.nodes for a in _resolve(root, n) if "items" in a]
    return out


def _lookup(kind: str, path: str) -> _Field | None:
    root = _schema(kind)
    nodes: list[dict[str, Any]] = [root]
    found = _Field()
    for seg in path.split("."):
        found = _step(root, nodes, seg)
        if not found.nodes:
            return None
        nodes = found.nodes
    return found


def _all_paths(kind: str) -> set[str]:
    """Every field path of a schema; a union met again inside itself (the steps of a
    foreach) is not entered again."""
    root = _schema(kind)
    out: set[str] = set()

    def walk(node: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref not in seen:
                walk(root["$defs"][ref.rsplit("/", 1)[1]], prefix, seen | {ref})
            return
        for key in ("anyOf", "oneOf"):
            if key in node:
                union = json.dumps(node[key], sort_keys=True)
                if union in seen:
                    return
                for sub in node[key]:
                    walk(sub, prefix, seen | {union})
        for name, prop in node.get("properties", {}).items():
            out.add(f"{prefix}{name}")
            walk(prop, f"{prefix}{name}.", seen)
        maps = list(node.get("patternProperties", {}).values())
        if isinstance(node.get("additionalProperties"), dict):
            maps.append(node["additionalProperties"])
        for sub in maps:
            walk(sub, f"{prefix}<name>.", seen)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{prefix.removesuffix('.')}[].", seen)

    walk(root, "", frozenset())
    return out


@dataclass(frozen=True)
class Row:
    """One row of a field table."""

    where: str
    kinds: tuple[str, ...]
    path: str
    default: str


@functools.cache
def _rows() -> list[Row]:
    rows: list[Row] = []
    for page in PAGES:
        lines = list(_outside_code(page))
        for i, (_, line) in enumerate(lines):
            m = _FIELDS.match(line)
            if m is None:
                continue
            kinds = tuple(m.group(1).split(","))
            prefixes = (m.group(2) or "").split(",")
            started = False
            for n, row in lines[i + 1 :]:
                if not row.lstrip().startswith("|"):
                    if started or row.strip():
                        break
                    continue
                started = True
                cells = [c.strip() for c in row.strip().strip("|").split("|")]
                cell = _ROW_FIELD.match(cells[0])
                if cell is None:
                    continue  # the header and its rule
                path = re.sub(r"<[^>.]*>", "<name>", cell.group(1))
                default = cells[2] if len(cells) > 2 else ""
                for prefix in prefixes:
                    full = f"{prefix}.{path}" if prefix else path
                    rows.append(Row(f"{_rel(page)}:{n}", kinds, full, default))
    return rows


def test_field_tables_exist() -> None:
    rows = _rows()
    kinds = {k for r in rows for k in r.kinds}
    assert kinds >= set(KINDS), f"no field table for {sorted(set(KINDS) - kinds)}"
    assert all(k in KINDS for k in kinds), f"unknown kind in a fields marker: {kinds}"


def _shown(value: Any) -> str:
    """A default as a table writes it: ``8``, ``true``, ``item``, ``""``."""
    return json.dumps(value) if not isinstance(value, str) or not value else value


@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r.where}:{r.path}")
def test_table_fields_exist_in_the_schemas(row: Row) -> None:
    for kind in row.kinds:
        found = _lookup(kind, row.path)
        assert found is not None, f"{row.where}: '{row.path}' is not a field of the {kind} schema"
        said_required = row.default.lower().startswith("required")
        if found.required:
            assert said_required == all(found.required), (
                f"{row.where}: '{row.path}' is {'' if all(found.required) else 'not '}required "
                f"in the {kind} schema; the table's default column says '{row.default}'"
            )
        scalars = {
            _shown(d) for d in found.defaults if d is not None and not isinstance(d, list | dict)
        }
        for default in scalars:
            assert f"`{default}`" in row.default, (
                f"{row.where}: '{row.path}' defaults to {default!r} in the {kind} schema; the "
                f"table says '{row.default}'"
            )


@pytest.mark.parametrize("kind", KINDS)
def test_every_schema_field_is_in_a_table(kind: str) -> None:
    documented = {r.path for r in _rows() if kind in r.kinds}
    missing = sorted(_all_paths(kind) - documented)
    assert missing == [], (
        f"fields of schemas/{kind}.schema.json with no row in a '<!-- fields: {kind} -->' "
        f"table of docs/: {missing}"
    )


# -- the checks check ------------------------------------------------------------------------


def test_the_snippet_reader_sees_markers_and_kinds(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        textwrap.dedent(
            """\
            <!-- planned: teams come later -->
            ```yaml
            apiVersion: agentgo/v1
            kind: Team
            ```

            ```yaml
            # agentgo.yaml
            profile: x
            ```
            """
        ),
        encoding="utf-8",
    )
    first, second = _snippets(page)
    assert (first.marker, first.reason, first.is_manifest, first.line) == (
        "planned",
        "teams come later",
        True,
        2,
    )
    assert (second.marker, second.is_manifest, second.is_config) == (None, False, True)


def test_field_lookup_follows_refs_unions_and_maps() -> None:
    assert _lookup("workflow", "spec.steps[].loop.max_iterations") is not None
    assert _lookup("config", "profiles.<name>.providers.<name>.breaker.failures") is not None
    assert _lookup("workflow", "spec.steps[].nonsense") is None
    found = _lookup("agent", "spec.max_turns")
    assert found is not None and found.defaults == [8] and found.required == [False]
    assert "spec.steps[].parallel[].id" not in _all_paths("workflow")  # not entered again
