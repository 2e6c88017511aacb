"""The Secrets Manager credential store against the moto server over HTTP."""

from __future__ import annotations

import uuid

import pytest

from smartaccounts_sync.adapters.secrets import SecretsManagerCredentialStore, SecretUnavailable
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from tests.support.lost_answers import AnswerLost

pytestmark = pytest.mark.integration


def test_save_new_version_load_and_delete(aws) -> None:
    client = aws("secretsmanager")
    store = SecretsManagerCredentialStore(client)
    name = f"uku-smartaccounts/test/company/{uuid.uuid4().hex[:8]}"

    # Given a saved pair, then a second save of another pair
    store.save(name, ApiCredentials(api_key="key-one", api_secret="secret-one"))
    store.save(name, ApiCredentials(api_key="key-two", api_secret="secret-two"))

    # Then the secret has two versions and the newest is what loads (the cache does not serve the old one)
    versions = client.list_secret_version_ids(SecretId=name)["Versions"]
    assert len(versions) == 2
    loaded = store.load(name)
    assert loaded.api_key == "key-two" and loaded.api_secret.get_secret_value() == "secret-two"

    # When it is deleted, it is scheduled for deletion and no longer loads; deleting again is fine
    store.delete(name)
    assert client.describe_secret(SecretId=name).get("DeletedDate") is not None
    with pytest.raises(SecretUnavailable) as refused:
        store.load(name)
    assert "secret-two" not in str(refused.value)
    store.delete(f"{name}-never-existed")


def test_a_secret_deleted_within_its_recovery_window_can_be_saved_again(aws) -> None:
    # Given a client's pair saved then deleted (unlinked), and the client linked again with its own key
    store = SecretsManagerCredentialStore(aws("secretsmanager"))
    name = f"uku-smartaccounts/test/company/c/client/{uuid.uuid4().hex[:8]}"
    store.save(name, ApiCredentials(api_key="key-one", api_secret="secret-one"))
    store.delete(name)
    store.save(name, ApiCredentials(api_key="key-three", api_secret="secret-three"))
    # Then the secret is live again with the new pair
    assert aws("secretsmanager").describe_secret(SecretId=name).get("DeletedDate") is None
    assert store.load(name).api_key == "key-three"


def test_a_pair_saved_by_another_container_is_used_at_once_not_the_cached_old_one(aws) -> None:
    import datetime as dt

    name = f"uku-smartaccounts/test/company/{uuid.uuid4().hex[:8]}"
    # Given a worker container that has read (and cached) the company's pair
    http_function = SecretsManagerCredentialStore(aws("secretsmanager"))
    worker = SecretsManagerCredentialStore(aws("secretsmanager"))
    http_function.save(name, ApiCredentials(api_key="revoked-key", api_secret="old"))
    assert worker.load(name, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).api_key == "revoked-key"

    # When the HTTP function saves a new pair (its record says when), the worker's next read with that time
    saved_at = dt.datetime.now(dt.UTC)
    http_function.save(name, ApiCredentials(api_key="new-key", api_secret="new"))

    # Then the worker uses the new pair at once, not its cached copy; without a newer save it keeps using the cache
    assert worker.load(name).api_key == "revoked-key"  # no save time given: the cache answers (and costs nothing)
    assert worker.load(name, saved_at).api_key == "new-key"
    assert worker.load(name, saved_at).api_key == "new-key"


def test_a_secret_deleted_already_is_deleted_again_without_an_error(aws) -> None:
    # Given a pair whose deletion is scheduled (an unlink that stopped after it, or a delete whose answer was lost and
    # that botocore sends again)
    client = aws("secretsmanager")
    name = f"uku-smartaccounts/test/company/{uuid.uuid4().hex[:8]}"
    SecretsManagerCredentialStore(client).save(name, ApiCredentials(api_key="key-one", api_secret="secret-one"))
    lossy = AnswerLost(client, "delete_secret")
    # When it is deleted (the retried unlink, the resent request)
    SecretsManagerCredentialStore(lossy).delete(name)
    SecretsManagerCredentialStore(client).delete(name)
    # Then nothing fails (AWS refuses a second deletion: "marked deleted"), and the deletion stays scheduled
    assert lossy.lost == 1
    assert client.describe_secret(SecretId=name).get("DeletedDate") is not None
