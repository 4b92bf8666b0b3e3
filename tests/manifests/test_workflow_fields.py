"""The workflow fields of issue 11 (loop ``on_exhausted``, foreach ``on_item_error``, the
``value`` step, ``steps.<id>.exhausted`` and ``steps.<id>.errors``): what validation says
about them, and where."""

from __future__ import annotations

from pathlib import Path

from tests.manifests.test_checks import check, workflow


def test_the_new_fields_validate(workdir: Path) -> None:
    wf = workflow(
        """
        - id: spin
          loop:
            max_iterations: 2
            until: ${{ steps.v.output > 1 }}
            on_exhausted: fail
            steps: [{id: v, value: "${{ loop.iteration }}"}]
        - id: each
          foreach: [1, 2]
          on_item_error: continue
          steps: [{id: w, value: "${{ item }}"}]
        - id: total
          value: ${{ steps.each.errors | length }}
          if: ${{ steps.spin.exhausted }}
        - {id: plain, value: {a: [1, null]}}
        - {id: nothing, value: null}
        """
    )
    assert check(workdir, wf_yaml=wf) == []


def test_unknown_on_exhausted_and_on_item_error_are_located(workdir: Path) -> None:
    wf = workflow(
        """
        - id: spin
          loop: {max_iterations: 2, on_exhausted: stop, steps: [{id: v, value: 1}]}
        - id: each
          foreach: [1]
          on_item_error: skip
          steps: [{id: w, value: 1}]
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:8:47: spec.steps[0].loop.on_exhausted: unknown on_exhausted action 'stop'; "
        "expected 'fail' or 'succeed'",
        "wf.yaml:11:22: spec.steps[1].on_item_error: unknown on_item_error action 'skip'; "
        "expected 'continue' or 'fail'",
    ]


def test_a_value_step_takes_one_kind_and_its_expressions_are_checked(workdir: Path) -> None:
    wf = workflow(
        """
        - {id: both, value: 1, tool: wordcount}
        - id: reads
          value: {later: "${{ steps.last.output }}", typo: "${{ steps.bothh.output }}"}
        - {id: last, value: 2}
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:7:7: spec.steps[0]: a step takes exactly one of 'agent', 'tool', 'call', "
        "'team', 'foreach', 'loop', 'parallel' or 'value', found 'tool' and 'value'",
    ]
    wf = workflow(
        """
        - id: reads
          value: {later: "${{ steps.last.output }}", typo: "${{ steps.bothh.output }}"}
        - {id: last, value: 2}
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:8:22: spec.steps[0].value.later: step 'last' has not run yet here: an "
        "expression can read only steps that finish before it",
        "wf.yaml:8:56: spec.steps[0].value.typo: unknown step 'bothh'",
    ]


def test_exhausted_and_errors_are_fields_of_loops_and_foreach_only(workdir: Path) -> None:
    wf = workflow(
        """
        - {id: a, value: 1}
        - id: b
          value: "${{ steps.a.exhausted }} ${{ steps.a.errors }} ${{ steps.a.exhaustd }}"
        """
    )
    assert check(workdir, wf_yaml=wf) == [
        "wf.yaml:9:14: spec.steps[1].value: steps.a.errors is a field of foreach steps only; "
        "'a' is a value step",
        "wf.yaml:9:14: spec.steps[1].value: steps.a.exhausted is a field of loop steps only; "
        "'a' is a value step",
        "wf.yaml:9:14: spec.steps[1].value: unknown step field 'exhaustd' in steps.a.exhaustd "
        "(did you mean 'exhausted'?); expected output, status, error, exhausted (loop) or "
        "errors (foreach)",
    ]
