"""The services stratus implements: botocore service name -> provider class path."""

from __future__ import annotations

PROVIDERS: dict[str, str] = {
    "sqs": "stratus.services.sqs.provider:SqsProvider",
    "kms": "stratus.services.kms.provider:KmsProvider",
    "ssm": "stratus.services.ssm.provider:SsmProvider",
    "secretsmanager": "stratus.services.secretsmanager.provider:SecretsmanagerProvider",
    "sts": "stratus.services.sts.provider:StsProvider",
    "iam": "stratus.services.iam.provider:IamProvider",
    "sns": "stratus.services.sns.provider:SnsProvider",
    "events": "stratus.services.events.provider:EventsProvider",
    "scheduler": "stratus.services.scheduler.provider:SchedulerProvider",
    "lambda": "stratus.services.lambda_.provider:LambdaProvider",
    "logs": "stratus.services.logs.provider:LogsProvider",
}
