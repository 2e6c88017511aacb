"""`make redrive` against the moto server: dead letters go back to their source queue; rejected ones stay."""

from __future__ import annotations

import json
import uuid

from scripts import redrive


def test_redrive_moves_retried_dead_letters_back_and_keeps_rejected_ones_with_their_reason(aws, capsys) -> None:
    sqs = aws("sqs")
    suffix = uuid.uuid4().hex[:8]
    dlq = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    dlq_arn = redrive.queue_arn(sqs, dlq)
    work = sqs.create_queue(
        QueueName=f"work-{suffix}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})},
    )["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": i}))
    sqs.send_message(
        QueueUrl=dlq,
        MessageBody="not json",
        MessageAttributes={redrive.REASON: {"DataType": "String", "StringValue": "invalid body: not JSON"}},
    )

    assert redrive.main(["--from", dlq, "--list", "--endpoint-url", sqs.meta.endpoint_url]) == 0
    listed = capsys.readouterr().out
    assert "reason=invalid body: not JSON" in listed and listed.count("receives=") == 4

    assert redrive.main(["--from", f"dlq-{suffix}", "--endpoint-url", sqs.meta.endpoint_url]) == 0
    assert "3 message(s) moved" in capsys.readouterr().out
    back = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["n"] for m in back) == [0, 1, 2]
    left = redrive.list_messages(sqs, dlq)
    assert [redrive.reason_of(m) for m in left] == ["invalid body: not JSON"]
