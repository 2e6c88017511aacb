"""What each function may do on AWS, as template.yaml's policies say, enforced on the local stack.

moto does not evaluate IAM, so a function that lacks a permission works locally and is denied on AWS (an event lost,
a write refused). The local stack therefore checks every AWS call a handler makes against its function's policies in
the template and denies what they do not allow, as AWS would (`AccessDenied`): the SAM policy templates expanded by
SAM's own translator (`samtranslator`, the definitions `sam build` deploys), and the inline statements. A call made
with a tenant role's session (`sts:AssumeRole`, `adapters/tenant_secrets.py`) is checked against that role's
policy instead. Each denial is logged and kept in `denied`; the tests fail on any.

Not evaluated: conditions (session tags, `secretsmanager:ResourceTag`, `kms:ViaService`; `tests/unit/security/
test_iam_policies.py` checks them as documents), resource policies, and calls the local stack itself makes (only
calls made while a handler runs, in its thread, are attributed to its function).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from botocore.awsrequest import AWSResponse
from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

from local_stack.template import Resolver, Template

log = logging.getLogger("local_stack")
ACCOUNT_ID = "123456789012"
#: The error code each service answers a denied call with.
DENIED_CODE = {"sqs": "AccessDenied", "sts": "AccessDenied"}


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def matches(self, action: str, resource: str) -> bool:
        return any(fnmatchcase(action.lower(), a.lower()) for a in self.actions) and any(
            fnmatchcase(resource, r) for r in self.resources
        )


@dataclass(frozen=True)
class Denial:
    function: str
    principal: str  # the function, or the tenant role whose session made the call
    action: str
    resource: str


def allows(statements: list[Statement], action: str, resource: str) -> bool:
    """IAM's identity-policy evaluation without conditions: an explicit deny wins, then an allow is needed."""
    if any(s.effect == "Deny" and s.matches(action, resource) for s in statements):
        return False
    return any(s.effect == "Allow" and s.matches(action, resource) for s in statements)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements_of(document: dict[str, Any], resolver: Resolver) -> list[Statement]:
    out = []
    for raw in _as_list(document["Statement"]):
        unsupported = set(raw) - {"Sid", "Effect", "Action", "Resource", "Condition"}
        if unsupported:
            raise NotImplementedError(f"the local stack cannot check {sorted(unsupported)} in {raw}")
        resolved = resolver.resolve(raw)
        out.append(
            Statement(
                effect=resolved["Effect"],
                actions=tuple(_as_list(resolved["Action"])),
                resources=tuple(str(r) for r in _as_list(resolved["Resource"])),
            )
        )
    return out


def function_statements(template: Template, resolver: Resolver) -> dict[str, list[Statement]]:
    """Each function's statements: its SAM policy templates expanded as `sam build` expands them, and its inline
    statements."""
    processor = PolicyTemplatesProcessor(PolicyTemplatesProcessor.get_default_policy_templates_json())
    out: dict[str, list[Statement]] = {}
    for name, resource in template.of_type("AWS::Serverless::Function").items():
        statements: list[Statement] = []
        for policy in resource["Properties"].get("Policies") or []:
            if not isinstance(policy, dict):
                raise NotImplementedError(f"{name}: the local stack cannot check the managed policy {policy!r}")
            for key, arguments in policy.items():
                document = policy if key == "Statement" else processor.convert(key, arguments)
                statements += statements_of(document, resolver)
        out[name] = statements
    return out


def role_statements(template: Template, resolver: Resolver) -> dict[str, list[Statement]]:
    """Each IAM role's inline policies, by the role's ARN."""
    out: dict[str, list[Statement]] = {}
    for name, resource in template.of_type("AWS::IAM::Role").items():
        props = resource["Properties"]
        role_name = resolver.resolve(props.get("RoleName", name))
        out[f"arn:aws:iam::{ACCOUNT_ID}:role/{role_name}"] = [
            s for policy in props.get("Policies", []) for s in statements_of(policy["PolicyDocument"], resolver)
        ]
    return out


