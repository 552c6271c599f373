"""rest-json (lambda, apigatewayv2) and rest-xml (s3) round trips."""

from datetime import UTC, datetime

import pytest

from stratus.aws.errors import AwsError
from stratus.aws.protocol import HttpRequest, codec_for


def test_lambda_invoke_blob_payload_headers_and_status(roundtrip):
    rt = roundtrip("lambda", "rest-json")
    params = {"FunctionName": "my-fn", "InvocationType": "Event", "LogType": "Tail",
              "ClientContext": "e30=", "Payload": b'{"k": "\xc3\xa9"}', "Qualifier": "$LATEST"}
    assert rt.parse("Invoke", params) == params
    output = {"StatusCode": 202, "FunctionError": "Unhandled", "LogResult": "bG9n",
              "Payload": b'{"ok":true}', "ExecutedVersion": "$LATEST"}
    response = rt.codec.serialize("Invoke", output, rt.ctx)
    assert response.status == 202
    # botocore's parser hands a streaming payload on as the raw body (decoded), not base64.
    assert rt.output("Invoke", output) == {**output, "Payload": '{"ok":true}'}


def test_lambda_create_and_list_functions(roundtrip):
    rt = roundtrip("lambda", "rest-json")
    params = {
        "FunctionName": "f", "Runtime": "python3.12", "Role": "arn:aws:iam::000000000000:role/r",
        "Handler": "app.handler", "Code": {"ZipFile": b"PK\x03\x04zip"},
        "Environment": {"Variables": {"A": "1"}}, "Timeout": 3, "Publish": True, "Layers": [],
    }
    assert rt.parse("CreateFunction", params) == params
    listing = {"MasterRegion": "ALL", "FunctionVersion": "ALL", "Marker": "m/ +", "MaxItems": 5}
    assert rt.parse("ListFunctions", listing) == listing
    out = {"Functions": [{"FunctionName": "f", "LastModified": "2024-01-01T00:00:00.000+0000", "MemorySize": 128}]}
    assert rt.output("ListFunctions", out) == out
    created = rt.codec.serialize("CreateFunction", {"FunctionName": "f"}, rt.ctx)
    assert created.status == 201


def test_rest_json_error(roundtrip):
    rt = roundtrip("lambda", "rest-json")
    parsed = rt.error(AwsError("Function not found: f", code="ResourceNotFoundException", status=404), "GetFunction")
    assert parsed["Error"]["Code"] == "ResourceNotFoundException"
    assert parsed["Error"]["Message"] == "Function not found: f"
    assert parsed["status"] == 404


def test_apigatewayv2_renamed_members_and_iso_timestamps(roundtrip):
    rt = roundtrip("apigatewayv2", "rest-json")
    params = {"Name": "api", "ProtocolType": "HTTP", "CorsConfiguration": {"AllowOrigins": ["*"], "MaxAge": 5},
              "Tags": {"a": "b"}}
    req = rt.request("CreateApi", params)
    assert b'"protocolType"' in req.body
    assert rt.parse("CreateApi", params) == params
    created = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    out = {"ApiId": "abc", "Name": "api", "CreatedDate": created, "ProtocolType": "HTTP", "Tags": {"a": "b"}}
    assert rt.output("GetApi", out) == out
    assert b'"createdDate":"2024-05-06T07:08:09.000Z"' in rt.codec.serialize("GetApi", out, rt.ctx).body
    assert rt.parse("GetApi", {"ApiId": "abc"}) == {"ApiId": "abc"}
    assert rt.parse("GetRoutes", {"ApiId": "abc", "MaxResults": "10"}) == {"ApiId": "abc", "MaxResults": "10"}


@pytest.mark.parametrize("key", ["a/b/c.txt", "dir/ünï cödé +&=?.bin", "x", "trailing/", "%41 percent"])
def test_s3_put_object_greedy_key_headers_metadata_body(roundtrip, key):
    rt = roundtrip("s3", "rest-xml")
    params = {
        "Bucket": "bucket", "Key": key, "Body": b"\x00data\xff",
        "ContentType": "text/plain", "Metadata": {"colour": "blue", "unicode": "x"},
        "Expires": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), "ContentLength": 6,
        "Tagging": "a=b&c=d", "ObjectLockMode": "GOVERNANCE",
        "ObjectLockRetainUntilDate": datetime(2031, 1, 1, 0, 0, 0, tzinfo=UTC),
    }
    req = rt.request("PutObject", params)
    parsed = rt.codec.parse("PutObject", req)
    # botocore adds an MD5/checksum of the body; the rest must be exactly what was sent.
    parsed = {k: v for k, v in parsed.items() if not k.startswith(("ContentMD5", "Checksum"))}
    assert parsed == params
    assert rt.codec.operation_from_request(req) == "PutObject"


