"""The plain data that crosses the Backend seam: requests and views, as pydantic models.

Every Backend method takes and returns these. What a command prints with ``--output json``
is exactly a view's ``model_dump(mode="json")``, the same JSON that crosses HTTP between
a ``RemoteBackend`` and ``agentgo serve``. Their JSON Schemas are exported to
``schemas/api/`` (``agentgo schema export``) so that scripts can rely on the shapes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentgo_cli.store.base import JobStatus, StepStatus

__all__ = [
    "API_VIEWS",
    "CallRequest",
    "CallResult",
    "CatalogEntryView",
    "CatalogRequest",
    "EventView",
    "ExportedCard",
    "ExportRequest",
    "FailedAgentView",
    "HandoffView",
    "IntentRequest",
    "IntentView",
    "ItemErrorView",
    "JobDetailView",
    "JobStatus",
    "JobView",
    "JobsQuery",
    "LogsRequest",
    "ManifestErrorView",
    "ModelView",
    "PingRequest",
    "PingResult",
    "PlanReadView",
    "PlanRequest",
    "PlanRoleView",
    "PlanStepView",
    "PlanTeamView",
    "PlanView",
    "ResumeRequest",
    "RoleTurnView",
    "RunRequest",
    "StepStatus",
    "StepView",
    "TeamRunView",
    "TraceNode",
    "TraceRequest",
    "ValidateRequest",
    "ValidationReport",
    "WorkRequest",
    "WorkerNotice",
]


class _View(BaseModel):
    """A view: plain data, unknown fields refused (a typo in a client is an error)."""

    model_config = ConfigDict(extra="forbid", frozen=False)


class _Body(_View):
    """A request that is also a body of ``agentgo serve``: its values must have the types
    its schema says (0 is not false, "5" is not 5), as the OpenAPI document promises."""

    model_config = ConfigDict(extra="forbid", frozen=False, strict=True)


# -- requests ------------------------------------------------------------------------------


class ValidateRequest(_Body):
    """What ``agentgo validate`` asks for."""

    paths: list[str] = Field(default_factory=list)
    """Files and folders; empty: the active profile's manifests."""


class RunRequest(_Body):
    """What ``agentgo run`` asks for."""

    workflow: str
    """A workflow file, or the name of a workflow in the active profile's manifests."""
    inputs: dict[str, str] = Field(default_factory=dict)
    """``-i name=value`` pairs, as text (parsed against the input's schema)."""
    input_file: str | None = None
    input_data: dict[str, Any] | None = None
    """Input values as read from an input file by a client (``--input-file`` through a
    server); ``inputs`` pairs are applied over them."""
    detach: bool = False
    """Only enqueue the job; a worker runs it."""
    principal: str | None = None
    """Whom the job runs for (default: user:<login name>); its calls run as them."""
    scopes: list[str] = Field(default_factory=list)
    stream: bool = False
    """Agent steps stream their replies, each piece a ``delta`` event of ``watch`` (for a
    live display); otherwise each model turn is one complete call."""


class PlanRequest(_Body):
    """What ``agentgo plan`` asks for: a workflow and its inputs, as ``run`` takes them."""

    workflow: str
    """A workflow file, or the name of a workflow in the active profile's manifests."""
    inputs: dict[str, str] = Field(default_factory=dict)
    """``-i name=value`` pairs, as text (parsed against the input's schema)."""
    input_file: str | None = None
    input_data: dict[str, Any] | None = None
    """As RunRequest.input_data."""


class ResumeRequest(_Body):
    """What ``agentgo resume`` asks for."""

    job_id: str
    force: bool = False
    """Take the job over even if its lease looks alive."""
    stream: bool = False
    """As RunRequest.stream: agent replies as ``delta`` events of ``watch``."""


class JobsQuery(_View):
    """What ``agentgo jobs list`` asks for."""

    status: JobStatus | None = None
    limit: int = Field(50, ge=1)
    principal: str | None = None
    """Only the jobs run for this principal (through a server: always the token's own,
    unless it holds ``agentgo:admin``)."""


class LogsRequest(_View):
    """What ``agentgo jobs logs`` asks for."""

    job_id: str
    after: int = 0
    """Only events with a greater sequence number."""


class TraceRequest(_View):
    """What ``agentgo jobs trace`` asks for."""

    job_id: str
    step: str | None = None
    """The path of one node (``research[0].summarize``, ``draft/turn:2``,
    ``go/attempt:1/call:1/turn:1``): only that node and what is below it; None: the job."""


