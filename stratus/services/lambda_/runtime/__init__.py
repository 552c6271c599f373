"""Execution environments: processes that speak the Lambda Runtime API to stratus.

The contract between the Lambda provider and the runtime (both sides build to it):

    runtimes = Runtimes(endpoint=..., log_sink=sink, account_concurrency=1000, now_ms=clock.now_ms)
    result = await runtimes.invoke(spec, payload, request_id=..., credentials=..., client_context=...,
                                   trace_header=..., invoked_function_arn=...)   # -> InvokeResult
    await runtimes.provision(spec, n, credentials=...)   # provisioned concurrency
    runtimes.discard(function_arn)                      # code/config changed, or deleted
    await runtimes.close()

Modules:
- spec.py: FunctionSpec, InvokeResult, LogSink, ConcurrencyLimitExceeded (the contract).
- pool.py: ``Runtimes``, the environments of every function version on this node: warm
  reuse (LIFO), scale-out, idle reaping, replacement after a crash, timeout or OOM.
- environment.py: one environment (one process): init, one invocation at a time, the
  deadline, memory enforcement from /proc, output capture, the platform's log lines.
- log_format.py: those lines in Text (START/END/REPORT) or JSON (platform.* records), and the
  level filtering of LoggingConfig JSON.
- api.py: the Runtime API server of one environment (asyncio + httptools on loopback).
- launch.py: each runtime's command and the environment variables Lambda sets.
- node_sdk.py: the AWS SDK for JavaScript v3 of the nodejs18.x+ runtimes (``stratus lambda-sdk install``).
- clients/: the runtime clients stratus provides (Python, Node.js); custom runtimes
  (provided.*) bring their own ``bootstrap``.

Not yet: the Extensions API, the Telemetry API, response streaming, SnapStart, container
images; ephemeral storage size is passed through but not enforced on the private /tmp.
"""
