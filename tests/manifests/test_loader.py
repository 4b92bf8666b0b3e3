"""The YAML loader: positions, syntax errors, YAML features we refuse, and folder walking."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentgo_cli.manifests.loader import iter_yaml_files, load_paths, load_text
from agentgo_cli.manifests.manifest_set import load_set
from tests.helpers import error_lines, validate_files

AGENT = """\
apiVersion: agentgo/v1
kind: Agent
metadata:
  name: {name}
spec:
  model: openai:gpt-4o-mini
"""


def errors(text: str | bytes) -> list[str]:
    """The loader's errors for one text, as the user reads them."""
    return [str(e) for e in load_text(text, "m.yaml").errors]


def data(text: str | bytes) -> list[object]:
    """The values of the documents of one text, checking that it loads without errors."""
    result = load_text(text, "m.yaml")
    assert [str(e) for e in result.errors] == []
    return [d.data for d in result.documents]


# -- syntax errors ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SyntaxErrorAt:
    """A YAML syntax error: the place and the kind are ours, PyYAML words the problem.

    Equal to an error line that starts with ``{where}: YAML syntax error: `` and goes on with
    a one-line problem that contains ``ours`` (the part we add, if any).
    """

    where: str
    ours: str = ""

    def __eq__(self, other: object) -> bool:
        prefix = f"{self.where}: YAML syntax error: "
        if not isinstance(other, str) or not other.startswith(prefix):
            return False
        problem = other.removeprefix(prefix)
        return bool(problem.strip()) and "\n" not in problem and self.ours in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "apiVersion: agentgo/v1\nkind: [Agent\n",
            SyntaxErrorAt("m.yaml:3:1"),
            id="unclosed-flow-sequence",
        ),
        pytest.param("a: b\n c: d\n", SyntaxErrorAt("m.yaml:2:3"), id="bad-indentation"),
        pytest.param("a:\n\tb: c\n", SyntaxErrorAt("m.yaml:2:1"), id="tab-indentation"),
        pytest.param('a: "unterminated\n', SyntaxErrorAt("m.yaml:2:1"), id="unterminated-quote"),
        pytest.param(
            "key: value\n- item\n", SyntaxErrorAt("m.yaml:2:1"), id="sequence-inside-mapping"
        ),
        pytest.param("a: *nope\n", SyntaxErrorAt("m.yaml:1:4"), id="undefined-alias"),
        pytest.param(
            "a: &x 1\nb:\n  c: &x 2\n",
            SyntaxErrorAt("m.yaml:3:6", " (first defined at line 1)"),
            id="duplicate-anchor",
        ),
        pytest.param("%FOO bar\n---\na: 1\n", SyntaxErrorAt("m.yaml:1:5"), id="unknown-directive"),
        pytest.param(
            "a: 1\nb: caf\u00e9 \x07\n",
            SyntaxErrorAt("m.yaml:2:9", "unacceptable character #x0007: "),
            id="control-character",
        ),
        pytest.param(
            "a: \x85b\x81\n",
            SyntaxErrorAt("m.yaml:2:2", "unacceptable character #x0081: "),
            id="control-character-after-next-line",
        ),
    ],
)
def test_syntax_errors_are_positioned(text: str, expected: SyntaxErrorAt) -> None:
    assert errors(text) == [expected]


def test_syntax_error_in_a_later_document_keeps_the_earlier_ones() -> None:
    result = load_text("a: 1\n---\nb: [\n", "m.yaml")
    assert [str(e) for e in result.errors] == [SyntaxErrorAt("m.yaml:4:1")]
    assert [d.data for d in result.documents] == [{"a": 1}]


def test_syntax_error_through_load_set_names_the_file(workdir: Path) -> None:
    mset = validate_files({"bad.yaml": "apiVersion: agentgo/v1\nkind: [Agent\n"}, workdir)
    assert error_lines(mset) == [SyntaxErrorAt("bad.yaml:3:1")]
    assert mset.documents == 0
    assert mset.files == ["bad.yaml"]


# -- duplicate keys --------------------------------------------------------------------------


def test_duplicate_key_names_the_first_line_and_keeps_the_first_value() -> None:
    text = AGENT.format(name="first").replace("spec:", "  name: second\nspec:")
    result = load_text(text, "m.yaml")
    assert [str(e) for e in result.errors] == [
        "m.yaml:5:3: metadata.name: duplicate key 'name' (first defined at line 4)"
    ]
    assert result.documents[0].data["metadata"] == {"name": "first"}


