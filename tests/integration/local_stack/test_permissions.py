"""The local stack denies, as AWS would, an AWS call a handler makes that its function's policies do not allow
(local_stack/permissions.py), over the real moto server: moto itself evaluates no IAM."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from local_stack.net import REGION
from local_stack.permissions import Denial

pytestmark = pytest.mark.integration


def _client(stack, service: str, **credentials: str):
    return boto3.client(service, endpoint_url=stack.moto_url, region_name=REGION, **credentials)


def _taken_back(stack, denial: Denial) -> None:
    """This test's own denial, expected: not one the autouse check should fail the test for."""
    assert stack.permissions.denied[-1] == denial
    stack.permissions.denied.pop()


def test_a_call_the_function_may_not_make_is_denied_and_one_it_may_make_goes_through(stack) -> None:
    bus = stack.provisioned.names["ServiceBus"]
    entry = {"Source": "uku.smartaccounts", "DetailType": "Test", "Detail": json.dumps({}), "EventBusName": bus}
    events = _client(stack, "events")
    # the reads function publishes nothing: AWS would deny it
    with stack.permissions.acting_as("ReadApiFunction"), pytest.raises(ClientError) as denied:
        events.put_events(Entries=[entry])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "events:PutEvents" in denied.value.response["Error"]["Message"]
    _taken_back(stack, Denial("ReadApiFunction", "ReadApiFunction", "events:PutEvents", f"arn:aws:events:{REGION}:"
                              f"123456789012:event-bus/{bus}"))
    # the connection function may
    with stack.permissions.acting_as("ConnectionApiFunction"):
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    # and outside a handler (the local stack's own calls, a test's) nothing is checked
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0


def test_a_tenant_role_s_session_is_checked_against_the_role_not_the_function(stack) -> None:
    role = stack.provisioned.environment["TENANT_SECRETS_READER_ROLE_ARN"]
    with stack.permissions.acting_as("ImportWorkerFunction"):
        session = _client(stack, "sts").assume_role(
            RoleArn=role, RoleSessionName="tenant-test", Tags=[{"Key": "companyId", "Value": "c-1"}]
        )["Credentials"]
        secrets = _client(
            stack,
            "secretsmanager",
            aws_access_key_id=session["AccessKeyId"],
            aws_secret_access_key=session["SecretAccessKey"],
            aws_session_token=session["SessionToken"],
        )
        name = f"{stack.provisioned.environment['SECRET_NAME_PREFIX']}c-1/company"
        # the reader role may read (the secret does not exist: moto says so, not the check)
        with pytest.raises(ClientError) as missing:
            secrets.get_secret_value(SecretId=name)
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
        # and may not write
        with pytest.raises(ClientError) as denied:
            secrets.create_secret(Name=name, SecretString="{}")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    _taken_back(
        stack,
        Denial(
            "ImportWorkerFunction",
            role,
            "secretsmanager:CreateSecret",
            f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}",
        ),
    )
