#!/usr/bin/env python3
"""Local API Gateway (HTTP API, payload 2.0) and event sources in front of the functions'
real binaries.

Routes come from template.yaml (the HttpApi events of every AWS::Serverless::Function),
so local and deployed wiring cannot drift. Each function binary runs as separate
processes under the Lambda Runtime API contract (AWS_LAMBDA_RUNTIME_API: next /
response / error / init error). As on Lambda, an instance handles one request at a
time; more instances start on demand up to --max-instances per function, and requests
beyond that wait in a bounded queue. Each new instance's init duration (process start
to first `next`) is logged. An instance that crashes is replaced on the next request,
and the request it was serving gets a 502, as on AWS.

With --moto it also runs the schedules (EventBridge rate expressions; cron ones daily),
and the local AWS emulator (moto in server mode), creates the
buckets and queues the template declares, and delivers each bucket's ObjectCreated
notifications to the functions subscribed to them (S3 event source), the way S3 →
Lambda does, and feeds SQS-triggered functions from their queues (batch size and
partial batch failures as the template says). With --simulators it starts local
Razorpay, Stripe and Google (Gemini/Veo) APIs and points the functions at them. It talks to the emulator only through the AWS SDK (boto3) at its endpoint.
"""
import argparse
import base64
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import yaml

RUNTIME_PREFIX = "/2018-06-01/runtime"


def log(event, **fields):
    """One JSON line per event, to stderr: what an operator greps."""
    fields.update(ts=datetime.now(timezone.utc).isoformat(timespec="milliseconds"), event=event, src="gateway")
    print(json.dumps(fields), file=sys.stderr, flush=True)


# --- template ---------------------------------------------------------------------------