def test_duplicate_top_level_key() -> None:
    assert errors("kind: Agent\napiVersion: x\nkind: Tool\n") == [
        "m.yaml:3:1: kind: duplicate key 'kind' (first defined at line 1)"
    ]


def test_duplicate_key_in_flow_mapping() -> None:
    assert errors("{a: 1, a: 2}\n") == [
        "m.yaml:1:8: a: duplicate key 'a' (first defined at line 1)"
    ]


def test_duplicate_key_deep_inside_a_list() -> None:
    text = "steps:\n  - id: a\n  - id: b\n    agent: x\n    agent: y\n"
    assert errors(text) == [
        "m.yaml:5:5: steps[1].agent: duplicate key 'agent' (first defined at line 4)"
    ]


def test_the_same_key_in_two_mappings_is_not_a_duplicate() -> None:
    assert data("a: {x: 1}\nb: {x: 2}\n") == [{"a": {"x": 1}, "b": {"x": 2}}]


def test_duplicate_key_is_the_only_error_of_an_otherwise_valid_manifest(workdir: Path) -> None:
    text = AGENT.format(name="writer") + "  model: openai:gpt-4o\n"
    mset = validate_files({"agent.yaml": text}, workdir)
    assert error_lines(mset) == [
        "agent.yaml:7:3: spec.model: duplicate key 'model' (first defined at line 6)"
    ]
    assert [str(e.manifest.spec.model) for e in mset.entries] == ["openai:gpt-4o-mini"]


# -- tags, scalars and keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "a: !!python/object foo\n",
            "m.yaml:1:4: a: unsupported YAML tag 'tag:yaml.org,2002:python/object'",
            id="python-object",
        ),
        pytest.param(
            "a: !custom foo\n", "m.yaml:1:4: a: unsupported YAML tag '!custom'", id="local"
        ),
        pytest.param(
            "a: !!binary aGVsbG8=\n",
            "m.yaml:1:4: a: unsupported YAML tag 'tag:yaml.org,2002:binary'",
            id="binary",
        ),
        pytest.param(
            "a: !!set {x, y}\n",
            "m.yaml:1:4: a: unsupported YAML tag 'tag:yaml.org,2002:set'",
            id="set-on-a-mapping",
        ),
        pytest.param(
            "a: !!omap [x: 1]\n",
            "m.yaml:1:4: a: unsupported YAML tag 'tag:yaml.org,2002:omap'",
            id="omap-on-a-sequence",
        ),
        pytest.param(
            "a:\n  - !thing {x: 1}\n",
            "m.yaml:2:5: a[0]: unsupported YAML tag '!thing'",
            id="local-on-a-mapping-in-a-list",
        ),
    ],
)
def test_unsupported_tags(text: str, expected: str) -> None:
    assert errors(text) == [expected]


def test_unsupported_tag_in_a_manifest_comes_with_the_field_error(workdir: Path) -> None:
    text = AGENT.format(name="writer").replace("openai:gpt-4o-mini", "!!python/name:os.system")
    mset = validate_files({"agent.yaml": text}, workdir)
    assert error_lines(mset) == [
        "agent.yaml:6:10: spec.model: invalid model reference '': write provider:name, "
        "e.g. openai:gpt-4o-mini",
        "agent.yaml:6:10: spec.model: unsupported YAML tag "
        "'tag:yaml.org,2002:python/name:os.system'",
    ]


def test_standard_scalar_tags_are_honoured() -> None:
    text = "s: !!str 3\ni: !!int '4'\nf: !!float 1\nn: !!null ''\nb: !!bool yes\n"
    assert data(text) == [{"s": "3", "i": 4, "f": 1.0, "n": None, "b": True}]


def test_a_scalar_that_does_not_fit_its_tag() -> None:
    assert errors("a: !!int abc\n") == ["m.yaml:1:4: a: invalid int 'abc'"]


def test_timestamps_stay_text() -> None:
    assert data("date: 2001-12-14\nat: 2001-12-14t21:59:43.10-05:00\n") == [
        {"date": "2001-12-14", "at": "2001-12-14t21:59:43.10-05:00"}
    ]


