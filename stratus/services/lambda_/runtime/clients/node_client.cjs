// stratus's Lambda runtime client for Node.js: the loop of AWS's Node.js runtime, node's stdlib only.
//
// Loads the handler (_HANDLER = "file.export", CommonJS or ES module), then asks the
// Runtime API for invocations one at a time and answers each with the handler's result
// (async handlers and callback handlers) or the error document the Node.js runtime sends.
// console.* is formatted as AWS formats it: "<time>\t<request id>\t<LEVEL>\t<message>", or with
// AWS_LAMBDA_LOG_FORMAT=JSON one JSON object per call (timestamp, level, requestId, message, and
// an error's errorType/errorMessage/stackTrace); levels below AWS_LAMBDA_LOG_LEVEL are dropped.
"use strict";

const http = require("http");
const fs = require("fs");
const path = require("path");
const util = require("util");
const { pathToFileURL } = require("url");

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const PREFIX = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// Framed records on the telemetry fd keep a multi-line message one log event.
const TELEMETRY_FD = process.env._LAMBDA_TELEMETRY_LOG_FD ? Number(process.env._LAMBDA_TELEMETRY_LOG_FD) : null;
delete process.env._LAMBDA_TELEMETRY_LOG_FD;
let currentRequestId = undefined;
const JSON_LOGS = (process.env.AWS_LAMBDA_LOG_FORMAT || "").toUpperCase() === "JSON";
const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
const MIN_LEVEL = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || "").toUpperCase()] || LEVELS.TRACE;
// Set by stratus when it has no AWS SDK for JavaScript v3 to put on NODE_PATH: how to install it.
const SDK_HINT = process.env._STRATUS_NODE_SDK_HINT || "";
delete process.env._STRATUS_NODE_SDK_HINT;

function writeLog(text) {
  if (TELEMETRY_FD === null) {
    process.stdout.write(text);
    return;
  }
  const data = Buffer.from(text, "utf8");
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0xa55a0003, 0);
  head.writeUInt32BE(data.length, 4);
  head.writeBigInt64BE(BigInt(Date.now()) * 1000n, 8);
  fs.writeSync(TELEMETRY_FD, Buffer.concat([head, data]));
}

// An Error as AWS's JSON logs show it.
function errorFields(error) {
  return Object.assign({
    errorType: (error && error.constructor && error.constructor.name) || "UnknownError",
    errorMessage: error.message,
    stackTrace: typeof error.stack === "string" ? error.stack.split("\n") : error.stack,
  }, error);
}

function jsonLine(level, args) {
  const record = { timestamp: new Date().toISOString(), level, requestId: currentRequestId };
  if (args.length === 1) {
    record.message = args[0];
    try {
      return JSON.stringify(record, (_, value) => (value instanceof Error ? errorFields(value) : value));
    } catch (_) {
      record.message = util.format(args[0]);
      return JSON.stringify(record);
    }
  }
  record.message = util.format(...args);
  const error = args.find((arg) => arg instanceof Error);
  if (error) {
    const fields = errorFields(error);
    record.errorType = fields.errorType;
    record.errorMessage = fields.errorMessage;
    record.stackTrace = typeof error.stack === "string" ? error.stack.split("\n") : [];
  }
  return JSON.stringify(record);
}

