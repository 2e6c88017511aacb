"""Creates, in the moto server, the tables, queues, bus, rules and schedule that `template.yaml` declares.

Every resource comes from the template: the local stack never lists resources by hand. Resource types the local
stack does not emulate (IAM roles, log groups, alarms, the HTTP API itself, layers) are resolved to local names so
references to them work, but nothing is created for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_stack.template import Resolver, Template

ACCOUNT_ID = "123456789012"

#: The resource types the local stack creates in the moto server.
CREATED_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
)


@dataclass
class Provisioned:
    """What was created, by logical id."""

    names: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


class Provisioner:
    def __init__(
        self,
        template: Template,
        *,
        endpoint_url: str,
        region: str,
        prefix: str,
        parameters: dict[str, Any],
    ) -> None:
        self.template = template
        self.endpoint_url = endpoint_url
        self.region = region
        self.prefix = prefix
        self.parameters = {
            **template.parameter_defaults(),
            **parameters,
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": prefix,
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.out = Provisioned()
        self.resolver = Resolver(
            self.parameters, _RefView(self), self._attribute, template.document.get("Conditions", {})
        )

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=self.region)

    # ------------------------------------------------------------------ names
    def physical_name(self, logical_id: str) -> str:
        if logical_id in self.out.names:
            return self.out.names[logical_id]
        resource = self.template.resources[logical_id]
        declared = resource.get("Properties", {}).get("Name")
        if resource["Type"] == "AWS::Events::EventBus" and declared:
            name = str(self.resolver.resolve(declared))
        else:
            name = f"{self.prefix}-{logical_id}"
        self.out.names[logical_id] = name
        return name

    def arn(self, logical_id: str) -> str:
        resource_type = self.template.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        r, a = self.region, ACCOUNT_ID
        match resource_type:
            case "AWS::DynamoDB::Table":
                return f"arn:aws:dynamodb:{r}:{a}:table/{name}"
            case "AWS::SQS::Queue":
                return f"arn:aws:sqs:{r}:{a}:{name}"
            case "AWS::Events::EventBus":
                return f"arn:aws:events:{r}:{a}:event-bus/{name}"
            case "AWS::Events::Rule":
                bus = self.resolver.resolve(self.template.resources[logical_id]["Properties"].get("EventBusName"))
                path = name if bus in (None, "default") else f"{bus}/{name}"
                return f"arn:aws:events:{r}:{a}:rule/{path}"
            case "AWS::Serverless::Function":
                return f"arn:aws:lambda:{r}:{a}:function:{name}"
            case "AWS::IAM::Role":
                return f"arn:aws:iam::{a}:role/{name}"
            case "AWS::Logs::LogGroup":
                return f"arn:aws:logs:{r}:{a}:log-group:{name}"
            case "AWS::Scheduler::Schedule":
                return f"arn:aws:scheduler:{r}:{a}:schedule/default/{name}"
            case _:
                return f"arn:aws:local:{r}:{a}:{name}"

    def ref_value(self, logical_id: str) -> str:
        resource_type = self.template.resources[logical_id]["Type"]
        if resource_type == "AWS::SQS::Queue":
            return self.out.queue_urls[logical_id]
        if resource_type == "AWS::Serverless::LayerVersion":
            return self.arn(logical_id)
        return self.physical_name(logical_id)

    def _attribute(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("QueueName", "Name"):
            return self.physical_name(logical_id)
        if attribute == "QueueUrl":
            return self.out.queue_urls[logical_id]
        raise KeyError(f"GetAtt {logical_id}.{attribute} is not known to the local stack")

    # ------------------------------------------------------------------ create
    def provision(self) -> Provisioned:
        t = self.template
        for logical_id, res in t.of_type("AWS::DynamoDB::Table").items():
            self._table(logical_id, self.resolver.resolve(res["Properties"]))
        queues = t.of_type("AWS::SQS::Queue")
        for logical_id in queues:  # create first, so redrive targets exist whatever the order
            url = self.client("sqs").create_queue(QueueName=self.physical_name(logical_id))["QueueUrl"]
            self.out.queue_urls[logical_id] = url
        for logical_id, res in queues.items():
            self._queue_attributes(logical_id, self.resolver.resolve(res.get("Properties", {})))
        for logical_id in t.of_type("AWS::Events::EventBus"):
            self.client("events").create_event_bus(Name=self.physical_name(logical_id))
        for logical_id, res in t.of_type("AWS::Events::Rule").items():
            self._rule(logical_id, self.resolver.resolve(res["Properties"]))
        for res in t.of_type("AWS::SQS::QueuePolicy").values():
            props = self.resolver.resolve(res["Properties"])
            for url in props["Queues"]:
                self.client("sqs").set_queue_attributes(
                    QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
                )
        for logical_id, res in t.of_type("AWS::Scheduler::Schedule").items():
            self._schedule(logical_id, self.resolver.resolve(res["Properties"]))
        for logical_id in t.resources:
            self.out.arns[logical_id] = self.arn(logical_id)
        self.out.environment = self.function_environment()
        return self.out

    def function_environment(self) -> dict[str, str]:
        """The environment every function sees; the local stack runs all handlers in one process."""
        merged: dict[str, str] = {}
        for spec in self.template.functions().values():
            for key, value in self.resolver.resolve(spec.environment).items():
                if key in merged and merged[key] != str(value):
                    raise ValueError(f"functions disagree on {key}; the local stack shares one environment")
                merged[key] = str(value)
        return merged

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        ddb = self.client("dynamodb")
        kwargs: dict[str, Any] = {
            "TableName": self.physical_name(logical_id),
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        ddb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=kwargs["TableName"], TimeToLiveSpecification=ttl)

    def _queue_attributes(self, logical_id: str, props: dict[str, Any]) -> None:
        attributes = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        if attributes:
            self.client("sqs").set_queue_attributes(QueueUrl=self.out.queue_urls[logical_id], Attributes=attributes)

    def _rule(self, logical_id: str, props: dict[str, Any]) -> None:
        events = self.client("events")
        bus = props.get("EventBusName", "default")
        name = self.physical_name(logical_id)
        events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
            Description=props.get("Description", ""),
        )
        targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in props.get("Targets", [])]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)

    def _schedule(self, logical_id: str, props: dict[str, Any]) -> None:
        target = props["Target"]
        self.client("scheduler").create_schedule(
            Name=self.physical_name(logical_id),
            ScheduleExpression=props["ScheduleExpression"],
            ScheduleExpressionTimezone=props.get("ScheduleExpressionTimezone", "UTC"),
            FlexibleTimeWindow=props["FlexibleTimeWindow"],
            State=props.get("State", "ENABLED"),
            Target={k: target[k] for k in ("Arn", "RoleArn", "Input", "RetryPolicy") if k in target},
        )


class _RefView(dict):
    """Lets the resolver look up `Ref` of a resource lazily (queue URLs exist only after creation)."""

    def __init__(self, provisioner: Provisioner) -> None:
        super().__init__()
        self.provisioner = provisioner

    def __contains__(self, key: object) -> bool:
        return key in self.provisioner.template.resources

    def __getitem__(self, key: str) -> str:
        return self.provisioner.ref_value(key)
