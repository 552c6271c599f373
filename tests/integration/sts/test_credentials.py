"""Which credentials may assume a role, session tokens, expiry per service, and MFA parameters.

AWS references: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (SerialNumber:
9-256 characters of [\\w+=/:,.@-]; TokenCode: six digits), API_GetSessionToken.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html (temporary
credentials are sent with their session token), the common errors of each service's API reference
(InvalidClientTokenId / UnrecognizedClientException, ExpiredToken / ExpiredTokenException).
Root: AWS answers AccessDenied "Roles may not be assumed by root accounts." to root credentials;
the stand-in keys of a local cloud (test, twelve digits) are not a root sign-in and may assume roles.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.integration.iam.conftest import TRUST, error_of
from tests.integration.sts.conftest import client_with

ROOT_REFUSED = ("AccessDenied", "Roles may not be assumed by root accounts.", 403)
INVALID = "The security token included in the request is invalid."
EXPIRED = "The security token included in the request is expired"
MFA_PAIR = "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."


def _role_arn(iam: Any, unique: Any) -> str:
    return iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


def _user_key(iam: Any, unique: Any) -> dict[str, Any]:
    name = unique("u")
    iam.create_user(UserName=name)
    return iam.create_access_key(UserName=name)["AccessKey"]


def _credentials(iam: Any, sts: Any, unique: Any, **kwargs: Any) -> dict[str, Any]:
    return sts.assume_role(RoleArn=_role_arn(iam, unique), RoleSessionName="creds", **kwargs)["Credentials"]


def _without_token(endpoint: str, service: str, credentials: dict[str, Any], token: str | None = None) -> Any:
    return client_for(endpoint, service, access_key=credentials["AccessKeyId"],
                      secret_key=credentials["SecretAccessKey"], session_token=token)


# --- who may assume a role ---------------------------------------------------------------


def test_stand_in_keys_may_assume_roles(endpoint, iam, account, unique):
    """The keys local-cloud users sign with act as the root without being a root sign-in."""
    role_arn = _role_arn(iam, unique)
    for key in (account, "test", "AKIAIOSFODNN7EXAMPLE"):
        answer = client_for(endpoint, "sts", access_key=key).assume_role(RoleArn=role_arn, RoleSessionName="dev")
        assert answer["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{role_arn.rsplit('/', 1)[1]}/dev")


def test_iam_user_keys_and_their_sessions_may_assume_roles(endpoint, iam, account, unique):
    role_arn = _role_arn(iam, unique)
    key = _user_key(iam, unique)
    as_user = client_for(endpoint, "sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    assumed = as_user.assume_role(RoleArn=role_arn, RoleSessionName="user")["Credentials"]
    assert client_with(endpoint, "sts", assumed).get_caller_identity()["Arn"].endswith("/user")
    # GetSessionToken credentials of an IAM user may call AssumeRole.
    session = client_with(endpoint, "sts", as_user.get_session_token()["Credentials"])
    assert session.assume_role(RoleArn=role_arn, RoleSessionName="mfa-session")["Credentials"]["AccessKeyId"]


def test_root_session_credentials_may_not_assume_roles(endpoint, sts, iam, account, unique):
    role_arn = _role_arn(iam, unique)
    credentials = sts.get_session_token()["Credentials"]
    as_root = client_with(endpoint, "sts", credentials)
    assert as_root.get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:root"
    with pytest.raises(ClientError) as excinfo:
        as_root.assume_role(RoleArn=role_arn, RoleSessionName="root")
    assert error_of(excinfo) == ROOT_REFUSED
    # Refused whatever the role: a missing one is no different.
    with pytest.raises(ClientError) as excinfo:
        as_root.assume_role(RoleArn=f"arn:aws:iam::{account}:role/missing", RoleSessionName="root")
    assert error_of(excinfo) == ROOT_REFUSED


def test_assumed_role_credentials_may_chain(endpoint, sts, iam, unique):
    first = _credentials(iam, sts, unique)
    chained = client_with(endpoint, "sts", first).assume_role(RoleArn=_role_arn(iam, unique), RoleSessionName="hop")
    assert chained["AssumedRoleUser"]["Arn"].endswith("/hop")


# --- session tokens --------------------------------------------------------------------------

# (service, a call that needs nothing, the code and status a bad token gets)
SERVICES = [
    ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
    ("iam", lambda c: c.list_roles(), "InvalidClientTokenId", 403),
    ("sns", lambda c: c.list_topics(), "InvalidClientTokenId", 403),
    ("sqs", lambda c: c.list_queues(), "InvalidClientTokenId", 403),
    ("kms", lambda c: c.list_keys(), "UnrecognizedClientException", 400),
    ("secretsmanager", lambda c: c.list_secrets(), "UnrecognizedClientException", 400),
    ("logs", lambda c: c.describe_log_groups(), "UnrecognizedClientException", 400),
    ("lambda", lambda c: c.list_functions(), "UnrecognizedClientException", 403),
]


@pytest.mark.parametrize(("service", "call", "code", "status"), SERVICES, ids=[s[0] for s in SERVICES])
def test_temporary_credentials_need_their_session_token(endpoint, sts, iam, unique, service, call, code, status):
    credentials = _credentials(iam, sts, unique)
    call(client_with(endpoint, service, credentials))
    for token in (None, "not-the-token", credentials["SessionToken"][:-4] + "AAAA"):
        with pytest.raises(ClientError) as excinfo:
            call(_without_token(endpoint, service, credentials, token))
        assert error_of(excinfo) == (code, INVALID, status)


def test_a_request_with_a_wrong_token_changes_nothing(endpoint, sts, iam, account, unique):
    credentials = _credentials(iam, sts, unique)
    name = unique("q")
    with pytest.raises(ClientError) as excinfo:
        _without_token(endpoint, "sqs", credentials).create_queue(QueueName=name)
    assert error_of(excinfo)[0] == "InvalidClientTokenId"
    assert client_for(endpoint, "sqs", access_key=account).list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []


def test_session_tokens_are_checked_for_get_session_token_credentials(endpoint, iam, unique):
    key = _user_key(iam, unique)
    as_user = client_for(endpoint, "sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    credentials = as_user.get_session_token()["Credentials"]
    with pytest.raises(ClientError) as excinfo:
        _without_token(endpoint, "sts", credentials).get_caller_identity()
    assert error_of(excinfo) == ("InvalidClientTokenId", INVALID, 403)


def test_the_token_of_other_credentials_is_refused(endpoint, sts, iam, unique):
    one, other = _credentials(iam, sts, unique), _credentials(iam, sts, unique)
    with pytest.raises(ClientError) as excinfo:
        _without_token(endpoint, "sts", one, other["SessionToken"]).get_caller_identity()
    assert error_of(excinfo) == ("InvalidClientTokenId", INVALID, 403)


def test_presigned_urls_carry_the_session_token(endpoint, sts, iam, unique):
    credentials = _credentials(iam, sts, unique)
    url = client_with(endpoint, "sts", credentials).generate_presigned_url("get_caller_identity")
    assert "X-Amz-Security-Token=" in url
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert b"assumed-role/" in answer.read()
    unsigned = _without_token(endpoint, "sts", credentials).generate_presigned_url("get_caller_identity")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(unsigned, timeout=10)
    assert excinfo.value.code == 403
    assert b"<Code>InvalidClientTokenId</Code>" in excinfo.value.read()
    # Any token but the key's, non-ASCII included, is invalid (not a server error).
    query = dict(parse_qsl(urlsplit(url).query))
    query["X-Amz-Security-Token"] = "jeton-\u00e9"
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(url.split("?", 1)[0] + "?" + urlencode(query), timeout=10)
    assert excinfo.value.code == 403
    assert b"<Code>InvalidClientTokenId</Code>" in excinfo.value.read()


def test_stand_in_keys_ignore_a_session_token(endpoint, account):
    """A leftover AWS_SESSION_TOKEN next to the dummy keys changes nothing: stratus issued neither."""
    sts = client_for(endpoint, "sts", access_key=account, session_token="left-over")
    assert sts.get_caller_identity()["Account"] == account


# --- expiry ----------------------------------------------------------------------------------


def test_expired_credentials_get_each_services_code(endpoint, sts, iam, unique, advance_clock):
    credentials = _credentials(iam, sts, unique, DurationSeconds=900)
    clients = {s: client_with(endpoint, s, credentials) for s in ("sts", "sns", "kms", "secretsmanager", "lambda")}
    clients["kms"].list_keys()
    advance_clock(901)
    for service, call, code, status in (
        ("sts", lambda c: c.get_caller_identity(), "ExpiredToken", 403),
        ("sns", lambda c: c.list_topics(), "ExpiredToken", 403),
        ("kms", lambda c: c.list_keys(), "ExpiredTokenException", 400),
        ("secretsmanager", lambda c: c.list_secrets(), "ExpiredTokenException", 400),
        ("lambda", lambda c: c.list_functions(), "ExpiredTokenException", 403),
    ):
        with pytest.raises(ClientError) as excinfo:
            call(clients[service])
        assert error_of(excinfo) == (code, EXPIRED, status), service
    # A token that is not the key's is invalid, expired or not.
    with pytest.raises(ClientError) as excinfo:
        _without_token(endpoint, "sts", credentials, "not-the-token").get_caller_identity()
    assert error_of(excinfo) == ("InvalidClientTokenId", INVALID, 403)


# --- MFA parameters --------------------------------------------------------------------------


MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"


@pytest.mark.parametrize("kwargs", [{"SerialNumber": MFA_SERIAL}, {"TokenCode": "123456"}])
def test_mfa_needs_both_serial_number_and_code(endpoint, sts, iam, unique, kwargs):
    role_arn = _role_arn(iam, unique)
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="mfa", **kwargs)
    assert error_of(excinfo) == ("AccessDenied", MFA_PAIR, 403)
    with pytest.raises(ClientError) as excinfo:
        sts.get_session_token(**kwargs)
    assert error_of(excinfo) == ("AccessDenied", MFA_PAIR, 403)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"TokenCode": "12345"}, "Value '12345' at 'tokenCode' failed to satisfy constraint: "
                                 "Member must have length greater than or equal to 6"),
        ({"TokenCode": "1234567"}, "Value '1234567' at 'tokenCode' failed to satisfy constraint: "
                                   "Member must have length less than or equal to 6"),
        ({"TokenCode": "12345a"}, "Value '12345a' at 'tokenCode' failed to satisfy constraint: "
                                  "Member must satisfy regular expression pattern: [\\d]*"),
        ({"SerialNumber": "GAHT1234"}, "Value 'GAHT1234' at 'serialNumber' failed to satisfy constraint: "
                                       "Member must have length greater than or equal to 9"),
        ({"SerialNumber": "GAHT 12345678"}, "Value 'GAHT 12345678' at 'serialNumber' failed to satisfy "
                                            "constraint: Member must satisfy regular expression pattern: "
                                            "[\\w+=/:,.@-]*"),
    ],
)
def test_mfa_parameter_formats(endpoint, sts, iam, account, unique, kwargs, message):
    role_arn = _role_arn(iam, unique)
    request = {"SerialNumber": MFA_SERIAL, "TokenCode": "123456", **kwargs}
    unchecked = client_for(endpoint, "sts", access_key=account, parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        unchecked.assume_role(RoleArn=role_arn, RoleSessionName="mfa", **request)
    assert error_of(excinfo) == ("ValidationError", f"1 validation error detected: {message}", 400)


def test_well_formed_mfa_is_accepted(endpoint, sts, iam, unique):
    """Codes cannot be verified (stratus's IAM has no MFA devices): a well-formed pair is accepted."""
    role_arn = _role_arn(iam, unique)
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName="mfa", SerialNumber="GAHT12345678", TokenCode="123456")
    assert client_with(endpoint, "sts", answer["Credentials"]).get_caller_identity()["Arn"].endswith("/mfa")
    assert sts.get_session_token(SerialNumber=MFA_SERIAL, TokenCode="654321")["Credentials"]["SessionToken"]
