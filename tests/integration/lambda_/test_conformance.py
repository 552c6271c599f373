"""Response shapes, limits and error wording checked against AWS's documented answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import client_for
from tests.integration.lambda_.conftest import ECHO, ROLE, error_code, python_zip


def _message(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Message"]


def test_configuration_fields_and_list_subset(lam: Any, make_function: Any) -> None:
    name = make_function()
    config = lam.get_function_configuration(FunctionName=name)
    runtime_arn = config["RuntimeVersionConfig"]["RuntimeVersionArn"]
    assert runtime_arn.startswith("arn:aws:lambda:us-east-1::runtime:") and len(runtime_arn.rsplit(":", 1)[1]) == 64
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert config["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert config["PackageType"] == "Zip" and config["TracingConfig"] == {"Mode": "PassThrough"}
    got = lam.get_function(FunctionName=name)
    assert "Tags" not in got  # AWS leaves Tags out for a function without tags
    assert got["Configuration"]["RuntimeVersionConfig"] == config["RuntimeVersionConfig"]
    # ListFunctions: "returns a subset of the FunctionConfiguration fields" (no state, no runtime version).
    listed = next(
        f for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"] if f["FunctionName"] == name
    )
    for key in ("State", "StateReason", "StateReasonCode", "LastUpdateStatus", "RuntimeVersionConfig"):
        assert key not in listed
    assert listed["CodeSha256"] == config["CodeSha256"] and listed["RevisionId"] == config["RevisionId"]


def test_list_functions_pages_hold_at_most_fifty(lam: Any, make_function: Any) -> None:
    make_function(wait=False)
    first = lam.list_functions(MaxItems=10000)
    assert len(first["Functions"]) <= 50
    if "NextMarker" in first:
        assert len(first["Functions"]) == 50


def test_upper_limits_answer_as_aws(endpoint: str, lam: Any, unique: Any) -> None:
    raw = client_for(endpoint, "lambda", parameter_validation=False)
    code = {"ZipFile": python_zip(ECHO)}
    with pytest.raises(raw.exceptions.ClientError) as excinfo:
        raw.create_function(FunctionName=unique("big"), Runtime="python3.12", Role=ROLE, Handler="app.handler", Code=code, Timeout=1200)
    assert error_code(excinfo) == "ValidationException"
    assert _message(excinfo) == (
        "1 validation error detected: Value '1200' at 'timeout' failed to satisfy constraint: "
        "Member must have value less than or equal to 900"
    )
    name = unique("big")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as excinfo:
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code=code, MemorySize=10241)
    assert _message(excinfo) == "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240"
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as excinfo:
        lam.get_function(FunctionName=name)  # nothing was created
    assert _message(excinfo) == f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert excinfo.value.response["Type"] == "User"


def test_oversized_payload_is_413_with_the_modeled_exception(lam: Any, make_function: Any) -> None:
    name = make_function()
    with pytest.raises(lam.exceptions.RequestTooLargeException) as excinfo:
        lam.invoke(FunctionName=name, Payload=json.dumps({"x": "y" * (6 * 1024 * 1024)}))
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert _message(excinfo) == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    with pytest.raises(lam.exceptions.RequestTooLargeException) as excinfo:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"x": "y" * (1024 * 1024)}))
    assert _message(excinfo) == "Request must be smaller than 1048576 bytes for the InvokeFunction operation"


def test_event_invoke_config_always_names_both_destinations(lam: Any, make_function: Any) -> None:
    name = make_function()
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert put["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST"
    queue = "arn:aws:sqs:us-east-1:000000000000:failures"
    updated = lam.update_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue}})
    assert updated["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": queue}}
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["DestinationConfig"] == updated["DestinationConfig"] and got["MaximumRetryAttempts"] == 0
    assert got["LastModified"].year >= 2024
