"""Secrets Manager's pure rules: staging labels, pruning, filters, passwords, ids, policies."""

from __future__ import annotations

import string

import pytest

from stratus.aws.api.secretsmanager import InvalidParameterException
from stratus.services.secretsmanager import model
from stratus.services.secretsmanager.model import AWSCURRENT, AWSPREVIOUS, DAY_MS, Secret, Version


def _version(vid: str, stages: list[str], created_ms: int = 0) -> Version:
    return Version(1, vid, stages, created_ms, None, "string", b"", b"", "k")


def test_make_current_moves_previous():
    a, b, c = _version("a", [AWSPREVIOUS]), _version("b", [AWSCURRENT, "X"]), _version("c", [])
    model.make_current([a, b, c], c)
    assert (a.stages, b.stages, c.stages) == ([], ["X", AWSPREVIOUS], [AWSCURRENT])
    model.make_current([a, b, c], c)  # already current: nothing moves
    assert (a.stages, b.stages, c.stages) == ([], ["X", AWSPREVIOUS], [AWSCURRENT])


def test_prunable_keeps_labelled_and_young_versions():
    now = 10 * DAY_MS
    old = [_version(f"o{i}", [], created_ms=i) for i in range(98)]
    labelled = _version("l", [AWSCURRENT], created_ms=0)
    young = [_version(f"y{i}", [], created_ms=now - 1) for i in range(5)]
    pruned = model.prunable([*old, labelled, *young], now)
    assert [v.version_id for v in pruned] == ["o0", "o1", "o2", "o3"]
    assert model.prunable(old, now) == []


def _secret(**kw) -> Secret:
    return Secret(id=1, account="1", region="r", name=kw.pop("name", "app/DbPassword"), arn="a", created_ms=0, changed_ms=0, **kw)


def test_filters():
    s = _secret(description="Prod database", tags=[{"Key": "env", "Value": "prod"}])
    assert model.matches_filters(s, [{"Key": "name", "Values": ["app/"]}])
    assert not model.matches_filters(s, [{"Key": "name", "Values": ["App/"]}])  # case-sensitive
    assert model.matches_filters(s, [{"Key": "description", "Values": ["prod DATA"]}])
    assert model.matches_filters(s, [{"Key": "name", "Values": ["!other"]}])
    assert not model.matches_filters(s, [{"Key": "tag-value", "Values": ["!pro"]}])
    assert model.matches_filters(s, [{"Key": "all", "Values": ["password"]}])  # words split at case changes
    assert not model.matches_filters(s, [{"Key": "all", "Values": ["secret"]}])
    assert not model.matches_filters(s, [{"Key": "name", "Values": ["app"]}, {"Key": "tag-key", "Values": ["team"]}])


def test_secret_ids():
    arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db/pw-AbCdEf"
    ref = model.parse_secret_id(arn, "000000000000", "us-east-1")
    assert (ref.account, ref.region, ref.name, ref.is_arn) == ("111122223333", "eu-west-1", "db/pw-AbCdEf", True)
    ref = model.parse_secret_id("db/pw", "000000000000", "us-east-1")
    assert (ref.account, ref.region, ref.name, ref.is_arn) == ("000000000000", "us-east-1", "db/pw", False)
    new = model.new_arn("111122223333", "eu-west-1", "db/pw")
    assert new.startswith("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db/pw-") and len(new.rsplit("-", 1)[1]) == 6


def test_recovery_window():
    assert model.check_recovery_window(None, False) == 30
    assert model.check_recovery_window(7, False) == 7
    assert model.check_recovery_window(None, True) is None
    for days, force in ((6, False), (31, False), (7, True)):
        with pytest.raises(InvalidParameterException):
            model.check_recovery_window(days, force)


def test_random_password_classes():
    for _ in range(50):
        p = model.random_password(length=4)
        assert len(p) == 4
        assert {bool(set(p) & set(c)) for c in (string.ascii_lowercase, string.ascii_uppercase, string.digits, model.PUNCTUATION)} == {True}
    assert set(model.random_password(length=100, exclude_punctuation=True, exclude_numbers=True, exclude_characters="abc")) <= set(
        string.ascii_letters
    ) - set("abc")
    with pytest.raises(InvalidParameterException):
        model.random_password(length=3)
    assert len(model.random_password(length=3, require_each_included_type=False)) == 3


def test_policy_checks():
    assert model.policy_errors('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "x"}}') == []
    assert model.policy_errors("[]")
    assert model.policy_errors('{"Statement": [{"Effect": "Allow"}]}')
    assert model.is_public('{"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "x"}}')
    assert not model.is_public('{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "x", "Condition": {"a": {}}}}')