def test_yaml_11_scalars() -> None:
    assert data("a: 0x1F\nb: 1_000\nc: yes\nd: off\ne: ~\nf: '1.0'\n") == [
        {"a": 31, "b": 1000, "c": True, "d": False, "e": None, "f": "1.0"}
    ]


def test_keys_are_always_text() -> None:
    assert data("on: 1\n1: 2\nnull: 3\ntrue: 4\n1.5: 5\n~: 6\n") == [
        {"on": 1, "1": 2, "null": 3, "true": 4, "1.5": 5, "~": 6}
    ]


def test_a_collection_as_key_is_refused() -> None:
    assert errors("? [a, b]\n: c\nd: e\n") == ["m.yaml:1:3: a mapping key must be a plain scalar"]
    assert data("d: e\n") == [{"d": "e"}]


def test_keys_that_are_not_plain_words_are_quoted_in_paths() -> None:
    assert errors("a:\n  my key: {b.c: !x 1}\n") == [
        'm.yaml:2:17: a["my key"]["b.c"]: unsupported YAML tag \'!x\''
    ]


# -- positions -------------------------------------------------------------------------------


def test_positions_of_values_and_keys() -> None:
    doc = load_text(AGENT.format(name="writer"), "m.yaml").documents[0]
    assert doc.at(("metadata", "name")) == (4, 9)
    assert doc.key_at(("metadata", "name")) == (4, 3)
    assert doc.at(("spec",)) == (6, 3)
    assert doc.key_at(("spec",)) == (5, 1)
    # A path that does not exist falls back to its nearest ancestor.
    assert doc.at(("spec", "steps", 3, "id")) == (6, 3)
    assert doc.at(("nothing",)) == (1, 1)


def test_positions_after_a_byte_order_mark_and_crlf_line_ends() -> None:
    text = "\ufeff" + AGENT.format(name="writer").replace("\n", "\r\n")
    result = load_text(text.encode("utf-8"), "m.yaml")
    assert result.errors == []
    assert result.documents[0].at(("metadata", "name")) == (4, 9)
    assert result.documents[0].data["kind"] == "Agent"


# -- merge keys ------------------------------------------------------------------------------


def test_merge_key_copies_a_mapping_and_own_keys_win() -> None:
    text = "base: &b {model: m1, max_turns: 3}\nuse:\n  <<: *b\n  max_turns: 5\n"
    assert data(text) == [
        {"base": {"model": "m1", "max_turns": 3}, "use": {"model": "m1", "max_turns": 5}}
    ]


def test_merge_key_with_a_list_the_first_source_wins() -> None:
    text = "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n"
    assert data(text)[0] == {"a": {"x": 1}, "b": {"x": 2, "y": 2}, "c": {"x": 1, "y": 2}}


def test_merged_keys_keep_the_position_of_their_source() -> None:
    doc = load_text("a: &a {x: 1}\nb:\n  <<: *a\n  y: 2\n", "m.yaml").documents[0]
    assert doc.key_at(("b", "x")) == (1, 8)
    assert doc.key_at(("b", "y")) == (4, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "a:\n  <<: 3\n  b: 1\n", "m.yaml:2:7: a: a merge key '<<' needs a mapping", id="scalar"
        ),
        pytest.param(
            "x: &x {k: 1}\na:\n  <<: [*x, [1]]\n",
            "m.yaml:3:12: a: a merge key '<<' needs a mapping",
            id="list-in-list",
        ),
    ],
)
def test_merge_key_needs_a_mapping(text: str, expected: str) -> None:
    assert errors(text) == [expected]


def test_merge_key_in_a_manifest(workdir: Path) -> None:
    wf = """
    apiVersion: agentgo/v1
    kind: Workflow
    metadata: {name: wf}
    spec:
      steps:
        - &base {id: one, agent: writer, timeout: 5m, promt: x}
        - <<: *base
          id: two
    """
    mset = validate_files({"agent.yaml": AGENT.format(name="writer"), "wf.yaml": wf}, workdir)
    # The typo is reported once for each step, at the anchored mapping where it is written.
    assert error_lines(mset) == [
        "wf.yaml:6:51: spec.steps[0].promt: unknown field 'promt' (did you mean 'prompt'?)",
        "wf.yaml:6:51: spec.steps[1].promt: unknown field 'promt' (did you mean 'prompt'?)",
    ]


