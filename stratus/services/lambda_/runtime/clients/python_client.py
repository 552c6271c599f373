"""stratus's Lambda runtime client for Python: the loop of AWS's Python runtime, standard library only.

It imports the handler (``_HANDLER`` = ``module.function``), then asks the Runtime API
(``AWS_LAMBDA_RUNTIME_API``) for invocations one at a time, calls the handler with the
event and a context object, and posts the JSON result or the error document as AWS's
Python runtime builds it. Runs on every Python the Lambda runtimes cover (3.9 and newer):
no syntax or library newer than 3.9 here.

Logging follows the function's LoggingConfig, which Lambda passes as ``AWS_LAMBDA_LOG_FORMAT``
(``JSON``) and ``AWS_LAMBDA_LOG_LEVEL``: in JSON each ``logging`` record is one JSON object
(``timestamp``, ``level``, ``message``, ``logger``, ``requestId``, the exception's fields and
any ``extra`` keys) and the root logger drops records below the level, as AWS's client does.
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import struct
import sys
import time
import traceback

API_PREFIX = "/2018-06-01/runtime"
_CLIENT_DIR = os.path.dirname(os.path.abspath(__file__))
JSON_LOGS = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
# Record attributes that are the record's own, not ``extra`` fields the function added.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "aws_request_id", "taskName",
}


class Fault(Exception):
    """An error of the runtime itself (AWS's names: Runtime.ImportModuleError, ...)."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class LogSink:
    """Where the runtime writes log records: framed on the telemetry fd when given (so a
    multi-line record stays one log event), else plain lines on stdout."""

    FRAME_TEXT = 0xA55A0003

    def __init__(self):
        fd = os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD", None)
        self.fd = int(fd) if fd else None

    def write(self, text):
        if self.fd is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        data = text.encode("utf-8")
        os.write(self.fd, struct.pack(">IIq", self.FRAME_TEXT, len(data), int(time.time() * 1_000_000)) + data)


class RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.request_id
        return True


class LambdaLoggerHandler(logging.Handler):
    def __init__(self, sink):
        super().__init__()
        self.sink = sink

    def emit(self, record):
        try:
            self.sink.write(self.format(record))
        except Exception:
            self.handleError(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the fields AWS's Python runtime writes."""

    def format(self, record):
        levelno = min(50, max(0, record.levelno)) // 10 * 10
        document = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + ".%03dZ" % record.msecs,
            "level": logging.getLevelName(levelno),
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
        }
        if record.exc_info:
            document["errorType"] = record.exc_info[0].__name__
            document["errorMessage"] = str(record.exc_info[1])
            document["stackTrace"] = traceback.format_tb(record.exc_info[2])
            document["location"] = "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in document:
                document[key] = value
        return json.dumps({k: v for k, v in document.items() if v is not None}, default=str, ensure_ascii=False) + "\n"


def setup_logging(sink):
    handler = LambdaLoggerHandler(sink)
    if JSON_LOGS:
        handler.setFormatter(JsonFormatter())
    else:
        formatter = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S")
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    # Python has no TRACE level: AWS's client reads it as DEBUG.
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper().replace("TRACE", "DEBUG")
    if level in logging._nameToLevel:  # DEBUG ... CRITICAL, WARN and FATAL included
        root.setLevel(level)


class RuntimeApiClient:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.conn = http.client.HTTPConnection(host, int(port))

    def _call(self, method, path, body=None, headers=None):
        self.conn.request(method, API_PREFIX + path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return response, response.read()

    def next(self):
        response, body = self._call("GET", "/invocation/next")
        if response.status != 200:
            raise RuntimeError("Runtime API /next answered %d: %r" % (response.status, body))
        return response, body

    def post_response(self, request_id, body):
        self._call("POST", "/invocation/%s/response" % request_id, body, {"Content-Type": "application/json"})

    def post_error(self, request_id, document):
        headers = {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": document["errorType"]}
        self._call("POST", "/invocation/%s/error" % request_id, to_json(document).encode(), headers)

    def post_init_error(self, document):
        headers = {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": document["errorType"]}
        self._call("POST", "/init/error", to_json(document).encode(), headers)


def decimal_serializer(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def to_json(value):
    return json.dumps(value, default=decimal_serializer)


def load_handler(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    module_path = module_name.replace("/", ".")
    if module_path.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict", "Cannot use built-in module %s as a handler module" % module_name)
    try:
        module = importlib.import_module(module_path)
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise Fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e), trace)
    try:
        return getattr(module, function_name)
    except AttributeError:
        fault = Fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))

        def missing_handler(event, context):
            raise fault

        return missing_handler


def user_trace(tb):
    """The traceback without this client's own frames, as AWS lists it (format_list strings)."""
    frames = traceback.extract_tb(tb)
    while frames and os.path.dirname(os.path.abspath(frames[0].filename)) == _CLIENT_DIR:
        frames = frames[1:]
    return traceback.format_list(frames)


def error_document(exc, request_id):
    if isinstance(exc, Fault):
        return {"errorMessage": exc.message, "errorType": exc.error_type, "requestId": request_id, "stackTrace": exc.trace}
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": request_id, "stackTrace": user_trace(exc.__traceback__)}


def log_error(sink, document):
    if JSON_LOGS:
        # As AWS's client logs an unhandled error in JSON: the error document with a timestamp and level.
        stamped = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "level": "ERROR"}
        stamped.update(document)
        sink.write(to_json(stamped) + "\n")
        return
    text = "[ERROR] %s: %s" % (document["errorType"], document["errorMessage"])
    if document["stackTrace"]:
        text += "\nTraceback (most recent call last):\n" + "".join(document["stackTrace"])
    sink.write(text.rstrip("\n") + "\n")


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, document):
        self.cognito_identity_id = document.get("cognitoIdentityId")
        self.cognito_identity_pool_id = document.get("cognitoIdentityPoolId")


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, document):
        self.installation_id = document.get("installation_id")
        self.app_title = document.get("app_title")
        self.app_version_name = document.get("app_version_name")
        self.app_version_code = document.get("app_version_code")
        self.app_package_name = document.get("app_package_name")


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, document):
        self.client = Client(document["client"]) if document.get("client") else None
        self.custom = document.get("custom")
        self.env = document.get("env")


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_function_arn, client_context, cognito_identity):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = ClientContext(json.loads(client_context)) if client_context else None
        self.identity = CognitoIdentity(json.loads(cognito_identity) if cognito_identity else {})
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message):
        sys.stdout.write(str(message))
        sys.stdout.flush()

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s,function_version=%s,invoked_function_arn=%s])" % (
            self.aws_request_id, self.function_name, self.function_version, self.invoked_function_arn)