class CatalogRequest(_Body):
    """What ``agentgo catalog list`` asks for."""

    paths: list[str] = Field(default_factory=list)
    all_versions: bool = False


class IntentRequest(_Body):
    """What ``agentgo catalog show`` asks for."""

    intent: str
    """'name' or 'name@range'."""
    paths: list[str] = Field(default_factory=list)


class ExportRequest(_Body):
    """What ``agentgo catalog export`` asks for."""

    paths: list[str] = Field(default_factory=list)
    format: Literal["a2a"] = "a2a"
    url: str = "http://localhost:8080"


class CallRequest(_Body):
    """What ``agentgo call`` asks for."""

    intent: str
    """'name' or 'name@range'."""
    input: Any = None
    """The input as a value (from --input JSON)."""
    pairs: dict[str, str] = Field(default_factory=dict)
    """``-i name=value`` pairs, as text (parsed against the intent's input schema)."""
    principal: str | None = None
    scopes: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None
    traceparent: str | None = None


class PingRequest(_Body):
    """What ``agentgo models ping`` asks for."""

    ref: str
    within: float = Field(20.0, gt=0)
    """Seconds to wait for the answer."""


class WorkRequest(_View):
    """What ``agentgo worker`` asks for."""

    concurrency: int = Field(16, ge=1)
    once: bool = False
    """Stop when no job is left."""
    poll: float = Field(1.0, gt=0)
    watch: bool = False
    """Reload the manifests when a file changes (SIGHUP always reloads)."""
    drain: float = Field(30.0, ge=0)
    """On SIGTERM: how long running jobs may take to finish before they are given up."""


# -- views ---------------------------------------------------------------------------------


class JobView(_View):
    """One job: the one JSON shape printed by run, resume and jobs."""

    job_id: str
    workflow: str
    status: JobStatus
    created_at: float
    updated_at: float
    duration_s: float
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None = None
    error: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    principal: str | None = None
    scopes: list[str] = Field(default_factory=list)


class ItemErrorView(_View):
    """A failed item of a foreach with ``on_item_error: continue``."""

    index: int
    """The item's place in the list (0-based); its element of the output is null."""
    step: str
    """The key of the innermost step that failed, e.g. ``each[1].enrich``."""
    error: str
    """That step's error."""


class FailedAgentView(_View):
    """An agent that failed a role turn (its role's next fallback agent was tried, if any)."""

    agent: str
    error: str


class HandoffView(_View):
    """A swarm turn's handoff: the role it gave control to, and what it told it."""

    to: str
    message: str = ""


class RoleTurnView(_View):
    """What a team's role turn (a step of kind ``role``) notes: who played it, and when."""

    role: str
    agent: str | None = None
    """The agent that answered: the role's own, or the fallback agent that answered when it
    failed; None when every agent the role may use failed."""
    round: int
    """The turn's number in its team run, from 1 (a round is one role turn)."""
    handoff: HandoffView | None = None
    """A swarm turn that handed control on."""
    failed_agents: list[FailedAgentView] = Field(default_factory=list)
    """The agents that failed the turn, in the order they were tried."""


class TeamRunView(_View):
    """What a team step (a step of kind ``team``) notes about its run of the team."""

    protocol: str | None = None
    rounds: int = 0
    """Role turns played (a resumed run counts those its records answered)."""
    tokens: int = 0
    """The role turns' tokens (each turn counts its own on the job)."""
    cost_usd: float = 0.0
    bids: dict[str, int | float | None] | None = None
    """contract-net: each role's bid (null: none)."""
    awarded: str | None = None
    """contract-net: the role that did the task."""
    answered_by: str | None = None
    """swarm: the role whose answer ended the run."""
    handoffs: int | None = None
    """swarm: how many times control was handed on."""
    todos: str | None = None
    """planner-workers: the id of the run's todo list in the store."""
    tasks: int | None = None
    """planner-workers: how many tasks the workers did."""


class StepView(_View):
    """The latest attempt of one step instance (``key``: its path in the run)."""

    key: str
    step_id: str
    kind: str
    status: StepStatus
    attempt: int
    started_at: float
    finished_at: float | None = None
    output: Any = None
    error: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    exhausted: bool = False
    """A loop whose ``until`` never held in ``max_iterations`` (it ran them all)."""
    errors: list[ItemErrorView] = Field(default_factory=list)
    """A foreach with ``on_item_error: continue``: its failed items."""
    turn: RoleTurnView | None = None
    """A role turn of a team: its role, agent and round."""
    team: TeamRunView | None = None
    """A team step: its protocol, rounds and outcome."""


