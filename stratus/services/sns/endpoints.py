"""stratus's own SNS endpoints, under ``/_stratus/sns/``.

- ``GET confirm?TopicArn=..&Token=..``: the SubscribeURL of confirmation messages; confirms
  the subscription and answers the ConfirmSubscription XML, as fetching AWS's URL does.
- ``GET unsubscribe?SubscriptionArn=..``: the UnsubscribeURL of notifications.
- ``GET SimpleNotificationService-<id>.pem``: the SigningCertURL's certificate.
- ``GET messages?endpoint=..&protocol=..&topic_arn=..&subscription_arn=..&message_type=..``:
  what email, email-json and SMS endpoints would have received, oldest first, as JSON
  (``{"messages": [...]}``); nothing is sent to real addresses or phones.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from stratus.aws.arns import parse_arn
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.aws.protocol import codec_for
from stratus.aws.protocol.base import HttpRequest, HttpResponse
from stratus.services.sns import store as db

if TYPE_CHECKING:
    from stratus.node import Node
    from stratus.services.sns.provider import SnsProvider

PREFIX = "/_stratus/sns/"
_FILTERS = ("account", "region", "protocol", "endpoint", "topic_arn", "subscription_arn", "message_type")


class SnsEndpoints:
    def __init__(self, provider: SnsProvider) -> None:
        self.provider = provider

    def register(self, node: Node) -> None:
        node.internal_routes[PREFIX] = self.handle

    async def handle(self, request: HttpRequest) -> HttpResponse:
        name = request.path.removeprefix(PREFIX)
        query = {k: v[0] for k, v in parse_qs(request.query_string).items()}
        if request.method != "GET":
            return _json(405, {"error": "only GET is supported here"})
        if name == "confirm":
            return await self._call(request, "ConfirmSubscription", query.get("TopicArn", ""),
                                    {"TopicArn": query.get("TopicArn", ""), "Token": query.get("Token", "")})
        if name == "unsubscribe":
            arn = query.get("SubscriptionArn", "")
            return await self._call(request, "Unsubscribe", arn, {"SubscriptionArn": arn})
        key = self.provider.signing_key
        if name == key.cert_file:
            return HttpResponse(200, [("content-type", "application/x-pem-file")], key.cert_pem)
        if name == "messages":
            filters = {k: v for k, v in query.items() if k in _FILTERS}
            async with self.provider.store.transaction() as tx:
                messages = await db.captured(tx, filters)
            return _json(200, {"messages": messages})
        return _json(404, {"error": f"no stratus endpoint {request.path}"})

    async def _call(self, request: HttpRequest, operation: str, arn: str, params: dict[str, str]) -> HttpResponse:
        """Run the operation in the account and region of ``arn`` and answer as the query protocol does."""
        parts = parse_arn(arn, "sns")
        ctx = RequestContext(request_id=str(uuid.uuid4()), service="sns", operation=operation, protocol="query",
                             host=request.headers.get("host", "localhost:4566"))
        if parts is not None:
            ctx.account, ctx.region = parts.account, parts.region
        codec = codec_for("sns", "query")
        try:
            result = await self.provider.node.dispatcher.call(ctx, "sns", operation, params)
        except AwsError as error:
            return codec.serialize_error(error, ctx, operation)
        return codec.serialize(operation, result, ctx)


def _json(status: int, data: object) -> HttpResponse:
    return HttpResponse(status, [("content-type", "application/json")], json.dumps(data).encode())