def test_s3_put_object_output_headers(roundtrip):
    rt = roundtrip("s3", "rest-xml")
    out = {"ETag": '"abc"', "VersionId": "v1", "ServerSideEncryption": "AES256", "BucketKeyEnabled": True}
    assert rt.output("PutObject", out) == out
    get = {"Body": b"bytes", "ContentLength": 5, "Metadata": {"colour": "blue"},
           "LastModified": datetime(2024, 1, 1, 12, 0, tzinfo=UTC), "ContentType": "text/plain"}
    assert rt.output("GetObject", get) == {**get, "Body": "bytes"}


def test_s3_operation_matching_with_query_literals_and_required_members(roundtrip):
    rt = roundtrip("s3", "rest-xml")
    cases = {
        "ListObjectsV2": {"Bucket": "b", "Prefix": "p/", "MaxKeys": 10},
        "ListObjects": {"Bucket": "b"},
        "CreateMultipartUpload": {"Bucket": "b", "Key": "k/x"},
        "UploadPart": {"Bucket": "b", "Key": "k/x", "UploadId": "u", "PartNumber": 2, "Body": b"p", "ContentLength": 1},
        "CopyObject": {"Bucket": "b", "Key": "k", "CopySource": "src/key"},
        "GetObject": {"Bucket": "b", "Key": "k", "Range": "bytes=0-1"},
        "GetObjectAcl": {"Bucket": "b", "Key": "k"},
        "DeleteObjects": {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b/c"}], "Quiet": True}},
        "HeadBucket": {"Bucket": "b"},
        "ListBuckets": {},
    }
    for operation, params in cases.items():
        req = rt.request(operation, params)
        assert rt.codec.operation_from_request(req) == operation, operation
        parsed = rt.codec.parse(operation, req)
        assert {k: v for k, v in parsed.items() if not k.startswith(("ContentMD5", "Checksum"))} == params


def test_s3_complete_multipart_upload_xml_body(roundtrip):
    rt = roundtrip("s3", "rest-xml")
    params = {
        "Bucket": "b", "Key": "big/file", "UploadId": "u-1",
        "MultipartUpload": {"Parts": [{"ETag": '"e1"', "PartNumber": 1}, {"ETag": '"e2"', "PartNumber": 2}]},
    }
    assert rt.parse("CompleteMultipartUpload", params) == params
    out = {"Location": "http://b/big/file", "Bucket": "b", "Key": "big/file", "ETag": '"e-2"', "VersionId": "v"}
    assert rt.output("CompleteMultipartUpload", out) == out


def test_s3_list_objects_v2_output(roundtrip):
    rt = roundtrip("s3", "rest-xml")
    modified = datetime(2024, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    out = {
        "IsTruncated": False, "Name": "b", "Prefix": "", "MaxKeys": 1000, "KeyCount": 2,
        "Contents": [
            {"Key": "a & b <c>.txt", "LastModified": modified, "ETag": '"x"', "Size": 3, "StorageClass": "STANDARD"},
            {"Key": "ü/ñ", "LastModified": modified, "ETag": '"y"', "Size": 0, "StorageClass": "STANDARD",
             "Owner": {"ID": "o", "DisplayName": "d"}},
        ],
        "CommonPrefixes": [{"Prefix": "dir/"}],
    }
    assert rt.output("ListObjectsV2", out) == out
    body = rt.codec.serialize("ListObjectsV2", out, rt.ctx).body.decode()
    assert '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' in body


def test_s3_error_is_bare_error_element(roundtrip):
    rt = roundtrip("s3", "rest-xml")
    error = AwsError("The specified key does not exist.", code="NoSuchKey", status=404)
    response = rt.codec.serialize_error(error, rt.ctx, "GetObject")
    assert response.body.decode().split("\n", 1)[1].startswith("<Error><Code>NoSuchKey</Code>")
    parsed = rt.error(error, "GetObject")
    assert parsed["Error"]["Code"] == "NoSuchKey"
    assert parsed["Error"]["Message"] == "The specified key does not exist."
    assert parsed["ResponseMetadata"]["RequestId"]


def test_rest_unknown_route_and_malformed_xml():
    codec = codec_for("s3", "rest-xml")
    with pytest.raises(AwsError) as caught:
        codec.operation_from_request(HttpRequest("PATCH", "/b/k"))
    assert caught.value.status == 404
    req = HttpRequest("POST", "/b/k", "uploadId=u", {}, b"<CompleteMultipartUpload><Part>")
    with pytest.raises(AwsError) as caught:
        codec.parse("CompleteMultipartUpload", req)
    assert caught.value.code == "MalformedXML"
