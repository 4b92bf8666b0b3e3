"""The remote backend: every Backend method as a request to ``agentgo serve`` over httpx.

Chosen by a profile with ``server:`` (and ``token:``). Requests and answers are the same
view models as in process; an error body becomes the same exception it was on the server
(``backend.wire``), so a command prints the same message and exits with the same code.

Paths a command names (a workflow file, files to validate) are sent relative to the folder
of the client's agentgo.yaml: the server reads the same files of its own copy of the
project. An ``--input-file`` is read here and its values sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from agentgo_cli.backend import views as v
from agentgo_cli.backend.wire import dumps, error_from_body, read_model
from agentgo_cli.errors import AgentGoError, ConfigError, NotFoundError, UsageError

if TYPE_CHECKING:
    import ssl

    from agentgo_cli.config import LoadedConfig

__all__ = ["RemoteBackend"]

M = TypeVar("M", bound=BaseModel)
WAIT_SECONDS = 30.0
"""How long one ``wait`` request holds before the server answers 'still running'."""


class RemoteBackend:
    """Sends each request to a server. Use as ``async with RemoteBackend(config) as b:``."""

    def __init__(
        self,
        config: LoadedConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        profile = config.profile()
        if profile is None or not profile.server:
            raise ConfigError("a remote backend needs a profile with 'server:'")
        self._config = config
        self.server = profile.server.rstrip("/")
        self._token = _token(config)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        headers = {"User-Agent": "agentgo-cli"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self._client = httpx.AsyncClient(
            base_url=self.server,
            headers=headers,
            timeout=httpx.Timeout(60.0, connect=10.0),
            transport=self._transport,
            verify=_verify(self._config),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- transport -------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("use the backend inside 'async with'")
        return self._client

    async def _send(
        self,
        method: str,
        url: str,
        *,
        body: BaseModel | None = None,
        params: dict[str, Any] | None = None,
        within: float | None = None,
    ) -> httpx.Response:
        content = None if body is None else dumps(body.model_dump(mode="json"))
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = await self._http().request(
                method,
                url,
                content=content,
                headers=headers,
                params={k: x for k, x in (params or {}).items() if x is not None},
                timeout=within if within is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException:
            raise AgentGoError(f"{self.server} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise AgentGoError(f"cannot reach the server {self.server}: {_reason(exc)}") from None
        if response.status_code >= 400:
            body = _json(response)
            located = body.get("error", {}).get("errors") if isinstance(body, dict) else None
            if isinstance(located, list):
                self._shown_errors(located)
            raise error_from_body(response.status_code, body)
        return response

    async def _model(self, model: type[M], method: str, url: str, **kw: Any) -> M:
        response = await self._send(method, url, **kw)
        try:
            return read_model(model, response.content)
        except ValueError:
            raise AgentGoError(f"{self.server} answered {url} with an unexpected body") from None

    async def _list(self, model: type[M], method: str, url: str, **kw: Any) -> list[M]:
        response = await self._send(method, url, **kw)
        try:
            items = json.loads(response.content)
            return TypeAdapter(list[model]).validate_python(items)  # type: ignore[valid-type]
        except ValueError:
            raise AgentGoError(f"{self.server} answered {url} with an unexpected body") from None

    # -- paths -----------------------------------------------------------------------------

    def _root(self) -> Path:
        path = self._config.path
        return (path.parent if path is not None else Path.cwd()).resolve()

    def _relative(self, given: str) -> str:
        """A path named here as the server knows it: relative to the project's folder."""
        full = Path(given).resolve()
        root = self._root()
        if full != root and root not in full.parents:
            raise UsageError(
                f"{given} is outside the project ({root}): a server reads only its own copy "
                "of the project's files"
            )
        return full.relative_to(root).as_posix() or "."

    def _shown(self, file: str, given: dict[str, str] | None = None) -> str:
        """A file the server names (relative to its project's folder, where it works) as a
        command here names it: under a path the command was given (``given``: as sent to
        as given), spelled from that path; else relative to this working folder when
        inside it."""
        if not file or Path(file).is_absolute():
            return file
        from agentgo_cli.manifests.loader import display_path

        for sent, named in (given or {}).items():
            if sent == ".":
                return display_path(Path(named) / file)
            if file == sent or file.startswith(sent + "/"):
                return display_path(Path(named + file[len(sent) :]))
        return display_path(self._root() / file)

    def _shown_errors(self, errors: list[Any]) -> None:
        for error in errors:
            if isinstance(error, dict) and isinstance(error.get("file"), str):
                error["file"] = self._shown(error["file"])

    def _workflow(self, ref: str) -> str:
        return self._relative(ref) if Path(ref).is_file() else ref

    def _input_data(self, request: v.RunRequest | v.PlanRequest) -> None:
        if request.input_file is not None:
            from agentgo_cli.backend._resolve import read_input_file

            request.input_data = {
                **(request.input_data or {}),
                **read_input_file(request.input_file),
            }
            request.input_file = None

    # -- manifests -------------------------------------------------------------------------

    async def validate(self, request: v.ValidateRequest) -> v.ValidationReport:
        given = {self._relative(p): p for p in request.paths}
        body = v.ValidateRequest(paths=list(given))
        report = await self._model(v.ValidationReport, "POST", "/v1/validate", body=body)
        report.file_names = [self._shown(f, given) for f in report.file_names]
        for error in report.errors:
            error.file = self._shown(error.file, given)
        return report

    async def plan(self, request: v.PlanRequest) -> v.PlanView:
        body = request.model_copy(update={"workflow": self._workflow(request.workflow)})
        self._input_data(body)
        view = await self._model(v.PlanView, "POST", "/v1/plan", body=body)
        view.file = self._shown(view.file)
        return view

    # -- jobs ------------------------------------------------------------------------------

    async def submit(self, request: v.RunRequest) -> v.JobView:
        body = request.model_copy(update={"workflow": self._workflow(request.workflow)})
        self._input_data(body)
        return await self._model(v.JobView, "POST", "/v1/jobs", body=body)

    async def wait(self, job_id: str) -> v.JobView:
        while True:
            response = await self._send(
                "GET",
                f"/v1/jobs/{_q(job_id)}/wait",
                params={"timeout": WAIT_SECONDS},
                within=WAIT_SECONDS + 30,
            )
            job = read_model(v.JobView, response.content)
            if response.status_code != 202:
                return job

    async def run(self, request: v.RunRequest) -> v.JobView:
        job = await self.submit(request)
        return job if request.detach else await self.wait(job.job_id)

    async def resume(self, request: v.ResumeRequest) -> v.JobView:
        url = f"/v1/jobs/{_q(request.job_id)}/resume"
        return await self._model(v.JobView, "POST", url, body=request)

    async def interrupt(self, job_id: str) -> v.JobDetailView:
        return await self._model(v.JobDetailView, "POST", f"/v1/jobs/{_q(job_id)}/interrupt")

    async def watch(self, job_id: str) -> AsyncIterator[v.EventView]:
        url = f"/v1/jobs/{_q(job_id)}/events"
        try:
            async with self._http().stream("GET", url, timeout=httpx.Timeout(None)) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise error_from_body(response.status_code, _json(response))
                kind = "message"
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        kind = line.partition(":")[2].strip()
                    elif line.startswith("data:"):
                        if kind == "end":
                            return
                        yield read_model(v.EventView, line.partition(":")[2])
                    elif not line:
                        kind = "message"
        except httpx.HTTPError as exc:
            raise AgentGoError(f"lost the server {self.server}: {_reason(exc)}") from None

    async def completions(self, what: str, incomplete: str) -> list[str]:
        response = await self._send(
            "GET", "/v1/completions", params={"what": what, "incomplete": incomplete}
        )
        found = _json(response)
        return [str(x) for x in found] if isinstance(found, list) else []

    async def jobs(self, query: v.JobsQuery) -> list[v.JobView]:
        params = {
            "status": None if query.status is None else str(query.status),
            "limit": query.limit,
            "principal": query.principal,
        }
        return await self._list(v.JobView, "GET", "/v1/jobs", params=params)

    async def job(self, job_id: str) -> v.JobDetailView:
        return await self._model(v.JobDetailView, "GET", f"/v1/jobs/{_q(job_id)}")

    async def cancel(self, job_id: str) -> v.JobView:
        return await self._model(v.JobView, "POST", f"/v1/jobs/{_q(job_id)}/cancel")

    async def logs(self, request: v.LogsRequest) -> list[v.EventView]:
        url = f"/v1/jobs/{_q(request.job_id)}/logs"
        return await self._list(v.EventView, "GET", url, params={"after": request.after})

    async def trace(self, request: v.TraceRequest) -> v.TraceNode:
        if request.step is not None:
            from agentgo_cli.backend.trace_tree import parse_path

            parse_path(request.step)  # a malformed path is refused before any request
        url = f"/v1/jobs/{_q(request.job_id)}/trace"
        return await self._model(v.TraceNode, "GET", url, params={"step": request.step})

    # -- catalog and calls -----------------------------------------------------------------

    async def catalog(self, request: v.CatalogRequest) -> list[v.CatalogEntryView]:
        body = request.model_copy(update={"paths": [self._relative(p) for p in request.paths]})
        return await self._list(v.CatalogEntryView, "POST", "/v1/catalog/list", body=body)

    async def intent(self, request: v.IntentRequest) -> v.IntentView:
        body = request.model_copy(update={"paths": [self._relative(p) for p in request.paths]})
        return await self._model(v.IntentView, "POST", "/v1/catalog/show", body=body)

    async def export_cards(self, request: v.ExportRequest) -> list[v.ExportedCard]:
        body = request.model_copy(update={"paths": [self._relative(p) for p in request.paths]})
        return await self._list(v.ExportedCard, "POST", "/v1/catalog/export", body=body)

    async def call(self, request: v.CallRequest) -> v.CallResult:
        return await self._model(v.CallResult, "POST", "/v1/calls", body=request, within=3600.0)

    # -- models ----------------------------------------------------------------------------

    async def models(self) -> list[v.ModelView]:
        return await self._list(v.ModelView, "GET", "/v1/models")

    async def ping_model(self, request: v.PingRequest) -> v.PingResult:
        return await self._model(v.PingResult, "POST", "/v1/models/ping", body=request)

    # -- worker ----------------------------------------------------------------------------

    async def work(self, request: v.WorkRequest) -> AsyncIterator[v.WorkerNotice]:
        raise UsageError(
            f"'agentgo worker' runs beside a store, and this profile sends commands to "
            f"{self.server}: use 'agentgo serve --workers N' there, or a profile with 'store:'"
        )
        yield  # pragma: no cover  (an async generator)