def test_merged_step_is_valid(workdir: Path) -> None:
    wf = """
    apiVersion: agentgo/v1
    kind: Workflow
    metadata: {name: wf}
    spec:
      steps:
        - &base {id: one, agent: writer, timeout: 5m}
        - <<: *base
          id: two
    """
    mset = validate_files({"agent.yaml": AGENT.format(name="writer"), "wf.yaml": wf}, workdir)
    assert error_lines(mset) == []
    steps = mset.of_kind("Workflow")["wf"].manifest.spec.steps
    assert [(s.id, s.agent, str(s.timeout)) for s in steps] == [
        ("one", "writer", "5m"),
        ("two", "writer", "5m"),
    ]


# -- aliases ---------------------------------------------------------------------------------


def test_aliases_share_values() -> None:
    assert data("a: &x [1, 2]\nb: [*x, *x]\n") == [{"a": [1, 2], "b": [[1, 2], [1, 2]]}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "a: &a [*a]\n",
            ["m.yaml:1:4: a[0]: an alias refers to a value that contains it"],
            id="list",
        ),
        pytest.param(
            "a: &a [*a, *a]\n",
            [
                "m.yaml:1:4: a[0]: an alias refers to a value that contains it",
                "m.yaml:1:4: a[1]: an alias refers to a value that contains it",
            ],
            id="twice",
        ),
        pytest.param(
            "a: &a\n  b: {c: *a}\n",
            ["m.yaml:1:4: a.b.c: an alias refers to a value that contains it"],
            id="mapping",
        ),
    ],
)
def test_recursive_alias(text: str, expected: list[str]) -> None:
    assert errors(text) == expected


