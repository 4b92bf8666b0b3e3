"""``agentgo validate --output junit``: the report as JUnit XML, for the CI systems that read it.

One ``<testsuite name="agentgo validate">``; one ``<testcase>`` per file read, in order,
then one per other file an error names (a broken config file, a path that does not exist);
one ``<failure>`` per error of a file, its ``message`` the located line
``file:line:col: path: message`` and its ``type`` the error's code. A file without errors
is a passing testcase. ``failures`` counts the failing testcases (files), as JUnit readers
expect; every error is still its own ``<failure>`` element.

XML 1.0 cannot hold every character a message may quote (NUL, most C0 controls, U+FFFE,
lone surrogates from undecodable file names), and no escape makes them legal: ``xml_text``
shows them as ``\\xNN`` / ``\\uNNNN`` so the document stays well-formed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentgo_cli.backend.views import ManifestErrorView, ValidationReport

__all__ = ["SUITE", "junit_xml", "xml_text"]

SUITE = "agentgo validate"
"""The name of the one testsuite, and the classname of its testcases."""

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold written as Python-style escapes."""
    return _NOT_XML.sub(_shown, text)


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _located(error: ManifestErrorView) -> str:
    where = f"{error.file}:{error.line}:{error.col}: "
    return f"{where}{error.path}: {error.message}" if error.path else f"{where}{error.message}"


def junit_xml(report: ValidationReport) -> str:
    """The report as a JUnit XML document (with its declaration and a final newline)."""
    by_file: dict[str, list[ManifestErrorView]] = {name: [] for name in report.file_names}
    for error in report.errors:
        by_file.setdefault(error.file, []).append(error)
    tests, failing = str(len(by_file)), str(sum(1 for e in by_file.values() if e))
    root = ET.Element("testsuites", name=SUITE, tests=tests, failures=failing, errors="0")
    suite = ET.SubElement(
        root, "testsuite", name=SUITE, tests=tests, failures=failing, errors="0", skipped="0"
    )
    for file, errors in by_file.items():
        name = xml_text(file)
        case = ET.SubElement(suite, "testcase", classname=SUITE, name=name, file=name)
        for error in errors:
            located = xml_text(_located(error))
            failure = ET.SubElement(case, "failure", message=located, type=xml_text(error.code))
            failure.text = located
    ET.indent(root)
    return _DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