function log(level, args) {
  if (LEVELS[level] < MIN_LEVEL) return;
  if (JSON_LOGS) {
    writeLog(jsonLine(level, args) + "\n");
  } else {
    writeLog(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}\n`);
  }
}

function patchConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE", fatal: "FATAL" };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => log(level, args);
  }
}

function request(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      { host: HOST, port: PORT, method, path: PREFIX + urlPath, agent,
        headers: Object.assign(data ? { "Content-Length": data.length } : {}, headers || {}) },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

class Fault extends Error {
  constructor(errorType, message, cause) {
    super(message);
    this.name = errorType;
    if (cause && cause.stack) this.stack = `${errorType}: ${message}\n${cause.stack.split("\n").slice(1).join("\n")}`;
  }
}

// The error document AWS's Node.js runtime sends for anything thrown or passed to a callback.
function errorDocument(error) {
  if (error instanceof Error) {
    const stack = typeof error.stack === "string" ? error.stack.split("\n") : [];
    return { errorType: error.name || error.constructor.name, errorMessage: error.message, trace: stack };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function logError(label, doc) {
  if (JSON_LOGS) {
    const record = { timestamp: new Date().toISOString(), level: "ERROR", requestId: currentRequestId,
      message: { errorType: doc.errorType, errorMessage: doc.errorMessage, stackTrace: doc.trace } };
    writeLog(JSON.stringify(record) + "\n");
    return;
  }
  const logged = { errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace };
  writeLog(`${new Date().toISOString()}\t${currentRequestId}\tERROR\t${label}\t${JSON.stringify(logged)}\n`);
}

// Whether the nearest package.json says "type": "module" (as AWS's runtime checks before loading a .js handler).
function inModulePackage(file) {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, "utf8")).type === "module";
      } catch (_) {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}

async function loadModule(root, moduleName) {
  const base = path.resolve(root, moduleName);
  for (const ext of [".js", ".mjs", ".cjs"]) {
    const file = base + ext;
    if (!fs.existsSync(file)) continue;
    // import(), not require(): node >= 20.19 require()s an ES module itself, but without the module
    // hooks (node_esm_paths.mjs) that let its imports search NODE_PATH.
    if (ext === ".mjs" || (ext === ".js" && inModulePackage(file))) return import(pathToFileURL(file).href);
    try {
      return require(file);
    } catch (e) {
      // A .js file in a "type": "module" package is an ES module.
      if (e && e.code === "ERR_REQUIRE_ESM") return import(pathToFileURL(file).href);
      throw e;
    }
  }
  // Not a file in the package: a module on NODE_PATH (layers).
  return require(moduleName);
}

async function loadHandler() {
  const handlerString = process.env._HANDLER || "";
  const match = handlerString.match(/^([^.]*?)\.(.+)$/);
  if (!match) throw new Fault("Runtime.MalformedHandlerName", "Bad handler");
  const [, moduleName, handlerPath] = match;
  let mod;
  try {
    mod = await loadModule(process.env.LAMBDA_TASK_ROOT, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new Fault("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`, e);
    if (e && (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND")) {
      // AWS's runtime includes the SDK; say how to get it when stratus has none (one sentence more).
      const hint = SDK_HINT && /^Cannot find (module|package) '@aws-sdk\//.test(e.message) ? `\n${SDK_HINT}` : "";
      throw new Fault("Runtime.ImportModuleError", `Error: ${e.message}${hint}`, e);
    }
    throw e;
  }
  let handler = mod;
  for (const part of handlerPath.split(".")) handler = handler == null ? undefined : handler[part];
  if (handler === undefined && mod && mod.default) {
    handler = mod.default;
    for (const part of handlerPath.split(".")) handler = handler == null ? undefined : handler[part];
  }
  if (typeof handler !== "function") {
    throw new Fault("Runtime.HandlerNotFound", `${moduleName}.${handlerPath} is undefined or not exported`);
  }
  return handler;
}

function makeContext(headers, onDone) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const clientContext = headers["lambda-runtime-client-context"];
  const identity = headers["lambda-runtime-cognito-identity"];
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: clientContext ? JSON.parse(clientContext) : undefined,
    identity: identity ? JSON.parse(identity) : undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    // The legacy completion methods.
    done: (err, result) => onDone(err, result),
    succeed: (result) => onDone(null, result),
    fail: (err) => onDone(err === undefined || err === null ? "handled" : err),
  };
  return context;
}

async function postError(requestId, doc, url) {
  await request("POST", url, JSON.stringify(doc), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": doc.errorType,
  });
}

async function invoke(handler, res) {
  const requestId = res.headers["lambda-runtime-aws-request-id"];
  currentRequestId = requestId;
  const trace = res.headers["lambda-runtime-trace-id"];
  if (trace) process.env._X_AMZN_TRACE_ID = trace;
  else delete process.env._X_AMZN_TRACE_ID;

  const outcome = await new Promise((resolve) => {
    let settled = false;
    const done = (err, result) => {
      if (settled) return;
      settled = true;
      resolve({ err, result });
    };
    let event;
    try {
      event = JSON.parse(res.body.toString("utf8") || "null");
    } catch (e) {
      done(new Fault("Runtime.UnmarshalError", `Unable to parse input as json: ${e.message}`));
      return;
    }
    const context = makeContext(res.headers, done);
    try {
      const returned = handler(event, context, (err, result) => done(err, result));
      if (returned && typeof returned.then === "function") {
        returned.then((result) => done(null, result), (err) => done(err === undefined ? new Error("undefined") : err));
      } else if (handler.length < 3) {
        done(null, returned);
      }
    } catch (e) {
      done(e);
    }
  });

  if (outcome.err !== null && outcome.err !== undefined) {
    const doc = errorDocument(outcome.err);
    logError("Invoke Error ", doc);
    await postError(requestId, doc, `/invocation/${requestId}/error`);
    return;
  }
  let body;
  try {
    body = outcome.result === undefined ? "null" : JSON.stringify(outcome.result);
  } catch (e) {
    const doc = errorDocument(new Fault("Runtime.MarshalError", `Unable to stringify response body: ${e.message}`));
    await postError(requestId, doc, `/invocation/${requestId}/error`);
    return;
  }
  await request("POST", `/invocation/${requestId}/response`, body === undefined ? "null" : body, { "Content-Type": "application/json" });
}

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    const doc = errorDocument(e);
    logError("Init Error ", doc);
    await postError(undefined, doc, "/init/error");
    process.exit(1);
  }
  for (;;) {
    const res = await request("GET", "/invocation/next");
    if (res.status !== 200) throw new Error(`Runtime API /next answered ${res.status}`);
    await invoke(handler, res);
  }
}

process.on("uncaughtException", (e) => {
  const doc = errorDocument(e);
  logError("Uncaught Exception ", doc);
  process.exit(129);
});
process.on("unhandledRejection", (reason) => {
  const doc = errorDocument(reason);
  logError("Unhandled Promise Rejection ", doc);
  process.exit(128);
});

main();