class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, …) as plain mappings."""


def _cfn_tag(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


class FunctionSpec:
    def __init__(self, name, binary, timeout, memory, env, routes, events):
        self.name, self.binary, self.timeout, self.memory = name, binary, timeout, memory
        self.env, self.routes, self.events = env, routes, events


STACK = {"AWS::StackName": "adpilot-local", "AWS::AccountId": "000000000000",
         "AWS::Region": os.environ.get("AWS_REGION", "ap-south-1"), "AWS::Partition": "aws",
         "AWS::URLSuffix": "amazonaws.com"}


class Resolver:
    """Evaluates the intrinsic functions that have a local meaning (pseudo parameters,
    buckets and queues); anything else (secrets, the database) resolves to None and
    comes from the environment instead."""

    def __init__(self, resources):
        self.resources = resources
        self.physical = {}  # logical id -> bucket name / queue URL
        self.arns = {}

    def _sub(self, text, variables=None):
        def one(m):
            name = m.group(1)
            if variables and name in variables:
                v = self.resolve(variables[name])
            elif name in STACK:
                v = STACK[name]
            elif "." in name:
                v = self.arns.get(name.split(".")[0]) if name.endswith(".Arn") else None
            else:
                v = self.physical.get(name)
            if v is None:
                raise LookupError(name)
            return str(v)
        try:
            return re.sub(r"\$\{([^}]+)\}", one, text)
        except LookupError:
            return None

    def resolve(self, v):
        if isinstance(v, (str, int, float)):
            return str(v)
        if not isinstance(v, dict) or len(v) != 1:
            return None
        (fn, arg), = v.items()
        if fn == "Ref":
            return STACK.get(arg) or self.physical.get(arg)
        if fn == "Fn::Sub":
            return self._sub(arg) if isinstance(arg, str) else self._sub(arg[0], arg[1])
        if fn == "Fn::GetAtt":
            name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.arns.get(name) if attr == "Arn" else None
        return None


def load_template(path):
    with open(path) as f:
        doc = yaml.load(f, Loader=CfnLoader)
    glob = (doc.get("Globals") or {}).get("Function") or {}
    resources = doc.get("Resources") or {}
    resolver = Resolver(resources)
    for name, res in resources.items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::S3::Bucket":
            resolver.physical[name] = resolver.resolve(props.get("BucketName")) or f"adpilot-local-{name.lower()}"
        elif res.get("Type") == "AWS::SQS::Queue":
            resolver.physical[name] = resolver.resolve(props.get("QueueName")) or f"adpilot-local-{name}"
    specs = []
    for name, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties") or {}
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        env = {}  # raw template values, resolved when an instance starts
        for source in (glob, props):
            env.update((source.get("Environment") or {}).get("Variables") or {})
        routes, events = [], {}
        for ev_name, ev in (props.get("Events") or {}).items():
            events[ev_name] = ev
            if ev.get("Type") == "HttpApi":
                p = ev.get("Properties") or {}
                routes.append((p.get("Method", "ANY").upper(), p.get("Path", "$default")))
        specs.append(FunctionSpec(
            name, binary or name.lower(),
            int(props.get("Timeout", glob.get("Timeout", 3))),
            int(props.get("MemorySize", glob.get("MemorySize", 128))),
            env, routes, events))
    return specs, resources, resolver


class Route:
    def __init__(self, method, template, function):
        self.method, self.template, self.function = method, template, function
        pattern = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self.regex = re.compile(f"^{pattern}$")
        literal = re.sub(r"\{[^}]+\}", "", template)
        self.specificity = (len(literal), -template.count("{"))

    def match(self, method, path):
        m = self.regex.match(path)
        if not m or self.method not in ("ANY", method):
            return None
        return m.groupdict()


# --- Lambda Runtime API -------------------------------------------------------------------

class Invocation:
    def __init__(self, event, timeout):
        self.id = str(uuid.uuid4())
        self.event = event
        self.deadline_ms = int((time.time() + timeout) * 1000)
        self.done = threading.Event()
        self.result = None  # ("ok", bytes) | ("error", str)

    def finish(self, kind, payload):
        if not self.done.is_set():
            self.result = (kind, payload)
            self.done.set()


OWNER_ONLY = {"DATABASE_OWNER_URL"}
LOCAL_AWS = None  # the emulator, when the gateway runs one


def secrets_from_emulator(env, declared):
    """As in AWS, a value the template reads from Secrets Manager (SECRET_ARN_<NAME>)
    reaches the function only through the emulator's Secrets Manager: the local value of
    <NAME> is stored there and the plain variable removed. Without the emulator, or with
    no local value (trust auth needs no database password), the plain variable stays."""
    for key in [k for k in declared if k.startswith("SECRET_ARN_")]:
        name = key[len("SECRET_ARN_"):]
        env.pop(key, None)
        if LOCAL_AWS is None or not env.get(name):
            continue
        env[key] = LOCAL_AWS.secret_arn(name, env.pop(name))


class Instance:
    """One process of a function, with its own Runtime API endpoint."""

    def __init__(self, fn, seq):
        self.fn, self.seq = fn, seq
        self.inbox = queue.Queue()
        self.current = None
        self.alive = True
        self.initialised = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApiHandler)
        self.server.daemon_threads = True
        self.server.instance = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        port = self.server.server_address[1]
        env = {k: v for k, v in ((k, fn.resolver.resolve(raw)) for k, raw in fn.spec.env.items()) if v is not None}
        # As in AWS, the owner's credentials reach only the functions the template gives them to.
        env.update((k, v) for k, v in os.environ.items() if k not in OWNER_ONLY or k in fn.spec.env)
        secrets_from_emulator(env, fn.spec.env)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{seq}",
            "AWS_REGION": os.environ.get("AWS_REGION", "ap-south-1"),
        })
        self.started = time.monotonic()
        # Function logs join the gateway's log stream (stderr), like CloudWatch; stdout
        # is kept for the gateway's own "listening" line.
        self.proc = subprocess.Popen([fn.binary_path], env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno())
        threading.Thread(target=self._watch, daemon=True).start()

    def on_next(self):
        if not self.initialised:
            self.initialised = True
            log("instance_ready", function=self.fn.spec.name, instance=self.seq,
                init_duration_ms=round((time.monotonic() - self.started) * 1000, 1))
        inv = self.inbox.get()
        if inv is None:
            return None
        self.current = inv
        return inv

    def _watch(self):
        code = self.proc.wait()
        self.alive = False
        log("instance_exited", function=self.fn.spec.name, instance=self.seq, exit_code=code)
        if self.current and not self.current.done.is_set():
            self.current.finish("crash", f"process exited with {code}")
        while not self.inbox.empty():
            pending = self.inbox.get_nowait()
            if pending:
                pending.finish("crash", f"process exited with {code} during init")
        self.inbox.put(None)
        self.server.shutdown()
        self.fn.forget(self)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()


def as_lambda_record(record):
    """The emulator's notification records lack fields real S3 always sends to Lambda
    (userIdentity, requestParameters, responseElements, ownerIdentity, sequencer);
    fill them in so functions parse exactly what AWS would give them."""
    r = dict(record)
    r.setdefault("userIdentity", {"principalId": "AWS:LOCAL"})
    r.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    r.setdefault("responseElements", {"x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                                      "x-amz-id-2": base64.b64encode(os.urandom(32)).decode()})
    s3 = dict(r.get("s3") or {})
    bucket = dict(s3.get("bucket") or {})
    bucket.setdefault("ownerIdentity", {"principalId": "LOCAL"})
    obj = dict(s3.get("object") or {})
    obj.setdefault("sequencer", f"{time.time_ns():016X}")
    s3.update(bucket=bucket, object=obj)
    r["s3"] = s3
    return r


class RuntimeApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle on, each keep-alive
    # response waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        inst = self.server.instance
        if self.path != f"{RUNTIME_PREFIX}/invocation/next":
            return self._reply(404, b'{"errorMessage":"unknown path"}')
        inv = inst.on_next()
        if inv is None:
            return self._reply(410, b'{"errorMessage":"instance stopping"}')
        self._reply(200, json.dumps(inv.event).encode(), {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": inv.id,
            "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn":
                f"arn:aws:lambda:ap-south-1:000000000000:function:{inst.fn.spec.name}",
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
        })

    def do_POST(self):
        inst = self.server.instance
        body = self._body()
        m = re.match(rf"^{RUNTIME_PREFIX}/invocation/([^/]+)/(response|error)$", self.path)
        if m:
            inv = inst.current
            if not inv or inv.id != m.group(1):
                return self._reply(400, b'{"errorMessage":"unknown request id"}')
            inst.current = None
            inv.finish("ok" if m.group(2) == "response" else "error", body)
            self.fn_release(inst)
            return self._reply(202, b'{"status":"OK"}')
        if self.path == f"{RUNTIME_PREFIX}/init/error":
            log("init_error", function=inst.fn.spec.name, instance=inst.seq, error=body.decode(errors="replace"))
            self._reply(202, b'{"status":"OK"}')
            inst.stop()
            return None
        return self._reply(404, b'{"errorMessage":"unknown path"}')

    @staticmethod
    def fn_release(inst):
        inst.fn.release(inst)


class Function:
    """The instances of one function and the queue of requests waiting for one."""

    def __init__(self, spec, resolver, bin_dir, max_instances, queue_limit):
        self.spec, self.resolver = spec, resolver
        self.binary_path = os.path.join(bin_dir, spec.binary)
        self.max_instances, self.queue_limit = max_instances, queue_limit
        self.cond = threading.Condition()
        self.idle, self.all, self.waiting, self.seq = [], set(), 0, 0

    def acquire(self, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if self.idle:
                    return self.idle.pop()
                if len(self.all) < self.max_instances:
                    self.seq += 1
                    inst = Instance(self, self.seq)
                    self.all.add(inst)
                    return inst
                if self.waiting >= self.queue_limit:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.waiting += 1
                self.cond.wait(remaining)
                self.waiting -= 1

    def release(self, inst):
        with self.cond:
            if inst.alive and inst in self.all:
                self.idle.append(inst)
            self.cond.notify()

    def forget(self, inst):
        with self.cond:
            self.all.discard(inst)
            if inst in self.idle:
                self.idle.remove(inst)
            self.cond.notify()

    def invoke(self, event):
        """Runs one invocation; returns ("ok"|"error"|"crash"|"timeout"|"throttled", payload)."""
        inst = self.acquire(self.spec.timeout + 30)
        if inst is None:
            return "throttled", b""
        inv = Invocation(event, self.spec.timeout)
        inst.inbox.put(inv)
        # The first request of a new instance also waits for its init.
        if not inv.done.wait(self.spec.timeout + (0 if inst.initialised else 10)):
            log("invocation_timeout", function=self.spec.name, instance=inst.seq, request_id=inv.id)
            inst.stop()
            return "timeout", b""
        return inv.result

    def stop_all(self):
        with self.cond:
            for inst in list(self.all):
                inst.stop()


# --- local AWS: the emulator, its buckets and queues, S3 event delivery ------------------------

class LocalAws:
    """moto in server mode, and what the template declares in it."""

    def __init__(self, port):
        if port == 0:
            import socket
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        import boto3  # the AWS SDK, pointed at the emulator
        kw = dict(endpoint_url=self.endpoint, region_name=STACK["AWS::Region"],
                  aws_access_key_id="local", aws_secret_access_key="local")
        self.s3, self.sqs = boto3.client("s3", **kw), boto3.client("sqs", **kw)
        self.ses = boto3.client("sesv2", **kw)
        self.secretsmanager = boto3.client("secretsmanager", **kw)
        self.secrets, self.secrets_lock = {}, threading.Lock()
        deadline = time.time() + 30
        while True:
            try:
                self.s3.list_buckets()
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise SystemExit("gateway: the local AWS emulator (moto_server) did not start")
                time.sleep(0.2)
        log("aws_emulator_ready", endpoint=self.endpoint)

    def secret_arn(self, name, value):
        """The ARN of the local secret holding `value` for `name` (made once)."""
        with self.secrets_lock:
            if (name, value) not in self.secrets:
                secret = f"adpilot-local/{name}/{len(self.secrets)}"
                arn = self.secretsmanager.create_secret(Name=secret, SecretString=value)["ARN"]
                self.secrets[(name, value)] = arn
                log("secret", name=name, secret=secret)
            return self.secrets[(name, value)]

    def env(self):
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": STACK["AWS::Region"]}

    def create(self, resources, resolver):
        for name, res in resources.items():
            if res.get("Type") == "AWS::S3::Bucket":
                bucket = resolver.physical[name]
                try:
                    self.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={
                        "LocationConstraint": STACK["AWS::Region"]})
                except self.s3.exceptions.BucketAlreadyOwnedByYou:
                    pass
                log("bucket", name=bucket)
        for name, res in resources.items():
            if res.get("Type") == "AWS::SES::EmailIdentity":
                # The template's identity is a parameter; locally it is EMAIL_FROM.
                identity = os.environ.get("EMAIL_FROM", "notifications@adpilot.local")
                try:
                    self.ses.create_email_identity(EmailIdentity=identity)
                except Exception as e:  # already made in this emulator
                    log("ses_identity", name=identity, note=str(e)[:80])
                log("ses_identity", name=identity)
        for name, res in resources.items():  # dead-letter queues first, so redrive can point at them
            if res.get("Type") == "AWS::SQS::Queue":
                url = self.sqs.create_queue(QueueName=resolver.physical[name])["QueueUrl"]
                arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                resolver.arns[name] = arn
        for name, res in resources.items():
            if res.get("Type") == "AWS::SQS::Queue":
                queue = resolver.physical[name]
                url = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
                resolver.physical[name] = url
                redrive = (res.get("Properties") or {}).get("RedrivePolicy")
                if redrive:
                    target = resolver.resolve(redrive.get("deadLetterTargetArn"))
                    self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(
                        {"deadLetterTargetArn": target, "maxReceiveCount": str(redrive.get("maxReceiveCount", 5))})})
                log("queue", name=queue, url=url)

    def subscribe_s3(self, functions, resolver):
        """Routes each bucket's notifications to a private queue per subscribed function,
        and starts a poller that invokes the function with the S3 event."""
        configs = {}
        for fn in functions:
            for ev_name, ev in fn.spec.events.items():
                if ev.get("Type") != "S3":
                    continue
                p = ev.get("Properties") or {}
                bucket = resolver.resolve(p.get("Bucket"))
                queue_url = self.sqs.create_queue(QueueName=f"adpilot-local-s3-{fn.spec.name}-{ev_name}",
                                                  Attributes={"VisibilityTimeout": "10"})["QueueUrl"]
                arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                events = p.get("Events")
                rules = ((p.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
                conf = {"QueueArn": arn, "Events": events if isinstance(events, list) else [events]}
                if rules:
                    conf["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
                configs.setdefault(bucket, []).append(conf)
                threading.Thread(target=self._deliver, args=(fn, queue_url), daemon=True).start()
                log("s3_subscription", bucket=bucket, function=fn.spec.name, rules=rules)
        for bucket, confs in configs.items():
            self.s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": confs})

    def _deliver(self, fn, queue_url):
        while True:
            try:
                got = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                               AttributeNames=["ApproximateReceiveCount"])
            except Exception as e:  # the emulator is going away
                log("s3_delivery_stopped", function=fn.spec.name, error=str(e))
                return
            for msg in got.get("Messages", []):
                body = json.loads(msg["Body"])
                tries = int(msg["Attributes"].get("ApproximateReceiveCount", "1"))
                if "Records" in body:
                    body["Records"] = [as_lambda_record(r) for r in body["Records"]]
                    keys = [r["s3"]["object"]["key"] for r in body["Records"]]
                    kind, payload = fn.invoke(body)
                    log("s3_event", function=fn.spec.name, keys=keys, outcome=kind, attempt=tries,
                        **({"error": payload.decode(errors="replace")[:500]} if kind != "ok" else {}))
                    # S3 invokes asynchronously: a failed event is retried twice, then dropped.
                    if kind != "ok" and tries < 3:
                        continue
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"])

    def subscribe_sqs(self, functions, resolver, pollers=2):
        """SQS event source mappings: polls each queue a function is subscribed to and
        invokes it with batches of up to BatchSize records. Messages the function reports
        in batchItemFailures (ReportBatchItemFailures), or all of a failed invocation,
        stay on the queue and come back after their visibility timeout; the rest are
        deleted, as Lambda's poller does."""
        url_of_arn = {arn: resolver.physical[name] for name, arn in resolver.arns.items()}
        for fn in functions:
            for ev_name, ev in fn.spec.events.items():
                if ev.get("Type") != "SQS":
                    continue
                p = ev.get("Properties") or {}
                arn = resolver.resolve(p.get("Queue"))
                url = url_of_arn.get(arn)
                if url is None:
                    log("sqs_subscription_unresolved", function=fn.spec.name, event=ev_name)
                    continue
                batch = min(int(p.get("BatchSize", 10)), 10)
                partial = "ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or [])
                for _ in range(pollers):
                    threading.Thread(target=self._poll_sqs, args=(fn, url, arn, batch, partial), daemon=True).start()
                log("sqs_subscription", function=fn.spec.name, queue=url, batch_size=batch, partial_failures=partial)

    def _poll_sqs(self, fn, url, arn, batch, partial):
        while True:
            try:
                got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch, WaitTimeSeconds=1,
                                               AttributeNames=["All"], MessageAttributeNames=["All"])
            except Exception as e:  # the emulator is going away
                log("sqs_polling_stopped", function=fn.spec.name, error=str(e))
                return
            messages = got.get("Messages", [])
            if not messages:
                continue
            records = [as_sqs_record(m, arn) for m in messages]
            kind, payload = fn.invoke({"Records": records})
            failed = set()
            if kind != "ok":
                failed = {m["MessageId"] for m in messages}
            elif partial:
                try:
                    answer = json.loads(payload or b"{}") or {}
                    failed = {f.get("itemIdentifier") for f in answer.get("batchItemFailures") or []}
                except ValueError:
                    failed = {m["MessageId"] for m in messages}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
            log("sqs_batch", function=fn.spec.name, size=len(messages), failed=len(failed), outcome=kind,
                **({"error": payload.decode(errors="replace")[:500]} if kind != "ok" else {}))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()