def test_alias_expansion_is_bounded() -> None:
    """A "billion laughs" text: ten levels of ten aliases would expand to 10**10 values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    assert errors("\n".join(lines) + "\n") == [
        "m.yaml:1:16: a4[7][8][9][0][2]: aliases expand to more than 100000 values"
    ]


# -- documents -------------------------------------------------------------------------------


def test_multi_document_file(workdir: Path) -> None:
    text = (
        AGENT.format(name="one")
        + "---\n"
        + AGENT.format(name="two").replace("openai:gpt-4o-mini", "nope:x")
    )
    mset = validate_files({"agents.yaml": text}, workdir)
    assert error_lines(mset) == [
        "agents.yaml:13:10: spec.model: unknown model provider 'nope' (did you mean 'openai'?); "
        "known providers: "
        "openai, anthropic, gemini, litellm, ollama, scripted"
    ]
    assert mset.documents == 2
    assert [e.manifest.name for e in mset.entries] == ["one"]


def test_documents_are_numbered_in_the_file_counting_empty_ones() -> None:
    result = load_text("a: 1\n---\n---\nb: 2\n...\n---\nc: 3\n", "m.yaml")
    assert result.errors == []
    assert [(d.index, d.data) for d in result.documents] == [
        (0, {"a": 1}),
        (2, {"b": 2}),
        (3, {"c": 3}),
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("\n\n", id="blank-lines"),
        pytest.param("# only a comment\n", id="comment"),
        pytest.param("---\n---\n", id="separators"),
        pytest.param("--- \n...\n", id="explicit-end"),
        pytest.param("---\n# nothing\n...\n---\n", id="comments-between-separators"),
    ],
)
def test_empty_documents_are_skipped(text: str) -> None:
    assert data(text) == []


def test_trailing_separator_after_a_manifest(workdir: Path) -> None:
    mset = validate_files({"a.yaml": AGENT.format(name="writer") + "---\n"}, workdir)
    assert error_lines(mset) == []
    assert mset.documents == 1
    assert mset.counts() == {"Agent": 1}


def test_empty_file_is_valid_and_counted_as_read(workdir: Path) -> None:
    mset = validate_files({"empty.yaml": ""}, workdir)
    assert mset.valid
    assert mset.files == ["empty.yaml"]
    assert mset.documents == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "hello\n",
            "m.yaml:1:1: a manifest must be a mapping with apiVersion, kind, metadata and spec, "
            "got string",
            id="scalar",
        ),
        pytest.param(
            "- a\n",
            "m.yaml:1:1: a manifest must be a mapping with apiVersion, kind, metadata and spec, "
            "got list",
            id="list",
        ),
        pytest.param(
            "--- !!str\n",
            "m.yaml:1:5: a manifest must be a mapping with apiVersion, kind, metadata and spec, "
            "got string",
            id="tagged-empty-string",
        ),
    ],
)
def test_a_document_that_is_not_a_mapping(workdir: Path, text: str, expected: str) -> None:
    assert error_lines(validate_files({"m.yaml": text}, workdir)) == [expected]


# -- bytes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"a: \xff\xfe\n", "m.yaml:1:1: not UTF-8 text: invalid start byte", id="ff"),
        pytest.param(
            b"a: caf\xe9\n", "m.yaml:1:1: not UTF-8 text: invalid continuation byte", id="latin-1"
        ),
        pytest.param(
            b"a: \xe2\x82", "m.yaml:1:1: not UTF-8 text: unexpected end of data", id="truncated"
        ),
        pytest.param(
            "a: 1\n".encode("utf-16"), "m.yaml:1:1: not UTF-8 text: invalid start byte", id="utf-16"
        ),
    ],
)
def test_bytes_that_are_not_utf8(raw: bytes, expected: str) -> None:
    assert errors(raw) == [expected]


def test_utf8_with_and_without_byte_order_mark() -> None:
    assert data("a: caf\u00e9\n".encode()) == [{"a": "caf\u00e9"}]
    assert data(b"\xef\xbb\xbfa: 1\n") == [{"a": 1}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("\x00", "m.yaml:1:1: NUL byte in YAML text", id="alone"),
        pytest.param("ab\x00", "m.yaml:1:3: NUL byte in YAML text", id="first-line"),
        pytest.param("a: 1\nb: \x00\n", "m.yaml:2:4: NUL byte in YAML text", id="second-line"),
        pytest.param(b"a: 1\n\nc: x\x00y\x00", "m.yaml:3:5: NUL byte in YAML text", id="bytes"),
    ],
)
def test_nul_bytes(text: str | bytes, expected: str) -> None:
    assert errors(text) == [expected]


def test_non_utf8_file_through_load_set(workdir: Path) -> None:
    (workdir / "latin.yaml").write_bytes(b"apiVersion: agentgo/v1\nname: caf\xe9\n")
    (workdir / "nul.yml").write_bytes(b"apiVersion: agentgo/v1\x00\n")
    mset = load_set([workdir])
    assert error_lines(mset) == [
        "latin.yaml:1:1: not UTF-8 text: invalid continuation byte",
        "nul.yml:1:23: NUL byte in YAML text",
    ]
    assert mset.files == ["latin.yaml", "nul.yml"]


# -- nesting ---------------------------------------------------------------------------------


def test_nesting_up_to_the_limit_is_fine() -> None:
    (value,) = data("a: " + "[" * 100 + "]" * 100 + "\n")
    assert isinstance(value, dict)
    depth, inner = 0, value["a"]
    while inner:
        depth, inner = depth + 1, inner[0]
    assert depth == 99


def test_nesting_past_the_limit_is_one_error_with_its_path() -> None:
    text = "a: " + "[" * 101 + "1, 2, 3" + "]" * 101 + "\n"
    assert errors(text) == [
        "m.yaml:1:104: a" + "[0]" * 100 + ": nested more than 100 levels deep",
    ]


@pytest.mark.parametrize("anchor", ["", "x: &x 1\n"], ids=["plain", "with-an-anchor"])
def test_nested_mappings_past_the_limit(anchor: str) -> None:
    """Collections count, not the scalar at the bottom; the same with or without anchors."""
    ok = anchor + "a: " + "{b: " * 100 + "1" + "}" * 100 + "\n"
    assert errors(ok) == []
    deep = anchor + "a: " + "{b: " * 101 + "1" + "}" * 101 + "\n"
    line = 2 if anchor else 1
    assert errors(deep) == [
        f"m.yaml:{line}:404: a" + ".b" * 100 + ": nested more than 100 levels deep"
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("a: " + "[" * 30_000 + "]" * 30_000 + "\n", 1, id="flow"),
        pytest.param("- " * 50_000 + "x\n", 1, id="block"),
        pytest.param(
            "ok: 1\n---\n" + "{a: " * 30_000 + "1" + "}" * 30_000, 3, id="second-document"
        ),
    ],
)
def test_very_deep_nesting_does_not_crash(text: str, line: int) -> None:
    """libyaml composes recursively in C: such text used to kill the process.

    Our own depth check and, in newer releases, PyYAML's may each be first to refuse it, in
    its own words; either way the user gets one located error about the nesting.
    """
    result = load_text(text, "m.yaml")
    assert all(doc.data == {"ok": 1} for doc in result.documents)  # never the deep one
    [error] = result.errors
    assert (error.file, error.line) == ("m.yaml", line)
    assert str(error).startswith(f"m.yaml:{line}:{error.col}: ")
    # The column points at a collection that opens more than 100 levels in.
    assert error.col > 100
    assert text.splitlines()[line - 1][error.col - 1] in "[{-"
    assert "nest" in error.message


# -- folders and paths -----------------------------------------------------------------------


def _tree(write: Callable[[str, str], Path]) -> None:
    for rel in [
        "b.yaml",
        "a.yml",
        "B.yaml",
        "notes.txt",
        "x.yaml.bak",
        ".hidden.yaml",
        "sub/d.yaml",
        "sub/c.yml",
        "sub/deeper/e.yaml",
        "sub/.git/f.yaml",
        ".cache/g.yaml",
        "a-dir/h.yaml",
    ]:
        write(rel, "# a file\n")


def test_iter_yaml_files_is_recursive_sorted_and_skips_hidden(
    workdir: Path, write: Callable[[str, str], Path]
) -> None:
    _tree(write)
    found = [p.relative_to(workdir).as_posix() for p in iter_yaml_files(workdir)]
    assert found == [
        "B.yaml",
        "a.yml",
        "b.yaml",
        "a-dir/h.yaml",
        "sub/c.yml",
        "sub/d.yaml",
        "sub/deeper/e.yaml",
    ]


def test_load_set_reads_a_folder_in_order(workdir: Path, write: Callable[[str, str], Path]) -> None:
    _tree(write)
    mset = load_set([workdir])
    assert mset.valid
    assert mset.files == [
        "B.yaml",
        "a.yml",
        "b.yaml",
        "a-dir/h.yaml",
        "sub/c.yml",
        "sub/d.yaml",
        "sub/deeper/e.yaml",
    ]


def test_a_file_named_on_the_command_line_is_read_whatever_its_name(
    workdir: Path, write: Callable[[str, str], Path]
) -> None:
    write(".hidden.yaml", AGENT.format(name="one"))
    write("agent.txt", AGENT.format(name="two"))
    mset = load_set([".hidden.yaml", "agent.txt"])
    assert error_lines(mset) == []
    assert mset.files == [".hidden.yaml", "agent.txt"]
    assert sorted(mset.of_kind("Agent")) == ["one", "two"]


def test_a_file_reached_twice_is_read_once(
    workdir: Path, write: Callable[[str, str], Path]
) -> None:
    write("m/agent.yaml", AGENT.format(name="writer"))
    os.symlink(workdir / "m" / "agent.yaml", workdir / "m" / "link.yaml")
    mset = load_set(["m", "m/agent.yaml", workdir / "m"])
    assert error_lines(mset) == []
    assert mset.files == ["m/agent.yaml"]


def test_missing_paths_are_errors_next_to_the_others(
    workdir: Path, write: Callable[[str, str], Path]
) -> None:
    write("m/agent.yaml", AGENT.format(name="writer"))
    mset = load_set(["nope", "m", "missing.yaml"])
    assert error_lines(mset) == [
        "missing.yaml:1:1: no such file or folder",
        "nope:1:1: no such file or folder",
    ]
    assert mset.files == ["m/agent.yaml"]
    assert mset.counts() == {"Agent": 1}


def test_a_broken_link_is_a_read_error_shown_as_named(workdir: Path) -> None:
    (workdir / "m").mkdir()
    os.symlink(workdir / "m" / "gone.yaml", workdir / "m" / "link.yaml")
    mset = load_set(["m"])
    assert error_lines(mset) == ["m/link.yaml:1:1: cannot read: No such file or directory"]
    assert mset.files == []


def test_paths_outside_the_working_folder_are_shown_absolute(
    workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "bad.yaml").write_text("a: [\n", encoding="utf-8")
    (workdir / "here.yaml").write_text("a: [\n", encoding="utf-8")
    result = load_paths([elsewhere, "here.yaml"])
    assert [str(e) for e in result.errors] == [
        SyntaxErrorAt(f"{elsewhere / 'bad.yaml'}:2:1"),
        SyntaxErrorAt("here.yaml:2:1"),
    ]
