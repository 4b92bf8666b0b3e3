"""validate's entrypoint check fed garbage: any module text, any function name.

Whatever the module beside the manifest holds, the check gives at most one located error per
tool, on one line, at the tool's ``entrypoint:``, and never raises.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agentgo_cli.manifests.manifest_set import load_set
from agentgo_cli.tools.entrypoints import check_entrypoints

TOOL = """\
apiVersion: agentgo/v1
kind: Tool
metadata: {{name: fuzzed}}
spec:
  runtime: {{type: python, entrypoint: "fuzzmod:{function}"}}
"""

_SOURCES = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.lists(
        st.sampled_from(
            [
                "def f(x):\n    return x\n",
                "raise ValueError('x')\n",
                "raise ValueError('two\\nlines\\x1b[31m red\\r')\n",
                "import no_such_module_xyz\n",
                "f = 3\n",
                "def g(:\n",
                "class f:\n    pass\n",
                "import sys\nsys.exit('bye')\n",
                "\x00",
                "    indented\n",
            ]
        ),
        max_size=4,
    ).map("".join),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=_SOURCES, function=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))
@example(source="raise ValueError('two\\nlines\\x1b[31m')\n", function="f")
def test_any_module_gives_at_most_one_located_line(source: str, function: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "fuzzmod.py").write_text(source, encoding="utf-8", errors="surrogateescape")
        (root / "tool.yaml").write_text(TOOL.format(function=function))
        mset = load_set([root])
        assert mset.valid, mset.errors
        errors = asyncio.run(check_entrypoints(mset, None))
    assert len(errors) <= 1
    for error in errors:
        assert (error.line, error.col, error.path) == (5, 39, "spec.runtime.entrypoint")
        assert error.message.startswith(f"cannot import 'fuzzmod:{function}': ")
        assert error.message.isprintable()
        assert "Traceback" not in error.message
