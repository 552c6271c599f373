"""LabelParameterVersion / UnlabelParameterVersion, tags on parameters, service settings.

AWS pages: "Working with parameter labels", API_LabelParameterVersion, API_AddTagsToResource,
API_GetServiceSetting ("/ssm/parameter-store/default-parameter-tier").
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code


def _three_versions(ssm: Any, name: str) -> None:
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    ssm.put_parameter(Name=name, Value="v2", Type="String", Overwrite=True)
    ssm.put_parameter(Name=name, Value="v3", Type="String", Overwrite=True)


def test_labels_select_and_move_between_versions(ssm: Any, root: str) -> None:
    name = f"{root}/cfg"
    _three_versions(ssm, name)
    out = ssm.label_parameter_version(Name=name, Labels=["latest"])
    assert out["ParameterVersion"] == 3 and out["InvalidLabels"] == []
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["prod", "blue"])
    got = ssm.get_parameter(Name=f"{name}:prod")["Parameter"]
    assert (got["Value"], got["Version"], got["Selector"], got["Name"]) == ("v1", 1, ":prod", name)
    # A label names one version at a time: attaching it to version 2 moves it.
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["prod"])
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Value"] == "v2"
    labels = {h["Version"]: h["Labels"] for h in ssm.get_parameter_history(Name=name)["Parameters"]}
    assert labels == {1: ["blue"], 2: ["prod"], 3: ["latest"]}
    many = ssm.get_parameters(Names=[f"{name}:blue", f"{name}:latest", f"{name}:gone"])
    assert sorted(p["Value"] for p in many["Parameters"]) == ["v1", "v3"]
    assert many["InvalidParameters"] == [f"{name}:gone"]


def test_invalid_labels_are_reported_not_attached(ssm: Any, root: str) -> None:
    name = f"{root}/cfg"
    _three_versions(ssm, name)
    bad = ["1abc", "awsy", "SSMx", "has space", "colon:no", "a" * 101]
    with pytest.raises(ClientError) as exc:  # over 100 characters fails the model's length rule
        ssm.label_parameter_version(Name=name, Labels=bad)
    assert error_code(exc) == "ValidationException"
    out = ssm.label_parameter_version(Name=name, Labels=bad[:-1] + ["good_1.x-y"])
    assert sorted(out["InvalidLabels"]) == sorted(bad[:-1])
    assert ssm.get_parameter_history(Name=name)["Parameters"][2]["Labels"] == ["good_1.x-y"]


def test_label_limits_and_missing_targets(ssm: Any, root: str) -> None:
    name = f"{root}/cfg"
    _three_versions(ssm, name)
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=[f"l{i}" for i in range(10)])
    with pytest.raises(ClientError) as exc:
        ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["eleven"])
    assert error_code(exc) == "ParameterVersionLabelLimitExceeded"
    # Re-attaching labels it already has is fine.
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["l0", "l1"])
    with pytest.raises(ClientError) as exc:
        ssm.label_parameter_version(Name=name, ParameterVersion=9, Labels=["x"])
    assert error_code(exc) == "ParameterVersionNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.label_parameter_version(Name=f"{root}/none", Labels=["x"])
    assert error_code(exc) == "ParameterNotFound"


def test_unlabel(ssm: Any, root: str) -> None:
    name = f"{root}/cfg"
    _three_versions(ssm, name)
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["a", "b"])
    out = ssm.unlabel_parameter_version(Name=name, ParameterVersion=2, Labels=["a", "zzz"])
    assert out["RemovedLabels"] == ["a"] and out["InvalidLabels"] == ["zzz"]
    # A label on another version is not removed by naming the wrong version.
    out = ssm.unlabel_parameter_version(Name=name, ParameterVersion=1, Labels=["b"])
    assert out["RemovedLabels"] == [] and out["InvalidLabels"] == ["b"]
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=f"{name}:a")
    assert error_code(exc) == "ParameterNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.unlabel_parameter_version(Name=name, ParameterVersion=5, Labels=["b"])
    assert error_code(exc) == "ParameterVersionNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.unlabel_parameter_version(Name=f"{root}/none", ParameterVersion=1, Labels=["b"])
    assert error_code(exc) == "ParameterNotFound"


def test_tags(ssm: Any, root: str) -> None:
    name = f"{root}/tagged"
    ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "prod"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "prod"), ("team", "a")]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["env", "absent"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == [{"Key": "team", "Value": "a"}]
    # Overwriting the value keeps the tags.
    ssm.put_parameter(Name=name, Value="w", Overwrite=True)
    assert len(ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]) == 1
    with pytest.raises(ClientError) as exc:
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=f"{root}/none", Tags=[{"Key": "k", "Value": "v"}])
    assert error_code(exc) == "InvalidResourceId"
    with pytest.raises(ClientError) as exc:
        ssm.add_tags_to_resource(
            ResourceType="Parameter", ResourceId=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]
        )
    assert error_code(exc) == "TooManyTagsError"
    with pytest.raises(ClientError) as exc:
        ssm.list_tags_for_resource(ResourceType="Document", ResourceId="doc")
    assert error_code(exc) == "NotImplemented"


def test_service_settings_default_tier(ssm: Any, root: str) -> None:
    setting = "/ssm/parameter-store/default-parameter-tier"
    got = ssm.get_service_setting(SettingId=setting)["ServiceSetting"]
    assert (got["SettingValue"], got["Status"]) == ("Standard", "Default")
    try:
        ssm.update_service_setting(SettingId=setting, SettingValue="Advanced")
        got = ssm.get_service_setting(SettingId=got["ARN"])["ServiceSetting"]
        assert (got["SettingId"], got["SettingValue"], got["Status"]) == (setting, "Advanced", "Customized")
        assert ssm.put_parameter(Name=f"{root}/a", Value="v", Type="String")["Tier"] == "Advanced"
        with pytest.raises(ClientError) as exc:
            ssm.update_service_setting(SettingId=setting, SettingValue="Gold")
        assert error_code(exc) == "ValidationException"
    finally:
        reset = ssm.reset_service_setting(SettingId=setting)["ServiceSetting"]
    assert (reset["SettingValue"], reset["Status"]) == ("Standard", "Default")
    assert ssm.put_parameter(Name=f"{root}/b", Value="v", Type="String")["Tier"] == "Standard"
    throughput = ssm.get_service_setting(SettingId="/ssm/parameter-store/high-throughput-enabled")["ServiceSetting"]
    assert throughput["SettingValue"] == "false"
    with pytest.raises(ClientError) as exc:
        ssm.get_service_setting(SettingId="/ssm/parameter-store/nope")
    assert error_code(exc) == "ServiceSettingNotFound"
