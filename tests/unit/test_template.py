"""Couplings inside template.yaml that no linter sees."""

from __future__ import annotations

from local_stack.template import Template
from smartaccounts_sync.settings import Settings


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


def test_every_work_queue_has_a_dead_letter_queue_with_an_alarm() -> None:
    template = Template()
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in template.of_type("AWS::CloudWatch::Alarm").values()
    }
    for source in template.queue_sources():
        dlq = template.resources[source.queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dlq in alarmed, source.queue
