"""The DynamoDB rate guard under the adversarial fuzzer (``tests/support/rate_guard_fuzz.py``): containers on one key
with different lease sizes and waits, interleaved at every DynamoDB write and every sleep, cold starts, pauses, the
daily budget near its limit; every rolling window of every run is checked. More seeds: ``python -m
bench.rate_guard_fuzz --seeds 5000`` (none broke the bound on 2026-11-25)."""

from __future__ import annotations

import pytest

from tests.support.fake_dynamodb import FakeDynamoDb
from tests.support.rate_guard_fuzz import Violation, compare_with_moto, run


def test_the_fake_dynamodb_answers_every_write_of_a_fuzz_run_as_moto_does() -> None:
    assert compare_with_moto(range(3, 5)) == []


@pytest.mark.parametrize("ambiguous", [False, True], ids=["answers-arrive", "answers-lost-at-times"])
def test_no_window_ever_holds_more_than_the_limit_and_the_day_counts_every_request(ambiguous: bool) -> None:
    # Given runs of 2-5 containers on one key (shapes 60/61 s burst 5, 12/10 s burst 3, limits of 2 and 3, ...),
    # and, in the second case, DynamoDB writes that are applied and then lose their answer now and then
    db = FakeDynamoDb()
    sent = 0
    for seed in range(30 if not ambiguous else 20):
        db.reset()
        try:
            world = run(seed, db, ambiguous=ambiguous)
        except Violation as error:
            pytest.fail(f"seed {seed}: {error}")
        sent += len(world.uses)
    # Then no run broke the bound (or counted fewer requests for the day than were sent), and requests did go
    assert sent > 10_000
