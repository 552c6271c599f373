"""Scheduled deletion: the recovery window, use while scheduled, RestoreSecret, forced deletion.

DeleteSecret's recovery window is a durable timer on the stratus clock; these tests advance the
clock of their own server (a month on the shared one would age every other test's state).
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import advance, client_for
from tests.helpers import error_code, error_message, gone, wait_for

MARKED = "You can't perform this operation on the secret because it was marked for deletion."


@pytest.mark.parametrize("days", [0, 6, 31])
def test_recovery_window_bounds(sm, make_secret, days):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.delete_secret(SecretId=created["ARN"], RecoveryWindowInDays=days)
    # As AWS answers it (moto issue 6461 quotes the real service).
    assert error_code(exc) == "InvalidParameterException"
    assert error_message(exc) == "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
    assert "DeletedDate" not in sm.describe_secret(SecretId=created["ARN"])


def test_window_and_force_together_are_refused(sm, make_secret):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.delete_secret(SecretId=created["ARN"], RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert error_code(exc) == "InvalidParameterException"


def test_scheduled_secret_refuses_use_until_restored(sm, make_secret, clock_now):
    created = make_secret()
    before = clock_now()
    answer = sm.delete_secret(SecretId=created["ARN"])
    window = answer["DeletionDate"].timestamp() - before
    assert 30 * 86400 - 60 < window < 30 * 86400 + 60  # the default window is 30 days
    described = sm.describe_secret(SecretId=created["ARN"])  # still described
    assert "DeletedDate" in described
    # Its versions still list (InvalidRequestException is not an error of ListSecretVersionIds).
    listed = sm.list_secret_version_ids(SecretId=created["ARN"])["Versions"]
    assert [v["VersionId"] for v in listed] == [created["VersionId"]]

    for call in (
        lambda: sm.get_secret_value(SecretId=created["ARN"]),
        lambda: sm.put_secret_value(SecretId=created["ARN"], SecretString="x"),
        lambda: sm.update_secret(SecretId=created["ARN"], Description="x"),
        lambda: sm.tag_resource(SecretId=created["ARN"], Tags=[{"Key": "k", "Value": "v"}]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "InvalidRequestException"
        assert error_message(exc) == MARKED
    with pytest.raises(ClientError) as exc:
        sm.delete_secret(SecretId=created["ARN"])
    assert error_code(exc) == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name=created["Name"], SecretString="again")
    assert error_code(exc) == "InvalidRequestException"
    assert "scheduled for deletion" in error_message(exc)

    names = lambda **kw: [s["Name"] for s in sm.list_secrets(Filters=[{"Key": "name", "Values": [created["Name"]]}], **kw)["SecretList"]]  # noqa: E731
    assert names() == []
    assert names(IncludePlannedDeletion=True) == [created["Name"]]
    assert sm.batch_get_secret_value(SecretIdList=[created["ARN"]])["Errors"][0]["ErrorCode"] == "InvalidRequestException"

    assert sm.restore_secret(SecretId=created["Name"])["ARN"] == created["ARN"]
    assert "DeletedDate" not in sm.describe_secret(SecretId=created["ARN"])
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "v1"


def test_force_delete_is_immediate(sm, make_secret):
    created = make_secret()
    answer = sm.delete_secret(SecretId=created["ARN"], ForceDeleteWithoutRecovery=True)
    assert answer["Name"] == created["Name"]
    for call in (lambda: sm.describe_secret(SecretId=created["ARN"]), lambda: sm.restore_secret(SecretId=created["ARN"])):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ResourceNotFoundException"
    # The name is free again, with a new ARN.
    again = sm.create_secret(Name=created["Name"], SecretString="new")
    assert again["ARN"] != created["ARN"]


def test_force_delete_of_a_scheduled_secret_deletes_it_now(sm, make_secret):
    created = make_secret()
    sm.delete_secret(SecretId=created["ARN"], RecoveryWindowInDays=7)
    answer = sm.delete_secret(SecretId=created["ARN"], ForceDeleteWithoutRecovery=True)
    assert (answer["ARN"], answer["Name"]) == (created["ARN"], created["Name"])
    with pytest.raises(ClientError) as exc:
        sm.describe_secret(SecretId=created["ARN"])
    assert error_code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        sm.restore_secret(SecretId=created["ARN"])
    assert error_code(exc) == "ResourceNotFoundException"


def test_force_delete_of_a_missing_secret_succeeds(sm, unique):
    # API_DeleteSecret: a forced delete of a nonexistent secret does not answer ResourceNotFoundException.
    name = unique("never")
    answer = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert answer["Name"] == name
    assert answer["ARN"] == f"arn:aws:secretsmanager:us-east-1:000000000000:secret:{name}"
    assert "DeletionDate" in answer
    # Without force it is still not found, and nothing was created.
    with pytest.raises(ClientError) as exc:
        sm.delete_secret(SecretId=name)
    assert error_code(exc) == "ResourceNotFoundException"
    assert error_message(exc) == "Secrets Manager can't find the specified secret."


def test_deletion_happens_when_the_window_ends_even_across_a_restart(server_factory):
    server = server_factory().start()
    sm = client_for(server.endpoint, "secretsmanager")
    doomed = sm.create_secret(Name="doomed", SecretString="x")
    saved = sm.create_secret(Name="saved", SecretString="y")
    sm.delete_secret(SecretId=doomed["ARN"], RecoveryWindowInDays=7)
    sm.delete_secret(SecretId=saved["ARN"], RecoveryWindowInDays=7)
    sm.restore_secret(SecretId=saved["ARN"])

    server.kill()
    server.start()
    sm = client_for(server.endpoint, "secretsmanager")
    advance(server.endpoint, 6 * 86400)
    time.sleep(0.5)
    assert sm.describe_secret(SecretId=doomed["ARN"])["Name"] == "doomed"  # still in its window

    advance(server.endpoint, 86400 + 1)
    assert wait_for(lambda: gone(lambda: sm.describe_secret(SecretId=doomed["ARN"]), "ResourceNotFoundException")), \
        "the secret was not deleted when its recovery window ended"
    assert sm.get_secret_value(SecretId=saved["ARN"])["SecretString"] == "y"
    # After deletion the name can be used again.
    assert sm.create_secret(Name="doomed", SecretString="z")["ARN"] != doomed["ARN"]


def _all_versions(sm, secret_id: str) -> list[str]:
    kwargs = {"SecretId": secret_id, "IncludeDeprecated": True, "MaxResults": 100}
    ids: list[str] = []
    while True:
        page = sm.list_secret_version_ids(**kwargs)
        ids += [v["VersionId"] for v in page["Versions"]]
        if "NextToken" not in page:
            return ids
        kwargs["NextToken"] = page["NextToken"]


def test_deprecated_versions_beyond_100_are_pruned_once_a_day_old(server_factory):
    # PutSecretValue: "Secrets Manager removes outdated versions when there are more than 100,
    # but it does not remove versions created less than 24 hours ago."
    server = server_factory().start()
    sm = client_for(server.endpoint, "secretsmanager")
    first = sm.create_secret(Name="busy", SecretString="0")["VersionId"]
    for i in range(1, 105):
        sm.put_secret_value(SecretId="busy", SecretString=str(i))
    assert len(_all_versions(sm, "busy")) == 105  # all younger than a day: none removed

    advance(server.endpoint, 86400 + 1)
    sm.put_secret_value(SecretId="busy", SecretString="105")
    ids = _all_versions(sm, "busy")
    assert len(ids) == 100
    assert first not in ids  # the oldest went first
    assert sm.get_secret_value(SecretId="busy")["SecretString"] == "105"
    assert sm.get_secret_value(SecretId="busy", VersionStage="AWSPREVIOUS")["SecretString"] == "104"