def handle(api, sink, handler, response, body):
    headers = response.headers
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    RequestIdFilter.request_id = request_id
    context = LambdaContext(
        request_id,
        int(headers.get("Lambda-Runtime-Deadline-Ms", "0")),
        headers.get("Lambda-Runtime-Invoked-Function-Arn"),
        headers.get("Lambda-Runtime-Client-Context"),
        headers.get("Lambda-Runtime-Cognito-Identity"),
    )
    try:
        try:
            event = json.loads(body) if body else None
        except ValueError as e:
            raise Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        result = handler(event, context)
        try:
            payload = to_json(result)
        except (TypeError, ValueError) as e:
            raise Fault("Runtime.MarshalError", "Unable to marshal response: %s" % e)
    except Exception as e:
        document = error_document(e, request_id)
        log_error(sink, document)
        api.post_error(request_id, document)
        return
    api.post_response(request_id, payload.encode("utf-8"))


def main():
    # Handler modules come from LAMBDA_TASK_ROOT and the layers (PYTHONPATH), not from this folder.
    if sys.path and os.path.abspath(sys.path[0] or ".") == _CLIENT_DIR:
        del sys.path[0]
    sink = LogSink()
    setup_logging(sink)
    api = RuntimeApiClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as e:
        document = error_document(e, "")
        log_error(sink, document)
        api.post_init_error(document)
        sys.exit(1)
    while True:
        response, body = api.next()
        handle(api, sink, handler, response, body)


if __name__ == "__main__":
    main()
