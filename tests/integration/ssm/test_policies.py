"""Parameter policies: checks, listing, and Expiration deleting the parameter on the stratus clock.

AWS page: "Assigning parameter policies" (Expiration, ExpirationNotification, NoChangeNotification;
Advanced tier only).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code, wait_for


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _expiration(ms: int) -> dict[str, Any]:
    return {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": _iso(ms)}}


def test_expiration_deletes_the_parameter_when_the_clock_passes_it(
    ssm: Any, root: str, advance_clock: Callable[[float], dict]
) -> None:
    now_ms = advance_clock(0)["now_ms"]
    name = f"{root}/temporary"
    policies = [
        _expiration(now_ms + 3_600_000),
        {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "15", "Unit": "Minutes"}},
    ]
    with pytest.raises(ClientError) as exc:  # Minutes is not a unit AWS knows
        ssm.put_parameter(Name=name, Value="v", Type="String", Tier="Advanced", Policies=json.dumps(policies))
    assert error_code(exc) == "InvalidPolicyAttributeException"
    policies[1]["Attributes"]["Unit"] = "Hours"
    policies.append({"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "2", "Unit": "Days"}})
    # Intelligent-Tiering moves a parameter with policies to Advanced.
    put = ssm.put_parameter(Name=name, Value="v", Type="String", Tier="Intelligent-Tiering", Policies=json.dumps(policies))
    assert put["Tier"] == "Advanced"
    ssm.put_parameter(Name=f"{root}/stays", Value="v", Type="String")
    listed = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"][0]["Policies"]
    assert [p["PolicyType"] for p in listed] == ["Expiration", "ExpirationNotification", "NoChangeNotification"]
    assert all(p["PolicyStatus"] == "Pending" for p in listed)
    assert json.loads(listed[0]["PolicyText"]) == policies[0]
    # An overwrite without Policies keeps them.
    ssm.put_parameter(Name=name, Value="w", Overwrite=True)
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "w"

    advance_clock(3601)
    for _ in range(100):  # the timer fires on the server: wait for it, with no timing assertion
        try:
            ssm.get_parameter(Name=name)
        except ClientError as exc_:
            assert exc_.response["Error"]["Code"] == "ParameterNotFound"
            break
        time.sleep(0.1)
    else:
        pytest.fail("the Expiration policy did not delete the parameter")
    assert ssm.get_parameter(Name=f"{root}/stays")["Parameter"]["Value"] == "v"


def test_replacing_policies_moves_or_removes_the_expiration(
    ssm: Any, root: str, advance_clock: Callable[[float], dict]
) -> None:
    now_ms = advance_clock(0)["now_ms"]
    name = f"{root}/kept"
    ssm.put_parameter(Name=name, Value="v", Type="String", Tier="Advanced", Policies=json.dumps([_expiration(now_ms + 60_000)]))
    ssm.put_parameter(Name=name, Value="v2", Overwrite=True, Policies="[]")
    assert ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"][0]["Policies"] == []
    advance_clock(120)
    marker = f"{root}/expiring"
    ssm.put_parameter(
        Name=marker, Value="v", Type="String", Tier="Advanced",
        Policies=json.dumps([_expiration(advance_clock(0)["now_ms"] + 1000)]),
    )
    advance_clock(2)
    # Once the later timer has fired, the earlier (cancelled) one would have too.
    assert wait_for(lambda: not ssm.get_parameters(Names=[marker])["Parameters"])
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "v2"


@pytest.mark.parametrize(
    ("policies", "code"),
    [
        ('[{"Type": "Retire", "Version": "1.0", "Attributes": {}}]', "InvalidPolicyTypeException"),
        ('[{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "soon"}}]', "InvalidPolicyAttributeException"),
        ('[{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2001-01-01T00:00:00.000Z"}}]', "InvalidPolicyAttributeException"),
        (
            '[{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "1", "Unit": "Days"}},'
            ' {"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "2", "Unit": "Days"}}]',
            "IncompatiblePolicyException",
        ),
        ("not json", "ValidationException"),
    ],
)
def test_invalid_policies(ssm: Any, root: str, policies: str, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=f"{root}/p", Value="v", Type="String", Tier="Advanced", Policies=policies)
    assert error_code(exc) == code
    assert ssm.get_parameters(Names=[f"{root}/p"])["InvalidParameters"] == [f"{root}/p"]


def test_policies_need_the_advanced_tier(ssm: Any, root: str) -> None:
    policy = '[{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "1", "Unit": "Days"}}]'
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=f"{root}/p", Value="v", Type="String", Tier="Standard", Policies=policy)
    assert error_code(exc) == "ValidationException"