def as_sqs_record(msg, arn):
    """A received message as Lambda's SQS event source hands it to a function."""
    attrs = {name: {"stringValue": a.get("StringValue"), "binaryValue": None, "stringListValues": [],
                    "binaryListValues": [], "dataType": a.get("DataType", "String")}
             for name, a in (msg.get("MessageAttributes") or {}).items()}
    return {"messageId": msg["MessageId"], "receiptHandle": msg["ReceiptHandle"], "body": msg.get("Body", ""),
            "attributes": msg.get("Attributes") or {}, "messageAttributes": attrs,
            "md5OfBody": msg.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": arn,
            "awsRegion": STACK["AWS::Region"]}


# --- third-party simulators -----------------------------------------------------------------

def start_simulators(gateway_url):
    """Meta Graph, Razorpay, Stripe and Google (Gemini/Veo) stand-ins, unless the environment
    already points the functions elsewhere (META_GRAPH_URL, RAZORPAY_API_URL, STRIPE_API_URL,
    GEMINI_API_URL)."""
    from simulators.google import Google
    from simulators.meta import Meta
    from simulators.razorpay import Razorpay
    from simulators.sites import Sites
    from simulators.stripe import Stripe
    started = []
    if not os.environ.get("META_GRAPH_URL"):
        sim = Meta(os.environ.get("META_APP_ID", ""), os.environ.get("META_APP_SECRET", "")).start()
        os.environ["META_GRAPH_URL"] = f"{sim.url}/v25.0"
        started.append(sim)
        log("simulator", name="meta", url=sim.url)
    if not os.environ.get("RAZORPAY_API_URL"):
        sim = Razorpay(os.environ.get("RAZORPAY_KEY_ID", ""), os.environ.get("RAZORPAY_KEY_SECRET", ""),
                       os.environ.get("RAZORPAY_WEBHOOK_SECRET", ""), f"{gateway_url}/webhooks/razorpay").start()
        os.environ["RAZORPAY_API_URL"] = f"{sim.url}/v1"
        started.append(sim)
        log("simulator", name="razorpay", url=sim.url, checkout=f"{sim.url}/checkout/<subscription id>")
    if not os.environ.get("STRIPE_API_URL"):
        sim = Stripe(os.environ.get("STRIPE_SECRET_KEY", ""), os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
                     f"{gateway_url}/webhooks/stripe").start()
        os.environ["STRIPE_API_URL"] = sim.url
        started.append(sim)
        log("simulator", name="stripe", url=sim.url, checkout=f"{sim.url}/pay/<checkout session id>")
    if not os.environ.get("GEMINI_API_URL"):
        sim = Google(os.environ.get("GEMINI_API_KEY", "")).start()
        os.environ["GEMINI_API_URL"] = f"{sim.url}/v1beta"
        started.append(sim)
        log("simulator", name="google", url=sim.url)
    # Small-business sites for the brand analyzer, and SSRF targets. Their host:port is
    # added to whatever FETCH_ALLOW_HOSTS already holds (set it to analyse another local site).
    sim = Sites().start()
    host_port = sim.url.removeprefix("http://")
    allow = [h for h in os.environ.get("FETCH_ALLOW_HOSTS", "").split(",") if h.strip()]
    os.environ["FETCH_ALLOW_HOSTS"] = ",".join(allow + [host_port])
    os.environ["SITES_URL"] = sim.url
    started.append(sim)
    log("simulator", name="sites", url=sim.url, cafe=f"{sim.url}/cafe/", clinic=f"{sim.url}/clinic/",
        shop=f"{sim.url}/shop/")
    return started