def _token(config: LoadedConfig) -> str | None:
    from agentgo_cli.config import resolve_secret

    profile = config.profile()
    if profile is None or profile.token is None:
        return None
    base = config.path.parent if config.path is not None else None
    return resolve_secret(str(profile.token), base)


def _verify(config: LoadedConfig) -> ssl.SSLContext | bool:
    """How the server's certificate is checked: against the profile's ``ca_certs``, else
    the system's CAs; not at all for an ``http://`` server, which has none (the client
    then loads no CA bundle: 20-50 ms of every command). Raises ConfigError for a bundle
    that cannot be read."""
    profile = config.profile()
    if profile is not None and profile.server and profile.server.lower().startswith("http://"):
        return False  # only this server's URLs are requested, and redirects are not followed
    if profile is None or profile.ca_certs is None:
        return True
    import ssl

    base = config.path.parent if config.path is not None else Path.cwd()
    path = base / profile.ca_certs
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"profile '{config.profile_name}': ca_certs {profile.ca_certs}: cannot load it as "
            f"PEM certificates: {getattr(exc, 'strerror', None) or exc}"
        ) from None


def _q(job_id: str) -> str:
    """A job id as a part of a URL. An id that UTF-8 cannot encode (a lone surrogate: a
    non-UTF-8 byte typed) is no job's, here as on any server."""
    from urllib.parse import quote

    try:
        return quote(job_id, safe="")
    except UnicodeEncodeError:
        raise NotFoundError(f"no job '{job_id}'") from None


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _reason(exc: httpx.HTTPError) -> str:
    reason = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in reason:
        reason += (
            " (a self-signed or private CA's certificate: name its CA in the profile's 'ca_certs:')"
        )
    return reason
