"""GetParametersByPath, DescribeParameters and GetParameterHistory: filters and pagination.

AWS pages: API_GetParametersByPath, API_DescribeParameters, API_ParameterStringFilter,
API_GetParameterHistory.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code


def _seed(ssm: Any, root: str) -> None:
    ssm.put_parameter(Name=f"{root}/app/url", Value="https://a", Type="String", Tags=[{"Key": "team", "Value": "web"}])
    ssm.put_parameter(Name=f"{root}/app/hosts", Value="h1,h2", Type="StringList")
    ssm.put_parameter(Name=f"{root}/app/db/port", Value="5432", Type="String", Tier="Advanced")
    ssm.put_parameter(Name=f"{root}/app/db/user", Value="admin", Type="String", Tags=[{"Key": "team", "Value": "data"}])
    ssm.put_parameter(Name=f"{root}/other", Value="o", Type="String")


def _names(parameters: list[dict[str, Any]]) -> list[str]:
    return sorted(p["Name"] for p in parameters)


def test_get_parameters_by_path_one_level_and_recursive(ssm: Any, root: str) -> None:
    _seed(ssm, root)
    one = ssm.get_parameters_by_path(Path=f"{root}/app")["Parameters"]
    assert _names(one) == [f"{root}/app/hosts", f"{root}/app/url"]
    deep = ssm.get_parameters_by_path(Path=f"{root}/app/", Recursive=True)["Parameters"]
    assert _names(deep) == [f"{root}/app/db/port", f"{root}/app/db/user", f"{root}/app/hosts", f"{root}/app/url"]
    typed = ssm.get_parameters_by_path(
        Path=root, Recursive=True, ParameterFilters=[{"Key": "Type", "Values": ["StringList"]}]
    )["Parameters"]
    assert _names(typed) == [f"{root}/app/hosts"]
    assert ssm.get_parameters_by_path(Path=f"{root}/nothing")["Parameters"] == []


def test_get_parameters_by_path_paginates(ssm: Any, root: str) -> None:
    for i in range(7):
        ssm.put_parameter(Name=f"{root}/p/{i}", Value=str(i), Type="String")
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Path": f"{root}/p", "MaxResults": 3}
    pages = 0
    while True:
        page = ssm.get_parameters_by_path(**kwargs)
        seen += [p["Value"] for p in page["Parameters"]]
        pages += 1
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == [str(i) for i in range(7)] and pages == 3
    paginated = ssm.get_paginator("get_parameters_by_path").paginate(Path=f"{root}/p", PaginationConfig={"PageSize": 2})
    assert sum(len(page["Parameters"]) for page in paginated) == 7


def test_get_parameters_by_path_unhappy(ssm: Any, root: str) -> None:
    for path, code in [
        ("noslash", "ValidationException"),
        ("/a//b", "ValidationException"),
        ("/" + "/".join(f"l{i}" for i in range(16)), "HierarchyLevelLimitExceededException"),
    ]:
        with pytest.raises(ClientError) as exc:
            ssm.get_parameters_by_path(Path=path)
        assert error_code(exc) == code, path
    for key, code in [("Name", "InvalidFilterKey"), ("Tier", "InvalidFilterKey"), ("tag:team", "InvalidFilterKey")]:
        with pytest.raises(ClientError) as exc:
            ssm.get_parameters_by_path(Path=root, ParameterFilters=[{"Key": key, "Values": ["x"]}])
        assert error_code(exc) == code, key
    with pytest.raises(ClientError) as exc:
        ssm.get_parameters_by_path(Path=root, MaxResults=11)
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ssm.get_parameters_by_path(Path=root, ParameterFilters=[{"Key": "Label", "Option": "BeginsWith", "Values": ["x"]}])
    assert error_code(exc) == "InvalidFilterOption"


def test_label_filter_answers_the_labelled_version(ssm: Any, root: str) -> None:
    ssm.put_parameter(Name=f"{root}/svc/endpoint", Value="v1", Type="String")
    ssm.put_parameter(Name=f"{root}/svc/endpoint", Value="v2", Type="String", Overwrite=True)
    ssm.put_parameter(Name=f"{root}/svc/other", Value="o", Type="String")
    ssm.label_parameter_version(Name=f"{root}/svc/endpoint", ParameterVersion=1, Labels=["prod"])
    out = ssm.get_parameters_by_path(Path=f"{root}/svc", ParameterFilters=[{"Key": "Label", "Values": ["prod"]}])
    assert [(p["Name"], p["Value"], p["Version"]) for p in out["Parameters"]] == [(f"{root}/svc/endpoint", "v1", 1)]


def test_describe_parameters_filters(ssm: Any, root: str) -> None:
    _seed(ssm, root)

    def names(**kwargs: Any) -> list[str]:
        return _names(ssm.describe_parameters(MaxResults=50, **kwargs)["Parameters"])

    scope = {"Key": "Path", "Option": "Recursive", "Values": [root]}
    assert names(ParameterFilters=[{"Key": "Name", "Values": [f"{root}/other"]}]) == [f"{root}/other"]
    assert names(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"{root}/app/db"]}]) == [
        f"{root}/app/db/port",
        f"{root}/app/db/user",
    ]
    assert names(ParameterFilters=[{"Key": "Name", "Option": "Contains", "Values": [root[1:] + "/app/h"]}]) == [
        f"{root}/app/hosts"
    ]
    assert names(ParameterFilters=[{"Key": "Path", "Values": [f"{root}/app"]}]) == [f"{root}/app/hosts", f"{root}/app/url"]
    assert len(names(ParameterFilters=[scope])) == 5
    assert names(ParameterFilters=[scope, {"Key": "Type", "Values": ["StringList"]}]) == [f"{root}/app/hosts"]
    assert names(ParameterFilters=[scope, {"Key": "Tier", "Values": ["Advanced"]}]) == [f"{root}/app/db/port"]
    assert len(names(ParameterFilters=[scope, {"Key": "DataType", "Values": ["text"]}])) == 5
    assert names(ParameterFilters=[scope, {"Key": "tag:team", "Values": ["data"]}]) == [f"{root}/app/db/user"]
    assert names(ParameterFilters=[scope, {"Key": "tag:team"}]) == [f"{root}/app/db/user", f"{root}/app/url"]
    assert names(Filters=[{"Key": "Name", "Values": [f"{root}/app/d"]}]) == [f"{root}/app/db/port", f"{root}/app/db/user"]
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [f"{root}/app/url"]}])["Parameters"][0]
    assert meta["Type"] == "String" and meta["Version"] == 1 and meta["Policies"] == []
    assert meta["LastModifiedUser"].startswith("arn:aws:iam::")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"Filters": [{"Key": "Name", "Values": ["x"]}], "ParameterFilters": [{"Key": "Name", "Values": ["x"]}]}, "ValidationException"),
        ({"ParameterFilters": [{"Key": "Label", "Values": ["x"]}]}, "InvalidFilterKey"),
        ({"ParameterFilters": [{"Key": "Name", "Values": ["a"]}, {"Key": "Name", "Values": ["b"]}]}, "InvalidFilterKey"),
        ({"ParameterFilters": [{"Key": "Name", "Option": "Recursive", "Values": ["a"]}]}, "InvalidFilterOption"),
        ({"ParameterFilters": [{"Key": "Path", "Option": "Equals", "Values": ["/a"]}]}, "InvalidFilterOption"),
        ({"ParameterFilters": [{"Key": "Type", "Values": ["Str"]}]}, "InvalidFilterValue"),
        ({"ParameterFilters": [{"Key": "Tier"}]}, "InvalidFilterValue"),
        ({"ParameterFilters": [{"Key": "Path", "Values": ["nope"]}]}, "ValidationException"),
        ({"ParameterFilters": [{"Key": "Path", "Values": ["/aws/x"]}]}, "ValidationException"),
        ({"ParameterFilters": [{"Key": "Bogus", "Values": ["x"]}]}, "ValidationException"),
        ({"MaxResults": 51}, "ValidationException"),
    ],
)
def test_describe_parameters_unhappy(ssm: Any, kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as exc:
        ssm.describe_parameters(**kwargs)
    assert error_code(exc) == code


def test_describe_parameters_paginates(ssm: Any, root: str) -> None:
    for i in range(5):
        ssm.put_parameter(Name=f"{root}/{i}", Value="v", Type="String")
    scope = [{"Key": "Path", "Values": [root]}]
    first = ssm.describe_parameters(ParameterFilters=scope, MaxResults=2)
    assert len(first["Parameters"]) == 2 and "NextToken" in first
    pages = ssm.get_paginator("describe_parameters").paginate(ParameterFilters=scope, PaginationConfig={"PageSize": 2})
    assert [p["Name"] for page in pages for p in page["Parameters"]] == [f"{root}/{i}" for i in range(5)]
    with pytest.raises(ClientError) as exc:
        ssm.describe_parameters(NextToken="!!!not-a-token")
    assert error_code(exc) == "InvalidNextToken"


def test_parameter_history(ssm: Any, root: str) -> None:
    name = f"{root}/h"
    ssm.put_parameter(Name=name, Value="v1", Type="String", Description="first")
    for i in range(2, 6):
        ssm.put_parameter(Name=name, Value=f"v{i}", Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=3, Labels=["three"])
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(i, f"v{i}") for i in range(1, 6)]
    assert history[2]["Labels"] == ["three"] and history[0]["Labels"] == []
    assert history[0]["Description"] == "first" and history[0]["Tier"] == "Standard"
    page = ssm.get_parameter_history(Name=name, MaxResults=2)
    assert [h["Version"] for h in page["Parameters"]] == [1, 2]
    rest = ssm.get_parameter_history(Name=name, MaxResults=2, NextToken=page["NextToken"])
    assert [h["Version"] for h in rest["Parameters"]] == [3, 4]
    pages = ssm.get_paginator("get_parameter_history").paginate(Name=name, PaginationConfig={"PageSize": 2})
    assert [h["Version"] for page in pages for h in page["Parameters"]] == [1, 2, 3, 4, 5]
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter_history(Name=f"{root}/none")
    assert error_code(exc) == "ParameterNotFound"
