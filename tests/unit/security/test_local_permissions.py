"""The local stack's IAM check (local_stack/permissions.py), read from the real template: what each function's
policies, and each tenant role's, allow and deny, and which actions and resources a call asks for."""

from __future__ import annotations

import pytest

from local_stack.permissions import ACCOUNT_ID, Permissions, allows, requested
from local_stack.provision import Provisioner
from local_stack.stack import STACK_PREFIX
from local_stack.template import Template

REGION = "eu-north-1"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{STACK_PREFIX}"
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/uku-smartaccounts-local-tenant"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:uku-smartaccounts/local/c-1/company"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/uku-smartaccounts-local"


@pytest.fixture(scope="module")
def permissions() -> Permissions:
    template = Template()
    provisioner = Provisioner(template, endpoint_url="http://unused.invalid", region=REGION, prefix=STACK_PREFIX,
                              parameters={"Stage": "local"})
    return Permissions(template, provisioner.resolver)


def may(permissions: Permissions, principal: str, action: str, resource: str) -> bool:
    statements = permissions.roles[principal] if principal.startswith("arn:") else permissions.functions[principal]
    return allows(statements, action, resource)


@pytest.mark.parametrize(
    ("principal", "action", "resource", "allowed"),
    [
        # SAM's DynamoDBCrudPolicy and DynamoDBReadPolicy, as `sam build` expands them
        ("ImportWorkerFunction", "dynamodb:UpdateItem", f"{TABLE}-RateLimitTable", True),
        ("ReloadApiFunction", "dynamodb:GetItem", f"{TABLE}-RateLimitTable", True),
        ("ReloadApiFunction", "dynamodb:UpdateItem", f"{TABLE}-RateLimitTable", False),  # read only
        ("ReadApiFunction", "dynamodb:Query", f"{TABLE}-SummaryTasksTable/index/any", True),
        ("ReadApiFunction", "dynamodb:PutItem", f"{TABLE}-SummaryTasksTable", False),
        # EventBridgePutEventsPolicy: the publishers only
        ("ConnectionApiFunction", "events:PutEvents", BUS, True),
        ("ReadApiFunction", "events:PutEvents", BUS, False),
        # the tenant roles: each function its own, with the session tags
        ("ImportWorkerFunction", "sts:AssumeRole", f"{ROLE}-secrets-reader", True),
        ("ImportWorkerFunction", "sts:TagSession", f"{ROLE}-secrets-reader", True),
        ("ImportWorkerFunction", "sts:AssumeRole", f"{ROLE}-secrets-writer", False),
        ("ReloadApiFunction", "sts:AssumeRole", f"{ROLE}-secrets-reader", False),  # the reload reads no secret
        (f"{ROLE}-secrets-reader", "secretsmanager:GetSecretValue", SECRET + "-AbCdEf", True),
        (f"{ROLE}-secrets-reader", "secretsmanager:PutSecretValue", SECRET, False),
        (f"{ROLE}-secrets-writer", "secretsmanager:CreateSecret", SECRET, True),
        (f"{ROLE}-secrets-writer", "secretsmanager:GetSecretValue", SECRET.replace("local", "prod"), False),
        # no function touches a secret with its own role
        ("ImportWorkerFunction", "secretsmanager:GetSecretValue", SECRET, False),
    ],
)
def test_what_the_template_allows_each_function_and_role(permissions, principal, action, resource, allowed) -> None:
    assert may(permissions, principal, action, resource) is allowed


def test_a_call_asks_for_what_iam_authorises_it_by() -> None:
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "t1"}},
            {"Update": {"TableName": "t2"}},
            {"ConditionCheck": {"TableName": "t1"}},
            {"Delete": {"TableName": "t2"}},
        ]
    }
    assert requested("dynamodb", "TransactWriteItems", transaction, REGION) == [
        ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/t1"),
        ("dynamodb:UpdateItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/t2"),
        ("dynamodb:ConditionCheckItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/t1"),
        ("dynamodb:DeleteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/t2"),
    ]
    assert requested("dynamodb", "Query", {"TableName": "t", "IndexName": "due"}, REGION) == [
        ("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/t/index/due")
    ]
    assert requested("sqs", "SendMessageBatch", {"QueueUrl": f"http://127.0.0.1:5000/{ACCOUNT_ID}/q-1"}, REGION) == [
        ("sqs:SendMessageBatch", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:q-1")
    ]
    assert requested("events", "PutEvents", {"Entries": [{"EventBusName": "b"}, {}]}, REGION) == [
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/b"),
        ("events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/default"),
    ]
    assert requested("sts", "AssumeRole", {"RoleArn": "arn:r", "Tags": [{"Key": "companyId"}]}, REGION) == [
        ("sts:AssumeRole", "arn:r"),
        ("sts:TagSession", "arn:r"),
    ]
    assert requested("secretsmanager", "GetSecretValue", {"SecretId": "uku/x"}, REGION) == [
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:uku/x")
    ]