class JobDetailView(JobView):
    """A job with its step records and what its model calls cost (``jobs show``)."""

    steps: list[StepView] = Field(default_factory=list)
    models: dict[str, Any] | None = None
    """Real model calls and, apart, shadow calls: calls, tokens, usd, shadow_calls, …"""


class EventView(_View):
    """One thing that happened in a job: a log line, or a step that started or ended.

    Log lines come from the job's stored log and have a ``seq``; live step events (``kind``
    ``step``) carry the step instead.
    """

    seq: int | None = None
    """The log line's place in the store (increasing); None for live-only events."""
    time: float
    kind: str
    """job, retry, step, call, cost, shadow, … (log lines); step, model, tool, agent_call,
    delta (live events of a job running in this process; a delta's ``message`` is a piece of
    an agent step's streamed reply, ``data.key`` the step's key); end (the job's last
    event)."""
    message: str
    data: Any = None
    job_id: str
    step: StepView | None = None
    """For live step events: the step instance as it now is."""


class TraceNode(_View):
    """One node of a job's trace (``jobs trace``): the job, a step instance, an attempt, a
    model turn, a tool call, or a call to another agent with its callee's nodes below it."""

    kind: Literal["job", "step", "attempt", "turn", "tool", "call"]
    path: str
    """What ``--step`` takes to show this node: a step's key, then ``/attempt:N``,
    ``/turn:N``, ``/tool:N``, ``/call:N`` (the N-th of that kind below its parent); '' for
    the job."""
    name: str
    """The workflow, the step key, 'attempt N', the model, the tool or the intent."""
    status: str | None = None
    """job and step statuses; an attempt's (succeeded, failed, skipped, running,
    interrupted); ok or failed (turns, tools); a call's decision (ok, denied, …)."""
    started_at: float | None = None
    duration_s: float | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    detail: dict[str, Any] = Field(default_factory=dict)
    """The node's payloads as recorded (secrets masked, each cut at the profile's
    ``trace_payload_bytes``, a cut one marked): a turn's ``messages``, ``reply`` and
    ``tool_calls``; a tool's ``arguments``, ``result``, ``error`` and ``traceback``; a
    call's ``chain``, ``trace_id`` and ``error``; a step's ``output`` and ``error``."""
    children: list[TraceNode] = Field(default_factory=list)
    """The nodes below, in the order they started."""


class ManifestErrorView(_View):
    """One problem of a manifest set, located."""

    file: str
    line: int
    col: int
    path: str
    message: str
    code: str


class ValidationReport(_View):
    """What ``agentgo validate`` found."""

    valid: bool
    files: int
    file_names: list[str] = Field(default_factory=list)
    """The files read, named as the errors name them (``--output junit``: a testcase each)."""
    documents: int
    manifests: dict[str, int]
    """How many manifests of each kind."""
    errors: list[ManifestErrorView]
    config_errors: int = 0
    """How many of ``errors`` are in the config file: the config is broken (exit 2)."""


class PlanReadView(_View):
    """One ``${{ }}`` expression of a plan: where it is written and what it reads."""

    field: str
    """Where in the step it is written (``prompt``, ``with.text``, ``if``, ``loop.until``);
    for the workflow's outputs, the output's name."""
    expression: str
    """Its source, without ``${{ }}``."""
    steps: list[str]
    """Step ids it reads (``steps.<id>``), in order of appearance."""
    inputs: list[str]
    """Workflow inputs it reads (``inputs.<name>``)."""
    names: list[str]
    """Other names it reads: ``item``, ``index``, ``loop``, ``job``, ``steps`` or ``inputs``
    read as a whole."""


class PlanRoleView(_View):
    """One role of a team step's team, as written."""

    name: str
    agent: str
    replicas: int
    fallback_agents: list[str]
    on_failure: str
    """skip, replace or abort."""


class PlanTeamView(_View):
    """The team a team step runs."""

    protocol: str
    """pipeline, planner-workers, contract-net or swarm."""
    roles: list[PlanRoleView]
    limits: dict[str, Any] | None = None
    """The limits the team writes (cost_usd, wallclock, max_rounds); null: none."""
    blackboard: str | None = None
    """The blackboard's scope, when the team sets one."""