# --- EventBridge schedules ----------------------------------------------------------------------

def schedule_seconds(expression):
    """rate(N minute|minutes|hour|hours|day|days) → seconds; a cron(...) runs daily locally."""
    m = re.match(r"rate\((\d+)\s+(minute|hour|day)s?\)", expression or "")
    if m:
        return int(m.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[m.group(2)]
    return 86400


def start_schedules(functions, first_after=5):
    """Invokes each function on its Schedule events: first shortly after start (so a
    newcomer sees scheduled work happen), then at the schedule's rate."""
    for fn in functions:
        for ev_name, ev in fn.spec.events.items():
            if ev.get("Type") != "Schedule":
                continue
            p = ev.get("Properties") or {}
            every = schedule_seconds(p.get("Schedule"))
            payload = json.loads(p["Input"]) if p.get("Input") else {
                "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": STACK["AWS::AccountId"], "region": STACK["AWS::Region"], "resources": [], "detail": {}}

            def tick(fn=fn, ev_name=ev_name, every=every, payload=payload):
                time.sleep(first_after)
                while True:
                    kind, out = fn.invoke(payload)
                    log("schedule", function=fn.spec.name, schedule=ev_name, outcome=kind,
                        result=out.decode(errors="replace")[:300])
                    time.sleep(every)

            threading.Thread(target=tick, daemon=True).start()
            log("schedule_registered", function=fn.spec.name, schedule=ev_name, every_seconds=every)


# --- HTTP API (payload format 2.0) ----------------------------------------------------------

def build_event(handler, route, params, body):
    parts = urlsplit(handler.path)
    headers = {}
    for k, v in handler.headers.items():
        headers[k.lower()] = f"{headers[k.lower()]},{v}" if k.lower() in headers else v
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    request_id = base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")
    now = datetime.now(timezone.utc)
    event = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.template}",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": handler.command,
                "path": parts.path,
                "protocol": handler.request_version,
                "sourceIp": handler.client_address[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": f"{route.method} {route.template}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event, request_id


def translate_response(payload):
    """A Lambda result → (status, headers list, body bytes), as API Gateway does."""
    try:
        doc = json.loads(payload or b"null")
    except ValueError:
        return 502, [("content-type", "application/json")], b'{"message":"Internal Server Error"}'
    if not isinstance(doc, dict) or "statusCode" not in doc:
        return 200, [("content-type", "application/json")], json.dumps(doc).encode()
    headers = [(k, str(v)) for k, v in (doc.get("headers") or {}).items()]
    for k, vs in (doc.get("multiValueHeaders") or {}).items():
        if not any(h[0].lower() == k.lower() for h in headers):
            headers.extend((k, str(v)) for v in vs)
    headers.extend(("set-cookie", c) for c in doc.get("cookies") or [])
    body = doc.get("body") or ""
    body = base64.b64decode(body) if doc.get("isBase64Encoded") else body.encode()
    return int(doc["statusCode"]), headers, body


FAILURES = {
    "error": (502, b'{"message":"Internal Server Error"}'),
    "crash": (502, b'{"message":"Internal Server Error"}'),
    "timeout": (504, b'{"message":"Service Unavailable"}'),
    "throttled": (429, b'{"message":"Too Many Requests"}'),
}


# Lambda's Invoke API (POST /2015-03-31/functions/{name}/invocations), for operators and
# drills that run a scheduled function now, e.g. the hourly sync.
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


class ApiHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # see RuntimeApiHandler
    protocol_version = "HTTP/1.1"
    server_version = "adpilot-local-gateway"

    def log_message(self, *args):
        pass

    def _invoke(self, name, body):
        """Runs function `name` (logical id or binary) with `body` as its event, as
        Lambda's Invoke API does: 200 with the result, X-Amz-Function-Error on failure."""
        fn = next((f for f in self.server.functions.values() if name in (f.spec.name, f.spec.binary)), None)
        if fn is None:
            out, status, headers = json.dumps({"Message": f"Function not found: {name}"}).encode(), 404, []
        else:
            try:
                event = json.loads(body or b"{}")
            except ValueError:
                event = None
            kind, payload = fn.invoke(event) if event is not None else ("error", b"event is not JSON")
            status, out = 200, payload or b"null"
            headers = [] if kind == "ok" else [("X-Amz-Function-Error", "Unhandled")]
        self.send_response(status)
        for k, v in headers + [("content-type", "application/json"), ("Content-Length", str(len(out)))]:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out)
        log("invoke", function=name, status=status)

    def _handle(self):
        started = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = urlsplit(self.path).path
        invoked = INVOKE_PATH.match(path) if self.command == "POST" else None
        if invoked:
            return self._invoke(invoked.group(1), body)
        found = None
        for route in self.server.routes:
            params = route.match(self.command, path)
            if params is not None:
                found = (route, params)
                break
        if not found:
            status, headers, out, request_id, fn = 404, [("content-type", "application/json")], \
                b'{"message":"Not Found"}', "-", None
        else:
            route, params = found
            event, request_id = build_event(self, route, params, body)
            kind, payload = route.function.invoke(event)
            fn = route.function.spec.name
            if kind == "ok":
                status, headers, out = translate_response(payload)
            else:
                status, out = FAILURES[kind]
                headers = [("content-type", "application/json")]
                if kind == "error":
                    log("function_error", function=fn, request_id=request_id,
                        error=payload.decode(errors="replace")[:500])
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("apigw-requestid", request_id)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)
        log("request", method=self.command, path=path, status=status, function=fn,
            request_id=request_id, duration_ms=round((time.monotonic() - started) * 1000, 1))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def __getattr__(self, name):
        # Any other method (TRACE, QUERY, …) is routed too: API Gateway answers 404.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class ApiServer(ThreadingHTTPServer):
    """The API's listening socket: a backlog deep enough for a burst of clients (the
    default of 5 resets connections when a hundred arrive at once)."""
    request_queue_size = 512
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", default="template.yaml")
    ap.add_argument("--bin-dir", default="target/release")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    ap.add_argument("--max-instances", type=int, default=4, help="per function")
    ap.add_argument("--queue-limit", type=int, default=256,
                    help="waiting requests per function (API Gateway's burst limit in template.yaml is 200)")
    ap.add_argument("--moto", type=int, metavar="PORT", help="run the local AWS emulator on PORT (0: any free port)")
    ap.add_argument("--simulators", action="store_true",
                    help="run the Meta, Razorpay, Stripe and Google simulators (infra/simulators) unless their URL is set")
    args = ap.parse_args()

    server = ApiServer((args.host, args.port), ApiHandler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    # Facebook Login returns here locally (in AWS: the web app's page, MetaRedirectUri);
    # the client then posts {code, state} to POST /v1/meta/callback with its token.
    os.environ.setdefault("META_REDIRECT_URI", f"http://{host}:{port}/v1/meta/callback")
    # Notification emails link to this API (unsubscribe) and the web app; moto's SES
    # keeps what was sent (GET <emulator>/moto-api/data.json, key "ses").
    os.environ.setdefault("PUBLIC_API_URL", f"http://{host}:{port}")
    os.environ.setdefault("APP_URL", "http://localhost:5173")
    os.environ.setdefault("EMAIL_FROM", "notifications@adpilot.local")
    if args.simulators:
        start_simulators(f"http://{host}:{port}")

    specs, resources, resolver = load_template(args.template)
    aws = None
    if args.moto is not None:
        global LOCAL_AWS
        aws = LOCAL_AWS = LocalAws(args.moto)
        os.environ.update(aws.env())
        aws.create(resources, resolver)
    functions = {s.name: Function(s, resolver, args.bin_dir, args.max_instances, args.queue_limit) for s in specs}
    if aws:
        aws.subscribe_s3(functions.values(), resolver)
        aws.subscribe_sqs(functions.values(), resolver)
        start_schedules(functions.values())
    missing = [f.binary_path for f in functions.values()
               if (f.spec.routes or (aws and any(e.get("Type") in ("S3", "SQS", "Schedule") for e in f.spec.events.values())))
               and not os.path.exists(f.binary_path)]
    if missing:
        sys.exit(f"gateway: missing function binaries (build them first): {missing}")
    routes = [Route(m, p, functions[s.name]) for s in specs for m, p in s.routes]
    routes.sort(key=lambda r: r.specificity, reverse=True)

    server.routes = routes
    server.functions = functions

    def shutdown(*_):
        for f in functions.values():
            f.stop_all()
        if aws:
            aws.stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    for r in routes:
        log("route", route=f"{r.method} {r.template}", function=r.function.spec.name)
    print(f"ADPILOT_GATEWAY_LISTENING http://{host}:{port}", flush=True)
    server.serve_forever()
    for f in functions.values():
        f.stop_all()


if __name__ == "__main__":
    main()
