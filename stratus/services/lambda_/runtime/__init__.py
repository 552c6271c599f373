"""Execution environments: processes that speak the Lambda Runtime API to stratus.

The contract between the Lambda provider and the runtime (both sides build to it):

    spec = FunctionSpec(...)                       # everything an environment needs
    result = await runtimes.invoke(spec, payload, request_id=..., ...)

``Runtimes`` (pool.py) owns the environments of every function version on this node:
it starts them (one process each, with its own Runtime API endpoint on a loopback
port), reuses them warm one invocation at a time, scales out under concurrent load,
reaps idle ones and replaces crashed or timed-out ones.
"""
