"""The function API: create, read, update, delete, list, states and waiters, tags, policies."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.request
from typing import Any

import pytest

from tests.conftest import client_for
from tests.integration.lambda_.conftest import ECHO, ROLE, error_code, make_zip, python_zip


def test_create_get_and_states(lam: Any, unique: Any) -> None:
    name = unique("fn")
    code = python_zip(ECHO)
    created = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": code},
        Environment={"Variables": {"MODE": "1"}}, MemorySize=256, Timeout=10, Tags={"team": "x"}, Description="d",
    )
    assert created["State"] == "Pending"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert created["CodeSize"] == len(code)
    assert created["Version"] == "$LATEST"
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert created["LastModified"].endswith("+0000") and len(created["LastModified"]) == 28
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    got = lam.get_function(FunctionName=name)
    config = got["Configuration"]
    assert config["State"] == "Active" and config["LastUpdateStatus"] == "Successful"
    assert config["Environment"] == {"Variables": {"MODE": "1"}}
    assert config["MemorySize"] == 256 and config["Timeout"] == 10 and config["Description"] == "d"
    assert config["EphemeralStorage"] == {"Size": 512} and config["Architectures"] == ["x86_64"]
    assert got["Tags"] == {"team": "x"}
    with urllib.request.urlopen(got["Code"]["Location"]) as resp:
        assert resp.read() == code
    # by partial ARN and full ARN
    assert lam.get_function_configuration(FunctionName=f"000000000000:function:{name}")["FunctionName"] == name
    assert lam.get_function_configuration(FunctionName=config["FunctionArn"])["CodeSha256"] == config["CodeSha256"]


def test_create_errors(lam: Any, make_function: Any, unique: Any, endpoint: str) -> None:
    raw = client_for(endpoint, "lambda", parameter_validation=False)
    name = make_function()
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": python_zip(ECHO)})
    bad = [
        {"Code": {"ZipFile": b"not a zip"}},
        {"Code": {"S3Bucket": "bkt", "S3Key": "k"}},
        {"Code": {"ZipFile": python_zip(ECHO)}, "Environment": {"Variables": {"AWS_REGION": "x"}}},
        {"Code": {"ZipFile": python_zip(ECHO)}, "Environment": {"Variables": {"BIG": "x" * 5000}}},
        {"Code": {"ZipFile": python_zip(ECHO)}, "DeadLetterConfig": {"TargetArn": "arn:aws:s3:::bucket"}},
        {"Code": {"ImageUri": "x"}, "PackageType": "Image"},
    ]
    for extra in bad:
        with pytest.raises(lam.exceptions.InvalidParameterValueException):
            lam.create_function(FunctionName=unique("bad"), Runtime="python3.12", Role=ROLE, Handler="app.handler", **extra)
    for extra in ({"MemorySize": 64}, {"Timeout": 901}, {"Role": "not-a-role"}):
        args = {"Role": ROLE, **extra}
        with pytest.raises(raw.exceptions.ClientError) as excinfo:
            raw.create_function(FunctionName=unique("bad"), Runtime="python3.12", Handler="app.handler", Code={"ZipFile": python_zip(ECHO)}, **args)
        assert error_code(excinfo) in ("ValidationException", "InvalidParameterValueException")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=unique("missing"))


def test_update_code_and_configuration(lam: Any, make_function: Any) -> None:
    name = make_function()
    before = lam.get_function_configuration(FunctionName=name)
    new_code = python_zip(ECHO + "# v2\n")
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_function_code(FunctionName=name, ZipFile=new_code, RevisionId="wrong")
    updated = lam.update_function_code(FunctionName=name, ZipFile=new_code, RevisionId=before["RevisionId"])
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["RevisionId"] != before["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    after = lam.get_function_configuration(FunctionName=name)
    assert after["CodeSha256"] == base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    lam.update_function_configuration(FunctionName=name, MemorySize=512, Environment={"Variables": {"LEVEL": "2"}}, Handler="app.handler")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    config = lam.get_function_configuration(FunctionName=name)
    assert config["MemorySize"] == 512 and config["Environment"]["Variables"] == {"LEVEL": "2"}
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"LAMBDA_TASK_ROOT": "x"}})


def test_delete_and_list(lam: Any, make_function: Any) -> None:
    names = sorted(make_function() for _ in range(3))
    seen: list[str] = []
    kwargs: dict[str, Any] = {"MaxItems": 1}
    while True:
        page = lam.list_functions(**kwargs)
        seen += [f["FunctionName"] for f in page["Functions"]]
        if "NextMarker" not in page:
            break
        kwargs["Marker"] = page["NextMarker"]
    assert all(n in seen for n in names)
    lam.publish_version(FunctionName=names[0])
    # ListFunctions answers at most 50 per page whatever MaxItems says, so the versions are found by paging.
    listed = [f for page in lam.get_paginator("list_functions").paginate(FunctionVersion="ALL") for f in page["Functions"]]
    every = [f["FunctionArn"] for f in listed if f["FunctionName"] == names[0]]
    assert len(every) == 2
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.delete_function(FunctionName=names[0], Qualifier="$LATEST")
    lam.delete_function(FunctionName=names[0], Qualifier="1")
    lam.delete_function(FunctionName=names[0])
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=names[0])
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=names[0])


def test_tags_policies_account(lam: Any, make_function: Any) -> None:
    name = make_function()
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName=name)
    answer = lam.add_permission(
        FunctionName=name, StatementId="s1", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
        SourceArn="arn:aws:sns:us-east-1:000000000000:t",
    )
    statement = json.loads(answer["Statement"])
    assert statement == {
        "Sid": "s1", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "lambda:InvokeFunction",
        "Resource": arn, "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:000000000000:t"}},
    }
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.add_permission(FunctionName=name, StatementId="s1", Action="lambda:InvokeFunction", Principal="123456789012")
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert policy["Version"] == "2012-10-17" and [s["Sid"] for s in policy["Statement"]] == ["s1"]
    lam.remove_permission(FunctionName=name, StatementId="s1")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.remove_permission(FunctionName=name, StatementId="s1")
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountUsage"]["FunctionCount"] >= 1


def test_layers(lam: Any, unique: Any, make_function: Any) -> None:
    layer = unique("layer")
    v1 = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": make_zip({"python/lib.py": "X = 1\n"})}, CompatibleRuntimes=["python3.12"])
    v2 = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": make_zip({"python/lib.py": "X = 2\n"})})
    assert (v1["Version"], v2["Version"]) == (1, 2)
    assert lam.get_layer_version_by_arn(Arn=v1["LayerVersionArn"])["Version"] == 1
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=layer)["LayerVersions"]] == [2, 1]
    found = [x for x in lam.list_layers()["Layers"] if x["LayerName"] == layer]
    assert found[0]["LatestMatchingVersion"]["Version"] == 2
    lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="all", Action="lambda:GetLayerVersion", Principal="*")
    assert json.loads(lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)["Policy"])["Statement"][0]["Principal"] == "*"
    name = make_function(Layers=[v1["LayerVersionArn"]])
    assert lam.get_function_configuration(FunctionName=name)["Layers"][0]["Arn"] == v1["LayerVersionArn"]
    lam.delete_layer_version(LayerName=layer, VersionNumber=2)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName=layer, VersionNumber=2)
    v3 = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": make_zip({"x": "y"})})
    assert v3["Version"] == 3
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        make_function(Layers=[v3["LayerVersionArn"].rsplit(":", 1)[0] + ":99"], wait=False)


def test_a_deleted_layer_version_keeps_serving_the_functions_that_use_it(lam: Any, unique: Any, make_function: Any) -> None:
    layer = unique("layer")
    v1 = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": make_zip({"python/lib.py": "X = 41\n"})})
    code = python_zip("import lib\n\ndef handler(event, context):\n    return {'x': lib.X + 1}\n")
    name = make_function(code, Layers=[v1["LayerVersionArn"]])
    lam.delete_layer_version(LayerName=layer, VersionNumber=1)
    # A new environment (a configuration change discards the warm ones) still gets the layer.
    lam.update_function_configuration(FunctionName=name, Description="after the layer's deletion")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    answer = lam.invoke(FunctionName=name)
    assert "FunctionError" not in answer and json.loads(answer["Payload"].read()) == {"x": 42}
    # To everyone else the version is gone.
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version_by_arn(Arn=v1["LayerVersionArn"])
    assert lam.list_layer_versions(LayerName=layer)["LayerVersions"] == []
    assert not [x for x in lam.list_layers()["Layers"] if x["LayerName"] == layer]
    with pytest.raises(lam.exceptions.ClientError) as excinfo:
        make_function(Layers=[v1["LayerVersionArn"]], wait=False)
    assert error_code(excinfo) == "InvalidParameterValueException"


def test_versions_and_aliases(lam: Any, make_function: Any) -> None:
    name = make_function()
    latest = lam.get_function_configuration(FunctionName=name)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.publish_version(FunctionName=name, CodeSha256="wrong")
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.publish_version(FunctionName=name, RevisionId="wrong")
    v1 = lam.publish_version(FunctionName=name, Description="first")
    assert v1["Version"] == "1" and v1["FunctionArn"].endswith(":1") and v1["Description"] == "first"
    assert lam.publish_version(FunctionName=name)["Version"] == "1"  # nothing changed
    lam.update_function_configuration(FunctionName=name, Timeout=30)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    v2 = lam.publish_version(FunctionName=name)
    assert v2["Version"] == "2" and v2["Timeout"] == 30
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["Timeout"] == latest["Timeout"]
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    assert alias["AliasArn"].endswith(":live") and alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.3}
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.create_alias(FunctionName=name, Name="other", FunctionVersion="9")
    with pytest.raises(lam.exceptions.ClientError):
        lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}})
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RevisionId="wrong")
    updated = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RoutingConfig={"AdditionalVersionWeights": {}})
    assert updated["FunctionVersion"] == "2" and "RoutingConfig" not in updated
    assert lam.get_function_configuration(FunctionName=name, Qualifier="live")["Version"] == "2"
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.delete_function(FunctionName=name, Qualifier="2")
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    lam.delete_alias(FunctionName=name, Name="live")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_alias(FunctionName=name, Name="live")


def test_event_invoke_config_and_concurrency(lam: Any, make_function: Any) -> None:
    name = make_function()
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_event_invoke_config(FunctionName=name)
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    put = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": queue}}
    )
    assert put["MaximumRetryAttempts"] == 1 and put["DestinationConfig"]["OnFailure"]["Destination"] == queue
    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
    assert updated["MaximumRetryAttempts"] == 1 and updated["MaximumEventAgeInSeconds"] == 120
    assert len(lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]) == 1
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": "arn:aws:s3:::b"}})
    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_function_event_invoke_config(FunctionName=name)
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=950)
    lam.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