class PlanStepView(_View):
    """One step of a plan, with its inner steps (a foreach or loop body, parallel branches)."""

    id: str
    kind: str
    """agent, tool, call, team, foreach, loop, parallel, … (every step kind)."""
    line: int
    """Line of the step in the workflow's file."""
    target: str | None = None
    """The agent, tool, intent ('name@range') or team the step runs."""
    condition: Any = None
    """The step's ``if``, as written."""
    retry: dict[str, Any] | None = None
    timeout: str | None = None
    continue_on_error: bool = False
    settings: dict[str, Any] = Field(default_factory=dict)
    """The kind's other plain settings as written, by field path (``as``,
    ``max_concurrency``, ``loop.max_iterations``, a prompt without expressions)."""
    reads: list[PlanReadView] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)
    """Every step id its expressions read: where its data comes from."""
    steps: list[PlanStepView] = Field(default_factory=list)
    team: PlanTeamView | None = None
    """A team step's team: its protocol, roles and limits."""


class PlanView(_View):
    """What ``agentgo plan`` shows: a validated workflow's step graph, with nothing run."""

    workflow: str
    file: str
    """The file that defines the workflow."""
    inputs: dict[str, Any]
    """The inputs a run would get: given values (parsed and checked), then defaults."""
    defaults: list[str] = Field(default_factory=list)
    """Names of the inputs that take their default."""
    steps: list[PlanStepView]
    outputs: list[PlanReadView] = Field(default_factory=list)
    """The expressions of the workflow's outputs."""


class CatalogEntryView(_View):
    """One version of one intent of the catalog."""

    name: str
    version: str
    target: str
    card: str | None
    synthetic: bool
    description: str
    tags: list[str]
    classification: str
    rate_limit: dict[str, Any] | None
    idempotency_ttl: str | None
    timeout: str | None
    input: Any
    output: Any
    acl: dict[str, Any] | None
    examples: list[dict[str, Any]]


class IntentView(CatalogEntryView):
    """One intent version with its prompt and the other versions (``catalog show``)."""

    prompt: str | None
    other_versions: list[str]


class ExportedCard(_View):
    """One A2A AgentCard (1.0) and the file name it is written under."""

    file_name: str
    card: dict[str, Any]


class CallResult(_View):
    """The whole record of one call: ``agentgo call --output json``."""

    intent: str
    """'name@version' the call resolved to."""
    target: str
    output: Any
    principal: str
    chain: list[str]
    trace_id: str
    span_id: str
    parent_span_id: str | None
    traceparent: str
    tokens: int
    cost_usd: float
    duration_s: float
    replayed: bool
    """True when an idempotency record answered and the target did not run."""
    idempotency_key: str | None


class ModelView(_View):
    """One model as ``agentgo models list`` shows it."""

    ref: str
    provider: str
    input_usd_per_mtok: float | None
    output_usd_per_mtok: float | None
    price_source: str
    """'default' (the built-in table), 'config' (agentgo.yaml), 'free' or 'unpriced'."""
    key: str | None
    """Where the provider's key comes from (e.g. '${env:OPENAI_API_KEY}'), never the key."""
    base_url: str | None
    agents: list[str]
    """Agents of the manifest set that use the model (as model, fallback or shadow)."""


class PingResult(_View):
    """The answer to one tiny call: ``agentgo models ping``."""

    ref: str
    text: str
    seconds: float
    input_tokens: int
    output_tokens: int
    cost_usd: float


class WorkerNotice(_View):
    """A line of a worker's progress; the last one has ``jobs_run`` set."""

    message: str
    jobs_run: int | None = None
    job_id: str | None = None
    """Set on the lines about one job: taken (started), ended, or given up (released)."""


API_VIEWS: dict[str, type[BaseModel]] = {
    "job": JobView,
    "job-detail": JobDetailView,
    "step": StepView,
    "event": EventView,
    "trace-node": TraceNode,
    "validation-report": ValidationReport,
    "catalog-entry": CatalogEntryView,
    "intent": IntentView,
    "exported-card": ExportedCard,
    "call-result": CallResult,
    "model": ModelView,
    "ping-result": PingResult,
    "worker-notice": WorkerNotice,
    "plan": PlanView,
    "run-request": RunRequest,
    "resume-request": ResumeRequest,
    "jobs-query": JobsQuery,
    "logs-request": LogsRequest,
    "trace-request": TraceRequest,
    "validate-request": ValidateRequest,
    "plan-request": PlanRequest,
    "catalog-request": CatalogRequest,
    "intent-request": IntentRequest,
    "export-request": ExportRequest,
    "call-request": CallRequest,
    "ping-request": PingRequest,
    "work-request": WorkRequest,
}
"""Every model of the seam by the file name of its schema in ``schemas/api/``."""
