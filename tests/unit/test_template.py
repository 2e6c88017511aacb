"""Couplings inside template.yaml that no linter sees."""

from __future__ import annotations

from pathlib import Path

from local_stack.template import Template
from smartaccounts_sync.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_every_queue_hides_a_message_for_at_least_six_times_its_consumers_timeout() -> None:
    template = Template()
    functions = template.functions()
    for source in template.queue_sources():
        visibility = template.resources[source.queue]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * functions[source.function].timeout, source.queue


def test_the_worker_knows_the_import_queues_redrive_count() -> None:
    template = Template()
    redrive = template.resources["ImportQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    env = template.resources["ImportWorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert int(env["IMPORT_MAX_RECEIVE_COUNT"]) == redrive == Settings().import_max_receive_count


def _alarmed_queues(template: Template) -> set[str]:
    return {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in template.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/SQS"
        and alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Properties"]["Dimensions"]
    }


def test_every_work_queue_has_a_dead_letter_queue_with_an_alarm() -> None:
    template = Template()
    alarmed = _alarmed_queues(template)
    for source in template.queue_sources():
        dlq = template.resources[source.queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dlq in alarmed, source.queue


def test_the_scheduler_target_and_the_rule_target_dead_letter_to_alarmed_queues_they_may_write() -> None:
    template = Template()
    alarmed = _alarmed_queues(template)
    # every schedule (the import check, the quota-renewed wake-up, the daily refresh) retries, then dead-letters
    for name, resource in template.of_type("AWS::Scheduler::Schedule").items():
        schedule = resource["Properties"]["Target"]
        assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
        schedule_dlq = schedule["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        role_name = schedule["RoleArn"]["Fn::GetAtt"][0]
        statements = [
            st for policy in template.resources[role_name]["Properties"]["Policies"]
            for st in policy["PolicyDocument"]["Statement"]
        ]
        assert any(
            st["Action"] == "sqs:SendMessage" and st["Resource"] == {"Fn::GetAtt": [schedule_dlq, "Arn"]}
            for st in statements
        ), name
        assert schedule_dlq in alarmed, name
    for rule in template.of_type("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            dlq = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
            assert dlq in alarmed and "RetryPolicy" in target
            policies = [
                p["Properties"] for p in template.of_type("AWS::SQS::QueuePolicy").values()
                if p["Properties"]["Queues"] == [{"Ref": dlq}]
            ]
            assert policies and policies[0]["PolicyDocument"]["Statement"][0]["Principal"] == {
                "Service": "events.amazonaws.com"
            }


def test_every_function_has_error_and_throttle_alarms_and_every_alarm_notifies_the_topic_and_has_a_runbook() -> None:
    template = Template()
    alarms = template.of_type("AWS::CloudWatch::Alarm")
    for function in template.functions():
        for metric in ("Errors", "Throttles"):
            alarm = alarms[f"{function}{metric}Alarm"]["Properties"]
            assert alarm["MetricName"] == metric and alarm["Dimensions"][0]["Value"] == {"Ref": function}
    runbook = (REPO / "docs" / "operations.md").read_text(encoding="utf-8").lower()
    topic = [{"Fn::If": ["HasAlarmTopic", {"Ref": "AlarmTopicArn"}, {"Ref": "AlarmTopic"}]}]
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == topic, name
        assert f"docs/operations.md#{name.lower()}" in alarm["Properties"]["AlarmDescription"], name
        assert f"### {name.lower()}" in runbook, name
    assert template.resources["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    assert template.resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
    for queue in ("ImportQueue", "ExportQueue"):
        assert any(
            a["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"
            and a["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
            for a in alarms.values()
        ), queue
    tables = set(template.of_type("AWS::DynamoDB::Table"))
    for kind in ("Read", "Write"):
        watched = {
            m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
            for m in alarms[f"DynamoDb{kind}ThrottleAlarm"]["Properties"]["Metrics"]
            if "MetricStat" in m
        }
        assert watched == tables
