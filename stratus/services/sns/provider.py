"""Amazon SNS: topics (standard and FIFO), subscriptions, Publish and PublishBatch.

Each operation changes state in one transaction. Publish validates the message, picks
the subscriptions whose filter policy accepts it and writes their deliveries as durable
timers in the same transaction (``delivery.py`` sends them). stratus's own SNS endpoints
(SubscribeURL, UnsubscribeURL, the signing certificate, captured email/SMS) are in
``endpoints.py``.
"""

from __future__ import annotations

import datetime
import json
import secrets
import uuid
from typing import Any

from stratus.aws.api.sns import (
    AddPermissionInput,
    BatchEntryIdsNotDistinctException,
    BatchRequestTooLongException,
    ConfirmSubscriptionInput,
    ConfirmSubscriptionResponse,
    CreateTopicInput,
    CreateTopicResponse,
    DeleteTopicInput,
    EmptyBatchRequestException,
    GetDataProtectionPolicyInput,
    GetDataProtectionPolicyResponse,
    GetSubscriptionAttributesInput,
    GetSubscriptionAttributesResponse,
    GetTopicAttributesInput,
    GetTopicAttributesResponse,
    InvalidBatchEntryIdException,
    ListSubscriptionsByTopicInput,
    ListSubscriptionsByTopicResponse,
    ListSubscriptionsInput,
    ListSubscriptionsResponse,
    ListTagsForResourceRequest,
    ListTagsForResourceResponse,
    ListTopicsInput,
    ListTopicsResponse,
    NotFoundException,
    PublishBatchInput,
    PublishBatchResponse,
    PublishInput,
    PublishResponse,
    PutDataProtectionPolicyInput,
    RemovePermissionInput,
    ResourceNotFoundException,
    SetSubscriptionAttributesInput,
    SetTopicAttributesInput,
    SnsApi,
    SubscribeInput,
    SubscribeResponse,
    TagLimitExceededException,
    TagResourceRequest,
    TagResourceResponse,
    TooManyEntriesInBatchRequestException,
    UnsubscribeInput,
    UntagResourceRequest,
    UntagResourceResponse,
)
from stratus.aws.arns import parse_arn, root_arn
from stratus.aws.context import RequestContext
from stratus.services.events.patterns import PatternError
from stratus.services.sns import model
from stratus.services.sns import store as db
from stratus.services.sns.delivery import Delivery, iso_timestamp, retry_policy
from stratus.services.sns.endpoints import SnsEndpoints
from stratus.services.sns.model import Published, invalid
from stratus.services.sns.signing import SigningKey, load_key, new_key_material
from stratus.services.sns.store import Subscription, Topic
from stratus.store import load_migrations
from stratus.store.base import Tx

_PENDING = "pending confirmation"


def _topic_not_found() -> NotFoundException:
    return NotFoundException("Topic does not exist")


def _subscription_not_found() -> NotFoundException:
    return NotFoundException("Subscription does not exist")


def _page(items: list[str], limit: int) -> tuple[list[str], str | None]:
    """The first ``limit`` items and the token of the next page (the last item shown) if there is one."""
    if len(items) > limit:
        return items[:limit], items[limit - 1]
    return items, None


def _trace_header(ctx: RequestContext, topic: Topic) -> str | None:
    """The X-Ray header carried to subscribers: the caller's, or a new trace when tracing is Active."""
    if ctx.trace_header:
        return ctx.trace_header
    if topic.attributes.get("TracingConfig") == "Active":
        return f"Root=1-{int(datetime.datetime.now(datetime.UTC).timestamp()):08x}-{secrets.token_hex(12)};Sampled=1"
    return None


def _tags(tags: list[Any]) -> dict[str, str]:
    keys = [t["Key"] for t in tags]
    if len(set(keys)) != len(keys):
        raise invalid("Duplicated keys are not allowed.")
    return {t["Key"]: t["Value"] for t in tags}