def requested(service: str, operation: str, params: dict[str, Any], region: str) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs IAM authorises for one call, for the calls the service makes."""
    account = f"{region}:{ACCOUNT_ID}"
    if service == "dynamodb":
        table = lambda name: f"arn:aws:dynamodb:{account}:table/{name}"  # noqa: E731
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table(name)) for name in params.get("RequestItems", {})]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "Get": "GetItem"}
            action["ConditionCheck"] = "ConditionCheckItem"
            return [
                (f"dynamodb:{action[kind]}", table(part["TableName"]))
                for item in params.get("TransactItems", [])
                for kind, part in item.items()
            ]
        arn = table(params["TableName"])
        if params.get("IndexName"):
            arn += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", arn)]
    if service == "sqs":
        name = params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1] if "QueueUrl" in params else params.get("QueueName")
        return [(f"sqs:{operation}", f"arn:aws:sqs:{account}:{name}")]
    if service == "events" and operation == "PutEvents":
        buses = {entry.get("EventBusName") or "default" for entry in params.get("Entries", [])}
        return [
            ("events:PutEvents", bus if bus.startswith("arn:") else f"arn:aws:events:{account}:event-bus/{bus}")
            for bus in sorted(buses)
        ]
    if service == "sts" and operation == "AssumeRole":
        pairs = [("sts:AssumeRole", params["RoleArn"])]
        return [*pairs, ("sts:TagSession", params["RoleArn"])] if params.get("Tags") else pairs
    if service == "secretsmanager" and ("SecretId" in params or "Name" in params):
        secret = params.get("SecretId") or params["Name"]
        arn = secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{account}:secret:{secret}"
        return [(f"secretsmanager:{operation}", arn)]
    return [(f"{service}:{operation}", "*")]


class Permissions:
    """The check, attached to boto3's default session (every client the handlers make comes from it) before the
    handlers make their clients. `Stack.invoke` runs each handler inside `acting_as(function)`."""

    def __init__(self, template: Template, resolver: Resolver) -> None:
        self.functions = function_statements(template, resolver)
        self.roles = role_statements(template, resolver)
        self.denied: list[Denial] = []
        self._current = threading.local()
        self._sessions: dict[str, str] = {}  # access key of a tenant session -> the role's ARN
        self._lock = threading.Lock()

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        previous = getattr(self._current, "function", None)
        self._current.function = function
        try:
            yield
        finally:
            self._current.function = previous

    def attach(self, events: Any) -> None:
        """Registers the check on a botocore event emitter (boto3's default session's `events`: each client copies
        it when it is made), in place of an earlier stack's in the same process."""
        for event, handler, unique_id in (
            ("before-parameter-build", self._keep_params, "local-stack-permissions-params"),
            ("before-call", self._check, "local-stack-permissions-check"),
            ("after-call.sts.AssumeRole", self._tenant_session, "local-stack-permissions-sts"),
        ):
            events.unregister(event, unique_id=unique_id)
            events.register(event, handler, unique_id=unique_id)

    # ------------------------------------------------------------------ botocore hooks
    def _keep_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["local_stack_api_params"] = params

    def _check(self, model: Any, context: dict[str, Any], request_signer: Any = None, **_: Any) -> Any:
        function = getattr(self._current, "function", None)
        if function is None:
            return None  # the local stack's own call, or a test's
        access_key = getattr(getattr(request_signer, "_credentials", None), "access_key", None)
        with self._lock:
            role = self._sessions.get(access_key or "")
        statements = self.roles[role] if role else self.functions.get(function, [])
        service = model.service_model.service_name
        params = context.get("local_stack_api_params", {})
        for action, resource in requested(service, model.name, params, context.get("client_region") or "eu-north-1"):
            if not allows(statements, action, resource):
                return self._deny(Denial(function, role or function, action, resource), service)
        return None

    def _tenant_session(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        credentials = parsed.get("Credentials") or {}
        role_arn = context.get("local_stack_api_params", {}).get("RoleArn")
        if credentials.get("AccessKeyId") and role_arn in self.roles:
            with self._lock:
                self._sessions[credentials["AccessKeyId"]] = role_arn

    def _deny(self, denial: Denial, service: str) -> tuple[AWSResponse, dict[str, Any]]:
        self.denied.append(denial)
        message = (
            f"{denial.principal} is not authorized to perform {denial.action} on {denial.resource}: no statement of "
            "its policies in template.yaml allows it (local stack)"
        )
        log.error("access denied: %s", message)
        error = {"Code": DENIED_CODE.get(service, "AccessDeniedException"), "Message": message}
        return AWSResponse("https://local-stack.invalid", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

