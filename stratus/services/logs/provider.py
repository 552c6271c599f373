"""Amazon CloudWatch Logs: log groups and streams, events, filter patterns, retention, filters.

Writes are one short transaction each: PutLogEvents is one indexed read, one batched insert
and one stream update, and CreateLogGroup/CreateLogStream are one ``INSERT ... ON CONFLICT DO
NOTHING`` each, so services that log through the internal client (Lambda) can call them freely.
Retention is enforced twice: reads skip events past the retention period at once, and a durable
timer per group deletes them (hourly on the stratus clock).

Subscription filters deliver to Lambda functions (``subscriptions.py``, ``destinations.py``):
matching events of each PutLogEvents call become one durable delivery, written in its transaction.

Not implemented (answer NotImplemented): Logs Insights (StartQuery/GetQueryResults), exports,
deliveries, destinations, anomaly detection, and subscription filters to Kinesis, Firehose or
logical destinations. Metric filters are stored, described and tested; publishing their metrics
comes with CloudWatch metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.aws.api.logs import (
    CreateLogGroupRequest,
    CreateLogStreamRequest,
    DeleteLogGroupRequest,
    DeleteLogStreamRequest,
    DeleteMetricFilterRequest,
    DeleteRetentionPolicyRequest,
    DeleteSubscriptionFilterRequest,
    DescribeLogGroupsRequest,
    DescribeLogGroupsResponse,
    DescribeLogStreamsRequest,
    DescribeLogStreamsResponse,
    DescribeMetricFiltersRequest,
    DescribeMetricFiltersResponse,
    DescribeSubscriptionFiltersRequest,
    DescribeSubscriptionFiltersResponse,
    FilterLogEventsRequest,
    FilterLogEventsResponse,
    GetLogEventsRequest,
    GetLogEventsResponse,
    InvalidParameterException,
    LimitExceededException,
    ListTagsForResourceRequest,
    ListTagsForResourceResponse,
    ListTagsLogGroupRequest,
    ListTagsLogGroupResponse,
    LogsApi,
    PutLogEventsRequest,
    PutLogEventsResponse,
    PutMetricFilterRequest,
    PutRetentionPolicyRequest,
    PutSubscriptionFilterRequest,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    TagLogGroupRequest,
    TagResourceRequest,
    TestMetricFilterRequest,
    TestMetricFilterResponse,
    TooManyTagsException,
    UntagLogGroupRequest,
    UntagResourceRequest,
    ValidationException,
)
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.engine.timers import Timer
from stratus.services.logs import destinations, model
from stratus.services.logs import store as db
from stratus.services.logs.filter_patterns import FilterPattern, FilterPatternError, compile_pattern
from stratus.services.logs.model import LogGroup
from stratus.services.logs.subscriptions import Subscriptions
from stratus.store import load_migrations
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.node import Node

RETENTION_TIMER = "logs.retention"
RETENTION_SWEEP_MS = model.HOUR_MS
# FilterLogEvents reads events in chunks and stops after this many per call (answering a
# nextToken, as AWS does when a search takes long), so one call's work stays bounded.
FILTER_CHUNK = 1000
FILTER_SCAN_MAX = 200_000
DESCRIBE_LIMIT = 50


def _group_not_found() -> ResourceNotFoundException:
    return ResourceNotFoundException("The specified log group does not exist.")


def _stream_not_found() -> ResourceNotFoundException:
    return ResourceNotFoundException("The specified log stream does not exist.")


def _pattern(text: str) -> FilterPattern:
    try:
        return compile_pattern(text)
    except FilterPatternError:
        raise InvalidParameterException("Invalid filter pattern") from None


def _group_ref(ctx: RequestContext, request: Any) -> tuple[str, str, str]:
    """(account, region, name) from logGroupName or logGroupIdentifier (a name or an ARN)."""
    name, identifier = request.get("logGroupName"), request.get("logGroupIdentifier")
    if name and identifier:
        raise InvalidParameterException("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if name:
        return ctx.account, ctx.region, name
    if not identifier:
        raise InvalidParameterException("Should provide either name or ARN of the log group.")
    if identifier.startswith("arn:"):
        parsed = model.parse_group_arn(identifier)
        if parsed is None:
            raise InvalidParameterException(f"Invalid log group identifier: {identifier}")
        region, account, group = parsed
        return account, region, group
    return ctx.account, ctx.region, identifier


class LogsProvider(LogsApi):
    def __init__(self, node: Node) -> None:
        super().__init__(node)
        self.subscriptions = Subscriptions(node)

    async def start(self) -> None:
        await self.store.migrate("logs", load_migrations("stratus.services.logs"))
        self.timers.on(RETENTION_TIMER, self._on_retention)
        self.subscriptions.register()

    async def _group(self, tx: Tx, account: str, region: str, name: str) -> LogGroup:
        group = await db.get_group(tx, account, region, name)
        if group is None:
            raise _group_not_found()
        return group

    # --- log groups -----------------------------------------------------------------------------

    async def create_log_group(self, ctx: RequestContext, request: CreateLogGroupRequest) -> dict[str, Any]:
        name = request["logGroupName"]
        model.check_group_name(name)
        tags = dict(request.get("tags") or {})
        model.check_tags(tags)
        async with self.store.transaction() as tx:
            created = await db.insert_group(
                tx,
                ctx.account,
                ctx.region,
                name,
                self.clock.now_ms(),
                request.get("kmsKeyId"),
                request.get("logGroupClass") or "STANDARD",
                bool(request.get("deletionProtectionEnabled")),
                tags,
            )
        if created is None:
            raise ResourceAlreadyExistsException("The specified log group already exists")
        return {}

    async def delete_log_group(self, ctx: RequestContext, request: DeleteLogGroupRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            group = await self._group(tx, ctx.account, ctx.region, request["logGroupName"])
            if group.deletion_protection:
                raise ValidationException(
                    "Log group deletion protection is enabled. Disable deletion protection to delete the log group."
                )
            await db.delete_group(tx, group.id)
            await self.timers.cancel(tx, RETENTION_TIMER, str(group.id))
        return {}

    async def describe_log_groups(self, ctx: RequestContext, request: DescribeLogGroupsRequest) -> DescribeLogGroupsResponse:
        prefix, pattern = request.get("logGroupNamePrefix"), request.get("logGroupNamePattern")
        identifiers = request.get("logGroupIdentifiers")
        if prefix and pattern:
            raise InvalidParameterException("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        if identifiers and (prefix or pattern):
            raise InvalidParameterException("logGroupIdentifiers is mutually exclusive with logGroupNamePrefix and logGroupNamePattern.")
        wanted_names = None
        if identifiers:
            wanted_names = {(model.parse_group_arn(i) or ("", "", i))[2] for i in identifiers}
        after = model.parse_page_token(request.get("nextToken"))
        limit = request.get("limit") or DESCRIBE_LIMIT
        group_class = request.get("logGroupClass")
        async with self.store.transaction() as tx:
            groups = await db.list_groups(tx, ctx.account, ctx.region)
        needle = pattern.lower() if pattern else None
        selected = [
            item
            for item in groups
            if (not prefix or item[0].name.startswith(prefix))
            and (needle is None or needle in item[0].name.lower())
            and (wanted_names is None or item[0].name in wanted_names)
            and (not group_class or item[0].log_group_class == group_class)
            and (after is None or item[0].name > after)
        ]
        page = selected[:limit]
        result: DescribeLogGroupsResponse = {"logGroups": [self._describe_group(*item) for item in page]}
        if len(selected) > limit:
            result["nextToken"] = model.page_token(page[-1][0].name)
        return result

    @staticmethod
    def _describe_group(group: LogGroup, stored_bytes: int, metric_filters: int) -> dict[str, Any]:
        described: dict[str, Any] = {
            "logGroupName": group.name,
            "creationTime": group.created_ms,
            "metricFilterCount": metric_filters,
            "arn": group.arn + ":*",
            "storedBytes": stored_bytes,
            "logGroupClass": group.log_group_class,
            "logGroupArn": group.arn,
            "deletionProtectionEnabled": group.deletion_protection,
        }
        if group.retention_days:
            described["retentionInDays"] = group.retention_days
        if group.kms_key_id:
            described["kmsKeyId"] = group.kms_key_id
        return described

    async def put_retention_policy(self, ctx: RequestContext, request: PutRetentionPolicyRequest) -> dict[str, Any]:
        days = request["retentionInDays"]
        model.check_retention(days)
        async with self.store.transaction() as tx:
            group = await self._group(tx, ctx.account, ctx.region, request["logGroupName"])
            await db.set_retention(tx, group.id, days)
            # The first sweep runs at once: events already past the new period go now.
            await self.timers.schedule(tx, RETENTION_TIMER, str(group.id), self.clock.now_ms(), {"group": group.id})
        return {}

    async def delete_retention_policy(self, ctx: RequestContext, request: DeleteRetentionPolicyRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            group = await self._group(tx, ctx.account, ctx.region, request["logGroupName"])
            await db.set_retention(tx, group.id, None)
            await self.timers.cancel(tx, RETENTION_TIMER, str(group.id))
        return {}

    async def _on_retention(self, timer: Timer) -> None:
        group_id = int(timer.payload["group"])
        async with self.store.transaction() as tx:
            group = await db.get_group_by_id(tx, group_id)
            if group is None or not group.retention_days:
                return
            now = self.clock.now_ms()
            await db.expire_events(tx, group.id, group.oldest_kept_ms(now))
            await self.timers.schedule(tx, RETENTION_TIMER, str(group.id), now + RETENTION_SWEEP_MS, {"group": group.id})

    # --- tags -------------------------------------------------------------------------------------

    async def _change_tags(
        self, account: str, region: str, name: str, add: dict[str, str], remove: list[str], too_many: type[Exception]
    ) -> None:
        model.check_tags(add)
        async with self.store.transaction() as tx:
            group = await self._group(tx, account, region, name)
            tags = {k: v for k, v in group.tags.items() if k not in remove}
            tags.update(add)
            if len(tags) > model.MAX_TAGS:
                raise too_many(f"A resource can have no more than {model.MAX_TAGS} tags.")
            await db.set_tags(tx, group.id, tags)

    def _tagged_group(self, arn: str) -> tuple[str, str, str]:
        parsed = model.parse_group_arn(arn)
        if parsed is None:
            raise ResourceNotFoundException(f"The specified resource does not exist: {arn}")
        region, account, name = parsed
        return account, region, name

    async def tag_resource(self, ctx: RequestContext, request: TagResourceRequest) -> dict[str, Any]:
        account, region, name = self._tagged_group(request["resourceArn"])
        await self._change_tags(account, region, name, dict(request["tags"]), [], TooManyTagsException)
        return {}

    async def untag_resource(self, ctx: RequestContext, request: UntagResourceRequest) -> dict[str, Any]:
        account, region, name = self._tagged_group(request["resourceArn"])
        await self._change_tags(account, region, name, {}, list(request["tagKeys"]), TooManyTagsException)
        return {}

    async def list_tags_for_resource(self, ctx: RequestContext, request: ListTagsForResourceRequest) -> ListTagsForResourceResponse:
        account, region, name = self._tagged_group(request["resourceArn"])
        async with self.store.transaction() as tx:
            group = await self._group(tx, account, region, name)
        return {"tags": group.tags}

    async def tag_log_group(self, ctx: RequestContext, request: TagLogGroupRequest) -> dict[str, Any]:
        tags = dict(request["tags"])
        await self._change_tags(ctx.account, ctx.region, request["logGroupName"], tags, [], InvalidParameterException)
        return {}

    async def untag_log_group(self, ctx: RequestContext, request: UntagLogGroupRequest) -> dict[str, Any]:
        keys = list(request["tags"])
        await self._change_tags(ctx.account, ctx.region, request["logGroupName"], {}, keys, InvalidParameterException)
        return {}

    async def list_tags_log_group(self, ctx: RequestContext, request: ListTagsLogGroupRequest) -> ListTagsLogGroupResponse:
        async with self.store.transaction() as tx:
            group = await self._group(tx, ctx.account, ctx.region, request["logGroupName"])
        return {"tags": group.tags}

    # --- log streams --------------------------------------------------------------------------

    async def create_log_stream(self, ctx: RequestContext, request: CreateLogStreamRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            created = await db.create_stream_in(
                tx, ctx.account, ctx.region, request["logGroupName"], request["logStreamName"], self.clock.now_ms()
            )
        if created is None:
            raise _group_not_found()
        if not created:
            raise ResourceAlreadyExistsException("The specified log stream already exists")
        return {}

    async def delete_log_stream(self, ctx: RequestContext, request: DeleteLogStreamRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            group = await self._group(tx, ctx.account, ctx.region, request["logGroupName"])
            stream = await db.get_stream(tx, group.id, request["logStreamName"])
            if stream is None:
                raise _stream_not_found()
            await db.delete_stream(tx, stream.id)
        return {}

    async def describe_log_streams(self, ctx: RequestContext, request: DescribeLogStreamsRequest) -> DescribeLogStreamsResponse:
        account, region, name = _group_ref(ctx, request)
        prefix = request.get("logStreamNamePrefix") or ""
        by_time = request.get("orderBy") == "LastEventTime"
        if by_time and prefix:
            raise InvalidParameterException("Cannot order by LastEventTime with a logStreamNamePrefix.")
        descending = bool(request.get("descending"))
        limit = request.get("limit") or DESCRIBE_LIMIT
        after = model.parse_page_token(request.get("nextToken"))
        async with self.store.transaction() as tx:
            group = await self._group(tx, account, region, name)
            streams = await db.list_streams(tx, group.id)

        def key(stream: model.LogStream) -> list[Any]:
            return [stream.last_event_ms or 0, stream.name] if by_time else [stream.name]

        ordered = sorted((s for s in streams if s.name.startswith(prefix)), key=key, reverse=descending)
        if after is not None:
            ordered = [s for s in ordered if (key(s) < after if descending else key(s) > after)]
        page = ordered[:limit]
        described = []
        for stream in page:
            item: dict[str, Any] = {
                "logStreamName": stream.name,
                "creationTime": stream.created_ms,
                "arn": model.stream_arn(region, account, group.name, stream.name),
                # Deprecated for streams in 2019: AWS reports 0 (the group's storedBytes counts them).
                "storedBytes": 0,
            }
            if stream.first_event_ms is not None:
                item["firstEventTimestamp"] = stream.first_event_ms
                item["lastEventTimestamp"] = stream.last_event_ms
                item["lastIngestionTime"] = stream.last_ingestion_ms
            if stream.upload_seq:
                item["uploadSequenceToken"] = model.sequence_token(stream.upload_seq)
            described.append(item)
        result: DescribeLogStreamsResponse = {"logStreams": described}  # type: ignore[typeddict-item]
        if len(ordered) > limit:
            result["nextToken"] = model.page_token(key(page[-1]))
        return result

    # --- events ---------------------------------------------------------------------------------

    async def put_log_events(self, ctx: RequestContext, request: PutLogEventsRequest) -> PutLogEventsResponse:
        group_name, stream_name = request["logGroupName"], request["logStreamName"]
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            found = await db.stream_for_put(tx, ctx.account, ctx.region, group_name, stream_name)
            if found is None:
                if await db.get_group(tx, ctx.account, ctx.region, group_name) is None:
                    raise _group_not_found()
                raise _stream_not_found()
            group_id, stream_id, retention_days, subscribed = found
            batch = model.check_batch(request["logEvents"], now, retention_days)
            filters = await db.subscription_filters(tx, group_id, now) if subscribed and batch.accepted else []
            uploads, ids = await db.append_events(tx, group_id, stream_id, batch.accepted, now, with_ids=bool(filters))
            if filters:
                events = [(model.event_id(ts, row_id), ts, message) for (ts, message, _), row_id in zip(batch.accepted, ids, strict=True)]
                await self.subscriptions.deliver(tx, ctx.account, ctx.region, group_name, stream_name, filters, events, now)
        result: PutLogEventsResponse = {"nextSequenceToken": model.sequence_token(uploads)}
        if batch.rejected:
            result["rejectedLogEventsInfo"] = batch.rejected  # type: ignore[typeddict-item]
        return result

    async def get_log_events(self, ctx: RequestContext, request: GetLogEventsRequest) -> GetLogEventsResponse:
        account, region, name = _group_ref(ctx, request)
        token = request.get("nextToken")
        direction, position = model.parse_stream_token(token) if token else (None, None)
        limit = request.get("limit") or model.MAX_EVENTS
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            group = await self._group(tx, account, region, name)
            stream = await db.get_stream(tx, group.id, request["logStreamName"])
            if stream is None:
                raise _stream_not_found()
            start = max(request.get("startTime") or 0, group.oldest_kept_ms(now))
            backward = direction == "b" or (direction is None and not request.get("startFromHead"))
            rows = await db.stream_events(
                tx,
                stream.id,
                start,
                request.get("endTime"),
                position if direction == "f" else None,
                position if direction == "b" else None,
                limit,
                backward,
            )
        rows = _within_response_size(rows, keep_last=backward)
        events = [{"timestamp": r[1], "message": r[3], "ingestionTime": r[2]} for r in rows]
        if rows:
            forward = model.stream_token("f", (rows[-1][1], rows[-1][0]))
            back = model.stream_token("b", (rows[0][1], rows[0][0]))
        elif position is not None:
            # At either end AWS answers the token it was given, so a reader polling forward waits there.
            forward, back = model.stream_token("f", position), model.stream_token("b", position)
        else:
            forward, back = model.stream_token("f", (0, 0)), model.stream_token("b", (0, 0))
        return {"events": events, "nextForwardToken": forward, "nextBackwardToken": back}  # type: ignore[typeddict-item]

    async def filter_log_events(self, ctx: RequestContext, request: FilterLogEventsRequest) -> FilterLogEventsResponse:
        account, region, name = _group_ref(ctx, request)
        names, prefix = request.get("logStreamNames"), request.get("logStreamNamePrefix")
        if names and prefix:
            raise InvalidParameterException("Cannot specify both logStreamNames and logStreamNamePrefix.")
        pattern = _pattern(request.get("filterPattern") or "")
        limit = request.get("limit") or model.MAX_EVENTS
        token = model.parse_page_token(request.get("nextToken"))
        after = tuple(token) if token is not None else None
        now = self.clock.now_ms()
        matched: list[Any] = []
        scanned = 0
        more = False
        async with self.store.transaction() as tx:
            group = await self._group(tx, account, region, name)
            streams = {s.id: s.name for s in await db.list_streams(tx, group.id)}
            if names:
                wanted = set(names)
                streams = {i: n for i, n in streams.items() if n in wanted}
            elif prefix:
                streams = {i: n for i, n in streams.items() if n.startswith(prefix)}
            start = max(request.get("startTime") or 0, group.oldest_kept_ms(now))
            while streams:
                rows = await db.group_events(tx, group.id, start, request.get("endTime"), after, FILTER_CHUNK)  # type: ignore[arg-type]
                for row in rows:
                    after = (row[1], row[0])
                    scanned += 1
                    if row[4] in streams and pattern.matches(row[3]):
                        matched.append(row)
                        if len(matched) > limit:
                            break
                if len(matched) > limit:
                    more = True
                    matched.pop()
                    after = (matched[-1][1], matched[-1][0])
                    break
                if len(rows) < FILTER_CHUNK:
                    break
                if scanned >= FILTER_SCAN_MAX:
                    more = True  # searched long enough for one call: the token resumes here
                    break
        kept = _within_response_size(matched, keep_last=False)
        if len(kept) < len(matched):
            more = True
            after = (kept[-1][1], kept[-1][0])
        events = [
            {
                "logStreamName": streams[r[4]],
                "timestamp": r[1],
                "message": r[3],
                "ingestionTime": r[2],
                "eventId": model.event_id(r[1], r[0]),
            }
            for r in kept
        ]
        result: FilterLogEventsResponse = {"events": events, "searchedLogStreams": []}  # type: ignore[typeddict-item]
        if more:
            result["nextToken"] = model.page_token(list(after))  # type: ignore[arg-type]
        return result

    # --- metric and subscription filters ---------------------------------------------------------

    async def put_metric_filter(self, ctx: RequestContext, request: PutMetricFilterRequest) -> dict[str, Any]:
        text = request["filterPattern"]
        _pattern(text)
        data = {
            "metricTransformations": request["metricTransformations"],
            "applyOnTransformedLogs": bool(request.get("applyOnTransformedLogs")),
        }
        for optional in ("fieldSelectionCriteria", "emitSystemFieldDimensions"):
            if optional in request:
                data[optional] = request[optional]  # type: ignore[literal-required]
        await self._put_filter(ctx, request["logGroupName"], "metric", request["filterName"], text, data, model.METRIC_FILTERS_PER_GROUP)
        return {}

    async def _put_filter(
        self, ctx: RequestContext, group_name: str, kind: str, name: str, text: str, data: dict[str, Any], quota: int
    ) -> None:
        async with self.store.transaction() as tx:
            group = await self._filter_slot(tx, ctx, group_name, kind, name, quota)
            await db.put_filter(tx, group.id, kind, name, text, self.clock.now_ms(), data)

    async def _filter_slot(self, tx: Tx, ctx: RequestContext, group_name: str, kind: str, name: str, quota: int) -> LogGroup:
        """The group, once a filter ``name`` of ``kind`` may be put on it (a new name needs room under ``quota``)."""
        group = await self._group(tx, ctx.account, ctx.region, group_name)
        existing = await db.filter_names(tx, group.id, kind)
        if name not in existing and len(existing) >= quota:
            raise LimitExceededException("Resource limit exceeded.")
        return group

    async def put_subscription_filter(self, ctx: RequestContext, request: PutSubscriptionFilterRequest) -> dict[str, Any]:
        group_name, name, text = request["logGroupName"], request["filterName"], request["filterPattern"]
        destination = request["destinationArn"]
        _pattern(text)
        for feature in ("fieldSelectionCriteria", "emitSystemFields"):
            if request.get(feature):
                # Both are about centralized (cross-account, cross-Region) log data, which stratus has not.
                raise AwsError(f"stratus does not implement {feature} for subscription filters yet.",
                               code="NotImplemented", status=501, sender_fault=False)
        async with self.store.transaction() as tx:
            group = await self._filter_slot(tx, ctx, group_name, "subscription", name, model.SUBSCRIPTION_FILTERS_PER_GROUP)
        destinations.check_kind(destination, request.get("roleArn"))
        try:
            client = self.subscriptions.context(ctx.account, ctx.region).client
            assert client is not None
            await destinations.check_lambda_permission(client, destination, group.arn, ctx.account, ctx.region)
        except destinations.DeliveryDenied:
            raise InvalidParameterException(destinations.LAMBDA_PERMISSION_MESSAGE) from None
        data: dict[str, Any] = {
            "destinationArn": destination,
            "distribution": request.get("distribution") or "ByLogStream",
            "applyOnTransformedLogs": bool(request.get("applyOnTransformedLogs")),
        }
        if request.get("roleArn"):
            data["roleArn"] = request["roleArn"]
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            # Checked again: another call may have taken the last slot meanwhile.
            group = await self._filter_slot(tx, ctx, group_name, "subscription", name, model.SUBSCRIPTION_FILTERS_PER_GROUP)
            await db.put_filter(tx, group.id, "subscription", name, text, now, data)
            await self.subscriptions.check_destination(tx, ctx.account, ctx.region, group_name, name, destination, now)
        return {}

    async def _delete_filter(self, ctx: RequestContext, group_name: str, kind: str, name: str) -> None:
        async with self.store.transaction() as tx:
            group = await self._group(tx, ctx.account, ctx.region, group_name)
            if not await db.delete_filter(tx, group.id, kind, name):
                raise ResourceNotFoundException(f"The specified {kind} filter does not exist.")

    async def delete_metric_filter(self, ctx: RequestContext, request: DeleteMetricFilterRequest) -> dict[str, Any]:
        await self._delete_filter(ctx, request["logGroupName"], "metric", request["filterName"])
        return {}

    async def delete_subscription_filter(self, ctx: RequestContext, request: DeleteSubscriptionFilterRequest) -> dict[str, Any]:
        await self._delete_filter(ctx, request["logGroupName"], "subscription", request["filterName"])
        return {}

    async def _describe_filters(
        self, ctx: RequestContext, kind: str, group_name: str | None, prefix: str | None, token: str | None, limit: int | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        after = model.parse_page_token(token)
        async with self.store.transaction() as tx:
            group_id = (await self._group(tx, ctx.account, ctx.region, group_name)).id if group_name else None
            rows = await db.list_filters(tx, ctx.account, ctx.region, kind, group_id)
        selected = [
            r for r in rows if (not prefix or r[1].startswith(prefix)) and (after is None or [r[0], r[1]] > after)
        ]
        return [
            {"filterName": name, "logGroupName": group, "filterPattern": text, "creationTime": created, **data}
            for group, name, text, created, data in selected
        ], model.page_token([selected[limit - 1][0], selected[limit - 1][1]]) if limit and len(selected) > limit else None

    async def describe_metric_filters(self, ctx: RequestContext, request: DescribeMetricFiltersRequest) -> DescribeMetricFiltersResponse:
        prefix = request.get("filterNamePrefix")
        if prefix and not request.get("logGroupName"):
            raise InvalidParameterException("If you specify filterNamePrefix, you must also specify logGroupName.")
        metric_name, namespace = request.get("metricName"), request.get("metricNamespace")
        if bool(metric_name) != bool(namespace):
            raise InvalidParameterException("If you specify metricName, you must also specify metricNamespace.")
        limit = request.get("limit") or DESCRIBE_LIMIT
        filters, _ = await self._describe_filters(ctx, "metric", request.get("logGroupName"), prefix, request.get("nextToken"), None)
        if metric_name:
            filters = [
                f
                for f in filters
                if any(t["metricName"] == metric_name and t["metricNamespace"] == namespace for t in f["metricTransformations"])
            ]
        result: DescribeMetricFiltersResponse = {"metricFilters": filters[:limit]}  # type: ignore[typeddict-item]
        if len(filters) > limit:
            last = filters[limit - 1]
            result["nextToken"] = model.page_token([last["logGroupName"], last["filterName"]])
        return result

    async def describe_subscription_filters(
        self, ctx: RequestContext, request: DescribeSubscriptionFiltersRequest
    ) -> DescribeSubscriptionFiltersResponse:
        limit = request.get("limit") or DESCRIBE_LIMIT
        filters, token = await self._describe_filters(
            ctx, "subscription", request["logGroupName"], request.get("filterNamePrefix"), request.get("nextToken"), limit
        )
        result: DescribeSubscriptionFiltersResponse = {"subscriptionFilters": filters[:limit]}  # type: ignore[typeddict-item]
        if token:
            result["nextToken"] = token
        return result

    async def test_metric_filter(self, ctx: RequestContext, request: TestMetricFilterRequest) -> TestMetricFilterResponse:
        pattern = _pattern(request["filterPattern"])
        matches = []
        for number, message in enumerate(request["logEventMessages"], 1):
            extracted = pattern.match(message)
            if extracted is not None:
                matches.append({"eventNumber": number, "eventMessage": message, "extractedValues": dict(extracted)})
        return {"matches": matches}  # type: ignore[typeddict-item]


def _within_response_size(rows: list[Any], keep_last: bool) -> list[Any]:
    """Trim a page to AWS's 1 MB response limit, from the end the reader is moving away from."""
    total = 0
    ordered = reversed(rows) if keep_last else iter(rows)
    kept = []
    for row in ordered:
        total += len(row[3]) + model.EVENT_OVERHEAD_BYTES
        if total > model.MAX_RESPONSE_BYTES and kept:
            break
        kept.append(row)
    return kept[::-1] if keep_last else kept