class SnsProvider(SnsApi):
    async def start(self) -> None:
        await self.store.migrate("sns", load_migrations("stratus.services.sns"))
        self._key = await self._load_signing_key()
        self.delivery = Delivery(self.node, lambda: self._key)
        self.delivery.register()
        SnsEndpoints(self).register(self.node)

    async def _load_signing_key(self) -> SigningKey:
        async with self.store.transaction() as tx:
            found = await db.signing_key(tx)
        if found is None:
            cert_id, key_pem, cert_pem = new_key_material(datetime.datetime.now(datetime.UTC))
            async with self.store.transaction() as tx:
                await db.insert_signing_key(tx, cert_id, key_pem.decode(), cert_pem.decode())
                found = await db.signing_key(tx)  # another node may have made it first
        assert found is not None
        return load_key(found[0], found[1].encode(), found[2].encode())

    @property
    def signing_key(self) -> SigningKey:
        return self._key

    # --- helpers ---------------------------------------------------------------------------

    async def _topic(self, tx: Tx, ctx: RequestContext, arn: str) -> Topic:
        model.check_topic_arn(arn, ctx.region)
        topic = await db.get_topic(tx, arn)
        if topic is None:
            raise _topic_not_found()
        return topic

    async def _subscription(self, tx: Tx, arn: str) -> Subscription:
        model.check_subscription_arn(arn)
        sub = await db.get_subscription(tx, arn)
        if sub is None:
            raise _subscription_not_found()
        return sub

    def _check_filter_policy(self, attributes: dict[str, str], *, subscribing: bool) -> None:
        policy = attributes.get("FilterPolicy")
        if not policy:
            return
        try:
            self.delivery.filters.compile(policy, attributes.get("FilterPolicyScope", "MessageAttributes"))
        except PatternError as error:
            if subscribing:
                raise model.InvalidParameterException(f"Invalid parameter: Attributes Reason: {error.detail}") from None
            raise model.InvalidParameterException(error.message) from None

    # --- topics ----------------------------------------------------------------------------

    async def create_topic(self, ctx: RequestContext, request: CreateTopicInput) -> CreateTopicResponse:
        name = request["Name"]
        given = dict(request.get("Attributes") or {})
        fifo = model.is_true(given.get("FifoTopic"))
        if name.endswith(".fifo") and not fifo:
            raise invalid("Topic Name")
        model.validate_topic_name(name, fifo)
        attributes = {k: model.check_topic_attribute(k, v, fifo=fifo, creating=True) for k, v in given.items()}
        if request.get("DataProtectionPolicy"):
            attributes["DataProtectionPolicy"] = model.check_topic_attribute(
                "DataProtectionPolicy", request["DataProtectionPolicy"], fifo=fifo, creating=True)
        tags = _tags(request.get("Tags") or [])
        if len(tags) > model.MAX_TAGS:
            raise TagLimitExceededException("Could not complete request: tag quota of per resource exceeded")
        arn = model.topic_arn(ctx.region, ctx.account, name)
        async with self.store.transaction() as tx:
            existing = await db.get_topic(tx, arn)
            if existing is None:
                stored = {"Policy": model.default_policy(arn, ctx.account), **attributes}
                if fifo:
                    stored.setdefault("ContentBasedDeduplication", "false")
                topic = Topic(arn, ctx.account, ctx.region, name, fifo, stored, tags, 0)
                if await db.insert_topic(tx, topic, self.clock.now_ms()):
                    return {"TopicArn": arn}
                existing = await db.get_topic(tx, arn)
                assert existing is not None
            # CreateTopic is idempotent when the attributes and tags given match the topic's.
            for key, value in attributes.items():
                if existing.attributes.get(key, "false" if key == "FifoTopic" else "") != value:
                    raise invalid("Attributes Reason: Topic already exists with different attributes")
            if tags and any(existing.tags.get(k) != v for k, v in tags.items()):
                raise invalid("Tags Reason: Topic already exists with different tags")
        return {"TopicArn": arn}

    async def delete_topic(self, ctx: RequestContext, request: DeleteTopicInput) -> None:
        model.check_topic_arn(request["TopicArn"], ctx.region)
        async with self.store.transaction() as tx:
            # Deleting a topic that does not exist succeeds (the call is idempotent).
            await db.delete_topic(tx, request["TopicArn"])

    async def get_topic_attributes(
        self, ctx: RequestContext, request: GetTopicAttributesInput
    ) -> GetTopicAttributesResponse:
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["TopicArn"])
            confirmed, pending = await db.subscription_counts(tx, topic.arn)
        attributes = {
            "TopicArn": topic.arn,
            "Owner": topic.account,
            "DisplayName": "",
            "SubscriptionsConfirmed": str(confirmed),
            "SubscriptionsPending": str(pending),
            "SubscriptionsDeleted": str(topic.subscriptions_deleted),
            "EffectiveDeliveryPolicy": json.dumps(model.default_effective_delivery_policy(), separators=(",", ":")),
            **{k: v for k, v in topic.attributes.items() if k != "DataProtectionPolicy"},
        }
        if topic.attributes.get("DeliveryPolicy"):
            attributes["EffectiveDeliveryPolicy"] = json.dumps(
                model.effective_delivery_policy(json.loads(topic.attributes["DeliveryPolicy"])),
                separators=(",", ":"))
        if topic.fifo:
            attributes["FifoTopic"] = "true"
        return {"Attributes": attributes}

    async def set_topic_attributes(self, ctx: RequestContext, request: SetTopicAttributesInput) -> None:
        name, value = request["AttributeName"], request.get("AttributeValue") or ""
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["TopicArn"])
            value = model.check_topic_attribute(name, value, fifo=topic.fifo, creating=False)
            if value == "" and name != "DisplayName":
                topic.attributes.pop(name, None)
                if name == "Policy":
                    topic.attributes["Policy"] = model.default_policy(topic.arn, topic.account)
            else:
                topic.attributes[name] = value
            await db.update_topic(tx, topic)

    async def list_topics(self, ctx: RequestContext, request: ListTopicsInput) -> ListTopicsResponse:
        async with self.store.transaction() as tx:
            arns = await db.list_topic_arns(tx, ctx.account, ctx.region, request.get("NextToken") or "",
                                            model.PAGE_SIZE + 1)
        shown, token = _page(arns, model.PAGE_SIZE)
        result: ListTopicsResponse = {"Topics": [{"TopicArn": arn} for arn in shown]}
        if token:
            result["NextToken"] = token
        return result

    async def add_permission(self, ctx: RequestContext, request: AddPermissionInput) -> None:
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["TopicArn"])
            policy = topic.attributes.get("Policy") or model.default_policy(topic.arn, topic.account)
            topic.attributes["Policy"] = model.add_permission(
                policy, topic.arn, request["Label"], request["AWSAccountId"], request["ActionName"])
            await db.update_topic(tx, topic)

    async def remove_permission(self, ctx: RequestContext, request: RemovePermissionInput) -> None:
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["TopicArn"])
            policy = topic.attributes.get("Policy") or model.default_policy(topic.arn, topic.account)
            topic.attributes["Policy"] = model.remove_permission(policy, request["Label"])
            await db.update_topic(tx, topic)

    async def get_data_protection_policy(
        self, ctx: RequestContext, request: GetDataProtectionPolicyInput
    ) -> GetDataProtectionPolicyResponse:
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["ResourceArn"])
        return {"DataProtectionPolicy": topic.attributes.get("DataProtectionPolicy", "")}

    async def put_data_protection_policy(self, ctx: RequestContext, request: PutDataProtectionPolicyInput) -> None:
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["ResourceArn"])
            topic.attributes["DataProtectionPolicy"] = model.check_topic_attribute(
                "DataProtectionPolicy", request["DataProtectionPolicy"], fifo=topic.fifo, creating=False)
            await db.update_topic(tx, topic)

    # --- tags ------------------------------------------------------------------------------

    async def _tagged(self, tx: Tx, arn: str) -> Topic:
        topic = await db.get_topic(tx, arn)
        if topic is None:
            raise ResourceNotFoundException("Resource does not exist")
        return topic

    async def tag_resource(self, ctx: RequestContext, request: TagResourceRequest) -> TagResourceResponse:
        async with self.store.transaction() as tx:
            topic = await self._tagged(tx, request["ResourceArn"])
            topic.tags.update(_tags(request["Tags"]))
            if len(topic.tags) > model.MAX_TAGS:
                raise TagLimitExceededException("Could not complete request: tag quota of per resource exceeded")
            await db.update_topic(tx, topic)
        return {}

    async def untag_resource(self, ctx: RequestContext, request: UntagResourceRequest) -> UntagResourceResponse:
        async with self.store.transaction() as tx:
            topic = await self._tagged(tx, request["ResourceArn"])
            for key in request["TagKeys"]:
                topic.tags.pop(key, None)
            await db.update_topic(tx, topic)
        return {}

    async def list_tags_for_resource(
        self, ctx: RequestContext, request: ListTagsForResourceRequest
    ) -> ListTagsForResourceResponse:
        async with self.store.transaction() as tx:
            topic = await self._tagged(tx, request["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in topic.tags.items()]}

    # --- subscriptions ---------------------------------------------------------------------

    async def subscribe(self, ctx: RequestContext, request: SubscribeInput) -> SubscribeResponse:
        protocol = request["Protocol"]
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["TopicArn"])
            endpoint = model.check_endpoint(protocol, request.get("Endpoint"))
            if protocol == "sqs" and endpoint.endswith(".fifo") and not topic.fifo:
                raise invalid("Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
                              "standard SNS topics")
            attributes = {
                k: model.check_subscription_attribute(k, v, protocol, subscribing=True, fifo_topic=topic.fifo,
                                                      endpoint=endpoint)
                for k, v in (request.get("Attributes") or {}).items()}
            self._check_filter_policy(attributes, subscribing=True)
            if protocol == "firehose" and not attributes.get("SubscriptionRoleArn"):
                raise invalid("Attributes Reason: SubscriptionRoleArn is required for firehose subscriptions")
            existing = await db.find_subscription(tx, topic.arn, protocol, endpoint)
            if existing is not None:
                if any(existing.attributes.get(k, "false" if k == "RawMessageDelivery" else "") != v
                       for k, v in attributes.items()):
                    raise invalid("Attributes Reason: Subscription already exists with different attributes")
                shown = existing.arn if existing.confirmed or request.get("ReturnSubscriptionArn") else _PENDING
                return {"SubscriptionArn": shown}
            confirmed = protocol not in model.CONFIRMED_BY_OWNER
            sub = Subscription(
                arn=f"{topic.arn}:{uuid.uuid4()}", topic_arn=topic.arn, account=ctx.account, region=ctx.region,
                protocol=protocol, endpoint=endpoint, attributes=attributes, confirmed=confirmed,
                token=None if confirmed else secrets.token_hex(64),
            )
            await db.insert_subscription(tx, sub, self.clock.now_ms())
            if not confirmed:
                await self.delivery.request_confirmation(tx, sub, ctx.endpoint)
        return {"SubscriptionArn": sub.arn if confirmed or request.get("ReturnSubscriptionArn") else _PENDING}

    async def confirm_subscription(
        self, ctx: RequestContext, request: ConfirmSubscriptionInput
    ) -> ConfirmSubscriptionResponse:
        arn = request["TopicArn"]
        parts = parse_arn(arn, "sns")
        # The SubscribeURL is fetched unsigned, so SNS words a bad topic here as "Topic".
        if parts is None or ":" in parts.resource or parts.region != ctx.region:
            raise invalid("Topic")
        async with self.store.transaction() as tx:
            sub = await db.by_token(tx, arn, request["Token"])
            if sub is None:
                raise invalid("Token")
            if not sub.confirmed:
                # A signed ConfirmSubscription call is authenticated; fetching the SubscribeURL is not.
                authenticated = bool(ctx.access_key) or model.is_true(request.get("AuthenticateOnUnsubscribe"))
                sub.attributes["ConfirmationWasAuthenticated"] = "true" if authenticated else "false"
            sub.confirmed = True
            # The token stays valid: confirming twice answers the same subscription (as SNS does).
            await db.update_subscription(tx, sub)
        return {"SubscriptionArn": sub.arn}

    async def unsubscribe(self, ctx: RequestContext, request: UnsubscribeInput) -> None:
        model.check_subscription_arn(request["SubscriptionArn"])
        async with self.store.transaction() as tx:
            sub = await db.get_subscription(tx, request["SubscriptionArn"])
            # Unsubscribing from a subscription that is gone already succeeds (the call is idempotent).
            if sub is not None:
                await db.delete_subscription(tx, sub)

    async def get_subscription_attributes(
        self, ctx: RequestContext, request: GetSubscriptionAttributesInput
    ) -> GetSubscriptionAttributesResponse:
        async with self.store.transaction() as tx:
            sub = await self._subscription(tx, request["SubscriptionArn"])
            topic = await db.get_topic(tx, sub.topic_arn)
        attributes = {
            "SubscriptionArn": sub.arn,
            "TopicArn": sub.topic_arn,
            "Owner": sub.account,
            "Protocol": sub.protocol,
            "Endpoint": sub.endpoint,
            # Subscriptions SNS confirms itself (sqs, lambda, sms, ...) count as authenticated.
            "ConfirmationWasAuthenticated": "false" if sub.protocol in model.CONFIRMED_BY_OWNER else "true",
            "PendingConfirmation": "false" if sub.confirmed else "true",
            "RawMessageDelivery": "false",
            "SubscriptionPrincipal": ctx.principal_arn or root_arn(sub.account),
            **sub.attributes,
        }
        if sub.attributes.get("FilterPolicy"):
            attributes.setdefault("FilterPolicyScope", "MessageAttributes")
        if sub.protocol in ("http", "https"):
            attributes["EffectiveDeliveryPolicy"] = json.dumps(
                {"healthyRetryPolicy": retry_policy(sub, topic), "throttlePolicy": {"maxReceivesPerSecond": 1}},
                separators=(",", ":"))
        return {"Attributes": attributes}

    async def set_subscription_attributes(self, ctx: RequestContext, request: SetSubscriptionAttributesInput) -> None:
        name, value = request["AttributeName"], request.get("AttributeValue") or ""
        async with self.store.transaction() as tx:
            sub = await self._subscription(tx, request["SubscriptionArn"])
            topic = await db.get_topic(tx, sub.topic_arn)
            value = model.check_subscription_attribute(name, value, sub.protocol, subscribing=False,
                                                       fifo_topic=topic is not None and topic.fifo,
                                                       endpoint=sub.endpoint)
            updated = {**sub.attributes, name: value}
            if name in ("FilterPolicy", "FilterPolicyScope"):
                self._check_filter_policy(updated, subscribing=False)
            if value == "":
                updated.pop(name)
            sub.attributes = updated
            await db.update_subscription(tx, sub)

    def _listed(self, sub: Subscription) -> dict[str, str]:
        return {"SubscriptionArn": sub.arn if sub.confirmed else "PendingConfirmation", "Owner": sub.account,
                "Protocol": sub.protocol, "Endpoint": sub.endpoint, "TopicArn": sub.topic_arn}

    async def list_subscriptions(
        self, ctx: RequestContext, request: ListSubscriptionsInput
    ) -> ListSubscriptionsResponse:
        async with self.store.transaction() as tx:
            subs = await db.list_subscriptions(tx, ctx.account, ctx.region, None, request.get("NextToken") or "",
                                               model.PAGE_SIZE + 1)
        result: ListSubscriptionsResponse = {"Subscriptions": [self._listed(s) for s in subs[: model.PAGE_SIZE]]}
        if len(subs) > model.PAGE_SIZE:
            result["NextToken"] = subs[model.PAGE_SIZE - 1].arn
        return result

    async def list_subscriptions_by_topic(
        self, ctx: RequestContext, request: ListSubscriptionsByTopicInput
    ) -> ListSubscriptionsByTopicResponse:
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["TopicArn"])
            subs = await db.list_subscriptions(tx, ctx.account, ctx.region, topic.arn, request.get("NextToken") or "",
                                               model.PAGE_SIZE + 1)
        result: ListSubscriptionsByTopicResponse = {
            "Subscriptions": [self._listed(s) for s in subs[: model.PAGE_SIZE]]}
        if len(subs) > model.PAGE_SIZE:
            result["NextToken"] = subs[model.PAGE_SIZE - 1].arn
        return result

    # --- publishing ------------------------------------------------------------------------

    def _prepare(
        self, topic: Topic, entry: dict[str, Any], now: int, trace: str | None, *, check_size: bool = True
    ) -> Published:
        """Check one message against the topic (everything but deduplication) and stamp it.

        PublishBatch checks the size of the whole batch instead (``check_size=False``).
        """
        message = entry["Message"]
        if not message:
            raise invalid("Empty message")
        subject = entry.get("Subject")
        if subject is not None:
            model.check_subject(subject)
        structure = model.per_protocol_messages(message) if entry.get("MessageStructure") == "json" else None
        attributes = model.check_message_attributes(entry.get("MessageAttributes") or {})
        limit = int(topic.attributes.get("MaximumMessageSize", model.DEFAULT_MAX_MESSAGE_SIZE))
        if check_size and model.message_size(message, attributes) > limit:
            raise invalid("Message too long")
        group_id, dedup_id = entry.get("MessageGroupId"), entry.get("MessageDeduplicationId")
        if topic.fifo:
            if not group_id:
                raise invalid("The MessageGroupId parameter is required for FIFO topics")
            model.check_fifo_id("MessageGroupId", group_id)
            if dedup_id:
                model.check_fifo_id("MessageDeduplicationId", dedup_id)
            elif model.is_true(topic.attributes.get("ContentBasedDeduplication")):
                dedup_id = model.content_dedup_id(message)
            else:
                raise invalid("The topic should either have ContentBasedDeduplication enabled or "
                              "MessageDeduplicationId provided explicitly")
        else:
            if dedup_id:
                raise invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                              "parameter that is not valid for this topic type")
            # MessageGroupId on a standard topic is accepted (fair queues) and passed on to nothing.
            group_id = None
        return Published(
            message_id=str(uuid.uuid4()), topic_arn=topic.arn, message=message, timestamp=iso_timestamp(now),
            subject=subject, structure=structure, attributes=attributes, group_id=group_id, dedup_id=dedup_id,
            trace=trace,
        )

    async def _accept(
        self, tx: Tx, ctx: RequestContext, topic: Topic, published: Published
    ) -> tuple[str, str | None]:
        """Deduplicate, sequence and enqueue one prepared message; answer (message id, sequence number)."""
        if topic.fifo:
            now = self.clock.now_ms()
            published.sequence = model.sequence_number(await db.next_sequence(tx, topic.arn))
            assert published.dedup_id is not None
            await db.purge_dedup(tx, topic.arn, now)
            earlier = await db.claim_dedup(tx, topic.arn, published.dedup_id, published.message_id,
                                           published.sequence, now)
            if earlier is not None:
                return earlier  # a duplicate within 5 minutes: accepted, not delivered again
        await self.delivery.enqueue(tx, topic, published, ctx.endpoint)
        return published.message_id, published.sequence

    async def publish(self, ctx: RequestContext, request: PublishInput) -> PublishResponse:
        # An empty value is a value given (and then an invalid ARN), not a missing one.
        targets = [k for k in ("TopicArn", "TargetArn", "PhoneNumber") if request.get(k) is not None]
        if not targets:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        if len(targets) > 1:
            raise invalid("Exactly one of TopicArn, TargetArn or PhoneNumber must be given")
        now = self.clock.now_ms()
        if request.get("PhoneNumber") is not None:
            return await self._publish_sms(ctx, request, now)
        arn = request["TopicArn"] if request.get("TopicArn") is not None else request["TargetArn"]
        if ":endpoint/" in arn:
            # stratus has no platform applications, so no endpoint exists to publish to.
            raise invalid("TargetArn Reason: No endpoint found for the target arn specified")
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, arn)
            published = self._prepare(topic, dict(request), now, _trace_header(ctx, topic))
            message_id, sequence = await self._accept(tx, ctx, topic, published)
        result: PublishResponse = {"MessageId": message_id}
        if sequence is not None:
            result["SequenceNumber"] = sequence
        return result

    async def _publish_sms(self, ctx: RequestContext, request: PublishInput, now: int) -> PublishResponse:
        phone = request["PhoneNumber"]
        if not model.is_phone_number(phone):
            raise invalid(f"PhoneNumber Reason: {phone} is not valid to publish to")
        model.check_message_attributes(request.get("MessageAttributes") or {})
        message = request["Message"]
        if not message:
            raise invalid("Empty message")
        if request.get("MessageStructure") == "json":
            structure = model.per_protocol_messages(message)
            message = structure.get("sms", structure["default"])
        async with self.store.transaction() as tx:
            await db.capture(tx, db.Captured(ctx.account, ctx.region, "sms", phone, None, None, "Notification",
                                             request.get("Subject"), message), now)
        return {"MessageId": str(uuid.uuid4())}

    async def publish_batch(self, ctx: RequestContext, request: PublishBatchInput) -> PublishBatchResponse:
        entries = request["PublishBatchRequestEntries"]
        if not entries:
            raise EmptyBatchRequestException("The batch request doesn't contain any entries")
        if len(entries) > model.MAX_BATCH_ENTRIES:
            raise TooManyEntriesInBatchRequestException("The batch request contains more entries than permissible.")
        ids = [e["Id"] for e in entries]
        if len(set(ids)) != len(ids):
            raise BatchEntryIdsNotDistinctException("Two or more batch entries in the request have the same Id.")
        for entry_id in ids:
            if not entry_id or len(entry_id) > 80 or not all(c.isalnum() or c in "-_" for c in entry_id):
                raise InvalidBatchEntryIdException("A batch entry id can only contain alphanumeric characters, "
                                                   "hyphens and underscores. It can be at most 80 letters long.")
        now = self.clock.now_ms()
        successful: list[dict[str, Any]] = []
        async with self.store.transaction() as tx:
            topic = await self._topic(tx, ctx, request["TopicArn"])
            limit = int(topic.attributes.get("MaximumMessageSize", model.DEFAULT_MAX_MESSAGE_SIZE))
            trace = _trace_header(ctx, topic)
            # SNS checks every entry before publishing any: an invalid entry fails the whole request
            # (with Publish's error), it is not reported in Failed.
            prepared = [self._prepare(topic, dict(entry), now, trace, check_size=False) for entry in entries]
            if sum(model.message_size(p.message, p.attributes) for p in prepared) > limit:
                raise BatchRequestTooLongException(
                    "The length of all the messages put together is more than the limit.")
            for entry, published in zip(entries, prepared, strict=True):
                message_id, sequence = await self._accept(tx, ctx, topic, published)
                ok: dict[str, Any] = {"Id": entry["Id"], "MessageId": message_id}
                if sequence is not None:
                    ok["SequenceNumber"] = sequence
                successful.append(ok)
        return {"Successful": successful, "Failed": []}  # type: ignore[typeddict-item]
