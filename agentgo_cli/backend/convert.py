"""Records of the store, entries of the catalog and plans, as the views the backend returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.backend import views as v
from agentgo_cli.manifests.models.workflow import KIND_STEP_FIELDS

if TYPE_CHECKING:
    from agentgo_cli.a2a.catalog import CatalogEntry
    from agentgo_cli.manifests.plan import Plan
    from agentgo_cli.store.base import EventRecord, JobRecord, StepRecord

__all__ = [
    "catalog_view",
    "job_detail_view",
    "job_view",
    "log_view",
    "plan_view",
    "step_details",
    "step_view",
]


def _job_fields(job: JobRecord) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "workflow": job.workflow,
        "status": job.status,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "duration_s": round(job.updated_at - job.created_at, 3),
        "inputs": job.inputs,
        "outputs": job.outputs,
        "error": job.error,
        "tokens": job.tokens,
        "cost_usd": job.cost_usd,
        "principal": job.principal,
        "scopes": job.scopes,
    }


def job_view(job: JobRecord) -> v.JobView:
    """A job record as the seam shows it."""
    return v.JobView(**_job_fields(job))


_DETAILS = frozenset(name for fields in KIND_STEP_FIELDS.values() for name in fields)
"""The step details a step record may carry in its extra (a loop's exhausted, …)."""


def step_details(kind: str, extra: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of a step's view that its record's extra holds: the details its kind
    records (a loop's exhausted, …), a role turn's ``turn``, a team step's ``team``."""
    if not extra:
        return {}
    details = {k: extra[k] for k in _DETAILS if k in extra}
    if kind == "role" and "role" in extra:
        details["turn"] = {k: extra[k] for k in v.RoleTurnView.model_fields if k in extra}
    elif kind == "team":
        details["team"] = {k: extra[k] for k in v.TeamRunView.model_fields if k in extra}
    return details


def step_view(step: StepRecord) -> v.StepView:
    """A step record as the seam shows it (with the details its kind records)."""
    view = v.StepView.model_validate(step, from_attributes=True)
    if not step.extra:
        return view
    details = step_details(step.kind, step.extra)
    return v.StepView.model_validate({**view.model_dump(), **details})


def log_view(job_id: str, record: EventRecord) -> v.EventView:
    """A stored log line as the seam shows it."""
    return v.EventView(job_id=job_id, **record._asdict())


def catalog_view(entry: CatalogEntry) -> v.CatalogEntryView:
    """One intent version as the seam shows it."""
    intent = entry.intent
    return v.CatalogEntryView(
        name=entry.name,
        version=entry.version,
        target=entry.target,
        card=entry.card,
        synthetic=entry.synthetic,
        description=intent.description,
        tags=list(intent.tags),
        classification=intent.classification,
        rate_limit=intent.rate_limit.model_dump(mode="json") if intent.rate_limit else None,
        idempotency_ttl=intent.idempotency_ttl,
        timeout=intent.timeout,
        input=intent.input,
        output=intent.output,
        acl=intent.acl.model_dump(mode="json") if intent.acl else None,
        examples=[e.model_dump(mode="json", exclude_none=True) for e in intent.examples],
    )


def job_detail_view(
    job: JobRecord, steps: list[StepRecord], models: dict[str, Any] | None
) -> v.JobDetailView:
    """A job with its step records and what its model calls cost."""
    return v.JobDetailView(**_job_fields(job), steps=[step_view(s) for s in steps], models=models)


def plan_view(plan: Plan, inputs: dict[str, Any], defaults: list[str]) -> v.PlanView:
    """A workflow's plan with the inputs a run would get (``defaults``: those not given)."""
    import dataclasses

    data = dataclasses.asdict(plan)
    return v.PlanView(
        workflow=plan.workflow,
        file=plan.file,
        inputs=inputs,
        defaults=defaults,
        steps=data["steps"],
        outputs=data["outputs"],
    )
