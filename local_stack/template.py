"""Reads `template.yaml` so that the local stack is built from the template itself, never from a second list.

It understands the CloudFormation short-form tags (via cfn-lint's decoder), merges SAM `Globals` into functions,
and resolves the intrinsic functions the template uses (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::If`, `Fn::Not`,
`Fn::Equals`) against local physical names.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

_NO_VALUE = object()


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    template, matches = decode(str(path))
    if matches or template is None:
        raise ValueError(f"{path} does not parse: {[str(m) for m in matches]}")
    return _plain(template)


def _plain(value: Any) -> Any:
    """cfn-lint returns its own dict/str subclasses that carry line marks; turn them into plain Python."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


@dataclass(frozen=True)
class HttpRoute:
    function: str
    method: str
    path: str
    authorized: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method:
            return None
        pattern = "^" + re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: str
    batch_size: int
    report_batch_item_failures: bool
    #: Concurrent deliveries (Lambda's `ScalingConfig.MaximumConcurrency`; locally 2 when the template sets none).
    maximum_concurrency: int = 2


@dataclass
class FunctionSpec:
    logical_id: str
    handler: str
    code_uri: str
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


class Template:
    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document if document is not None else load_template()

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.document["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == resource_type}

    def parameter_defaults(self) -> dict[str, Any]:
        return {name: spec.get("Default") for name, spec in self.document.get("Parameters", {}).items()}

    def functions(self) -> dict[str, FunctionSpec]:
        defaults = self.document.get("Globals", {}).get("Function", {})
        specs = {}
        for name, res in self.of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            env = copy.deepcopy(defaults.get("Environment", {}).get("Variables", {}))
            env.update(props.get("Environment", {}).get("Variables", {}))
            specs[name] = FunctionSpec(
                logical_id=name,
                handler=props["Handler"],
                code_uri=props["CodeUri"],
                timeout=int(props.get("Timeout", defaults.get("Timeout", 3))),
                environment=env,
            )
        return specs

    def _events(self, event_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, res in self.of_type("AWS::Serverless::Function").items():
            for event in res["Properties"].get("Events", {}).values():
                if event["Type"] == event_type:
                    yield name, event["Properties"]

    def http_routes(self) -> list[HttpRoute]:
        routes = []
        for function, props in self._events("HttpApi"):
            authorizer = props.get("Auth", {}).get("Authorizer")
            routes.append(HttpRoute(function, props["Method"].upper(), props["Path"], authorizer != "NONE"))
        return routes

    def queue_sources(self) -> list[QueueSource]:
        sources = []
        for function, props in self._events("SQS"):
            queue = props["Queue"]["Fn::GetAtt"]
            queue_id = queue[0] if isinstance(queue, list) else queue.split(".")[0]
            sources.append(
                QueueSource(
                    function=function,
                    queue=queue_id,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    maximum_concurrency=int(props.get("ScalingConfig", {}).get("MaximumConcurrency", 2)),
                )
            )
        return sources


class Resolver:
    """Evaluates intrinsic functions with local values for parameters, pseudo parameters and resources."""

    def __init__(
        self,
        parameters: Mapping[str, Any],
        refs: Mapping[str, Any],
        attributes: Callable[[str, str], Any],
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = parameters
        self.refs = refs
        self.attributes = attributes
        self.conditions = conditions or {}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"Ref to unknown name {name}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attributes(logical, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.resolve(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in value.items()) if r is not _NO_VALUE}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self.attributes(logical, attribute))
            return str(self.ref(name))

        return re.sub(r"\$\{([A-Za-z0-9_:.]+)\}", replace, text)
