"""PutParameter, GetParameter(s), DeleteParameter(s): types, versions, names, tiers, data types.

AWS pages: API_PutParameter, "Requirements and constraints for parameter names",
"Managing parameter tiers", "Native parameter support for Amazon Machine Image IDs".
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code, error_message


def test_put_get_and_overwrite_make_versions(ssm: Any, root: str) -> None:
    name = f"{root}/db/host"
    first = ssm.put_parameter(Name=name, Value="a.example", Type="String", Description="db host")
    assert first == {"Version": 1, "Tier": "Standard", "ResponseMetadata": first["ResponseMetadata"]}
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="b.example", Type="String")
    assert error_code(exc) == "ParameterAlreadyExists"
    # Overwrite without Type keeps the type and the description.
    assert ssm.put_parameter(Name=name, Value="b.example", Overwrite=True)["Version"] == 2
    got = ssm.get_parameter(Name=name)["Parameter"]
    assert got["Value"] == "b.example" and got["Version"] == 2 and got["Type"] == "String"
    assert got["DataType"] == "text"
    account = got["ARN"].split(":")[4]
    assert got["ARN"] == f"arn:aws:ssm:us-east-1:{account}:parameter{name}"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "a.example"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Selector"] == ":1"
    assert ssm.get_parameter(Name=got["ARN"])["Parameter"]["Value"] == "b.example"
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    assert described[0]["Description"] == "db host" and described[0]["Version"] == 2


def test_string_list_and_names_without_a_slash(ssm: Any, unique: Any) -> None:
    name = unique("plain")
    ssm.put_parameter(Name=name, Value="a,b,c", Type="StringList")
    got = ssm.get_parameter(Name=name)["Parameter"]
    assert got["Type"] == "StringList" and got["Value"] == "a,b,c"
    ssm.delete_parameter(Name=name)


def test_missing_parameters_and_versions(ssm: Any, root: str) -> None:
    name = f"{root}/x"
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=name)
    assert error_code(exc) == "ParameterNotFound"
    ssm.put_parameter(Name=name, Value="1", Type="String")
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=f"{name}:7")
    assert error_code(exc) == "ParameterVersionNotFound"
    assert "could not find version 7" in error_message(exc)
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=f"{name}:nolabel")
    assert error_code(exc) == "ParameterNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.delete_parameter(Name=f"{root}/nothing")
    assert error_code(exc) == "ParameterNotFound"


def test_get_parameters_reports_invalid_names(ssm: Any, root: str) -> None:
    ssm.put_parameter(Name=f"{root}/a", Value="A", Type="String")
    ssm.put_parameter(Name=f"{root}/b", Value="B", Type="String")
    ssm.put_parameter(Name=f"{root}/b", Value="B2", Type="String", Overwrite=True)
    out = ssm.get_parameters(Names=[f"{root}/a", f"{root}/b:1", f"{root}/missing", f"{root}/a:9", f"{root}/a"])
    assert sorted((p["Name"], p["Value"]) for p in out["Parameters"]) == [(f"{root}/a", "A"), (f"{root}/b", "B")]
    assert sorted(out["InvalidParameters"]) == sorted([f"{root}/missing", f"{root}/a:9"])
    with pytest.raises(ClientError) as exc:
        ssm.get_parameters(Names=[f"{root}/n{i}" for i in range(11)])
    assert error_code(exc) == "ValidationException"


def test_delete_parameter_and_parameters(ssm: Any, root: str) -> None:
    for n in ("a", "b", "c"):
        ssm.put_parameter(Name=f"{root}/{n}", Value=n, Type="String")
    ssm.delete_parameter(Name=f"{root}/a")
    out = ssm.delete_parameters(Names=[f"{root}/b", f"{root}/c", f"{root}/zz"])
    assert sorted(out["DeletedParameters"]) == [f"{root}/b", f"{root}/c"]
    assert out["InvalidParameters"] == [f"{root}/zz"]
    assert ssm.get_parameters_by_path(Path=root)["Parameters"] == []
    # A deleted name starts again at version 1.
    assert ssm.put_parameter(Name=f"{root}/a", Value="again", Type="String")["Version"] == 1


@pytest.mark.parametrize(
    "name",
    ["/aws/x", "aws-thing", "SSM.thing", "/ssm/a/b", "a/b", "/a//b", "/a b", "/a/b/", "na$me"],
)
def test_names_aws_rejects(ssm: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="v", Type="String")
    assert error_code(exc) == "ValidationException"


def test_hierarchy_depth_and_name_length(ssm: Any, root: str) -> None:
    fifteen = root + "".join(f"/l{i}" for i in range(14))  # root is level 1
    ssm.put_parameter(Name=fifteen, Value="deep", Type="String")
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=fifteen + "/l15", Value="v", Type="String")
    assert error_code(exc) == "HierarchyLevelLimitExceededException"
    # 1011 characters including "arn:aws:ssm:us-east-1:<account>:parameter/" (45 here).
    prefix_len = len("arn:aws:ssm:us-east-1:000000000000:parameter/")
    longest = root + "/" + "n" * (1011 - prefix_len - len(root))
    ssm.put_parameter(Name=longest, Value="v", Type="String")
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=longest + "n", Value="v", Type="String")
    assert error_code(exc) == "ValidationException"


def test_put_parameter_unhappy_paths(ssm: Any, root: str) -> None:
    name = f"{root}/p"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="v")
    assert "type is required" in error_message(exc)
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="", Type="String")
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="v", Type="String", KeyId="alias/x")
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="v", Type="Nope")
    assert error_code(exc) == "ValidationException"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="w", Type="String", Overwrite=True, Tags=[{"Key": "k", "Value": "v"}])
    assert "tags and overwrite can't be used together" in error_message(exc)
    # Bad input changed nothing.
    assert ssm.get_parameter(Name=name)["Parameter"]["Version"] == 1


def test_allowed_pattern(ssm: Any, root: str) -> None:
    name = f"{root}/port"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="80a", Type="String", AllowedPattern=r"^\d+$")
    assert error_code(exc) == "ParameterPatternMismatchException"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="80", Type="String", AllowedPattern="([")
    assert error_code(exc) == "InvalidAllowedPatternException"
    ssm.put_parameter(Name=name, Value="80", Type="String", AllowedPattern=r"^\d+$")
    # The pattern stays with the parameter for later versions.
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="eighty", Overwrite=True)
    assert error_code(exc) == "ParameterPatternMismatchException"


def test_tiers_and_value_sizes(ssm: Any, root: str) -> None:
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=f"{root}/big", Value="x" * 4097, Type="String")
    assert error_code(exc) == "ValidationException" and "4096" in error_message(exc)
    ssm.put_parameter(Name=f"{root}/max", Value="x" * 4096, Type="String")
    assert ssm.put_parameter(Name=f"{root}/adv", Value="x" * 8192, Type="String", Tier="Advanced")["Tier"] == "Advanced"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=f"{root}/huge", Value="x" * 8193, Type="String", Tier="Advanced")
    assert error_code(exc) == "ParameterLimitExceeded"
    smart = ssm.put_parameter(Name=f"{root}/smart", Value="small", Type="String", Tier="Intelligent-Tiering")
    assert smart["Tier"] == "Standard"
    bigger = ssm.put_parameter(Name=f"{root}/smart", Value="y" * 5000, Overwrite=True, Tier="Intelligent-Tiering")
    assert bigger["Tier"] == "Advanced"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=f"{root}/smart", Value="z", Overwrite=True, Tier="Standard")
    assert "can't downgrade" in error_message(exc)
    # Without a Tier an Advanced parameter stays Advanced.
    assert ssm.put_parameter(Name=f"{root}/smart", Value="z", Overwrite=True)["Tier"] == "Advanced"
    tiers = {
        p["Name"]: p["Tier"]
        for p in ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Values": [root]}])["Parameters"]
    }
    assert tiers == {f"{root}/max": "Standard", f"{root}/adv": "Advanced", f"{root}/smart": "Advanced"}


def test_data_types(ssm: Any, root: str) -> None:
    ssm.put_parameter(Name=f"{root}/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    assert ssm.get_parameter(Name=f"{root}/ami")["Parameter"]["DataType"] == "aws:ec2:image"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=f"{root}/ami2", Value="not-an-ami", Type="String", DataType="aws:ec2:image")
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=f"{root}/t", Value="v", Type="String", DataType="Text")
    assert "data type is not supported" in error_message(exc)


def test_version_limit_drops_the_oldest_unless_labelled(ssm: Any, root: str) -> None:
    name = f"{root}/many"
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    for i in range(2, 101):
        ssm.put_parameter(Name=name, Value=f"v{i}", Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["keep"])
    assert ssm.put_parameter(Name=name, Value="v101", Overwrite=True)["Version"] == 101
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=f"{name}:1")
    assert error_code(exc) == "ParameterVersionNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="v102", Overwrite=True)
    assert error_code(exc) == "ParameterMaxVersionLimitExceeded"
    assert "Version 2, the oldest version" in error_message(exc)
    ssm.label_parameter_version(Name=name, ParameterVersion=50, Labels=["keep"])
    assert ssm.put_parameter(Name=name, Value="v102", Overwrite=True)["Version"] == 102
