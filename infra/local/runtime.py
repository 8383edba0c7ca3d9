"""The Lambda Runtime API (next / response / error / init error) each function process
talks to, and the instances of one function: one request at a time per instance, more
instances on demand up to a limit, a bounded queue of requests beyond it, a crashed
instance's request answered as a crash."""
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .logs import log

RUNTIME_PREFIX = "/2018-06-01/runtime"
RESULT_PATH = re.compile(rf"^{RUNTIME_PREFIX}/invocation/([^/]+)/(response|error)$")
OWNER_ONLY = {"DATABASE_OWNER_URL"}


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


class RuntimeApiHandler(BaseHTTPRequestHandler):
    """Serves one process's Runtime API for `server.host`, which answers `next()` (the
    next Invocation, or None when the process should stop), `current`, `finished(inv,
    kind, body)`, `init_error(body)` and has a `function_name`."""
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle on, each keep-alive
    # response waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=None):
        try:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the process is gone; its watcher says so
            self.close_connection = True

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        host = self.server.host
        if self.path != f"{RUNTIME_PREFIX}/invocation/next":
            return self._reply(404, b'{"errorMessage":"unknown path"}')
        inv = host.next()
        if inv is None:
            return self._reply(410, b'{"errorMessage":"instance stopping"}')
        self._reply(200, json.dumps(inv.event).encode(), {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": inv.id,
            "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn":
                f"arn:aws:lambda:ap-south-1:000000000000:function:{host.function_name}",
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
        })

    def do_POST(self):
        host = self.server.host
        body = self._body()
        m = RESULT_PATH.match(self.path)
        if m:
            inv = host.current
            if not inv or inv.id != m.group(1):
                return self._reply(400, b'{"errorMessage":"unknown request id"}')
            host.finished(inv, "ok" if m.group(2) == "response" else "error", body)
            return self._reply(202, b'{"status":"OK"}')
        if self.path == f"{RUNTIME_PREFIX}/init/error":
            self._reply(202, b'{"status":"OK"}')
            host.init_error(body)
            return None
        return self._reply(404, b'{"errorMessage":"unknown path"}')


def serve_runtime_api(host):
    """A Runtime API endpoint on a free port for `host`; returns the server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApiHandler)
    server.daemon_threads = True
    server.host = host
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def lambda_env(server, name, memory, seq=0):
    """The variables Lambda gives every function process, for the Runtime API at `server`."""
    return {
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{seq}",
        "AWS_REGION": os.environ.get("AWS_REGION", "ap-south-1"),
    }


def secrets_from_emulator(env, declared, aws):
    """As in AWS, a value the template reads from Secrets Manager (SECRET_ARN_<NAME>)
    reaches the function only through the emulator's Secrets Manager: the local value of
    <NAME> is stored there and the plain variable removed. Without the emulator, or with
    no local value (trust auth needs no database password), the plain variable stays."""
    for key in [k for k in declared if k.startswith("SECRET_ARN_")]:
        name = key[len("SECRET_ARN_"):]
        env.pop(key, None)
        if aws is None or not env.get(name):
            continue
        env[key] = aws.secret_arn(name, env.pop(name))


class Instance:
    """One process of a function, with its own Runtime API endpoint."""

    def __init__(self, fn, seq):
        self.fn, self.seq = fn, seq
        self.function_name = fn.spec.name
        self.inbox = queue.Queue()
        self.current = None
        self.alive = True
        self.initialised = False
        self.server = serve_runtime_api(self)
        env = {k: v for k, v in ((k, fn.resolver.resolve(raw)) for k, raw in fn.spec.env.items()) if v is not None}
        # As in AWS, the owner's credentials reach only the functions the template gives them to.
        env.update((k, v) for k, v in os.environ.items() if k not in OWNER_ONLY or k in fn.spec.env)
        secrets_from_emulator(env, fn.spec.env, fn.aws)
        env.update(lambda_env(self.server, fn.spec.name, fn.spec.memory, seq))
        self.started = time.monotonic()
        # Function logs join the gateway's log stream (stderr), like CloudWatch; stdout
        # is kept for the gateway's own "listening" line.
        self.proc = subprocess.Popen([fn.binary_path], env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno())
        threading.Thread(target=self._watch, daemon=True).start()

    def next(self):
        if not self.initialised:
            self.initialised = True
            log("instance_ready", function=self.fn.spec.name, instance=self.seq,
                init_duration_ms=round((time.monotonic() - self.started) * 1000, 1))
        inv = self.inbox.get()
        if inv is None:
            return None
        self.current = inv
        return inv

    def finished(self, inv, kind, body):
        self.current = None
        inv.finish(kind, body)
        self.fn.release(self)

    def init_error(self, body):
        log("init_error", function=self.fn.spec.name, instance=self.seq, error=body.decode(errors="replace"))
        self.stop()

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


class Function:
    """The instances of one function and the queue of requests waiting for one. `aws` is
    the local emulator, if any (it holds the secrets the template reads)."""

    def __init__(self, spec, resolver, bin_dir, max_instances, queue_limit, aws=None):
        self.spec, self.resolver, self.aws = spec, resolver, aws
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


def events_of(functions, kind):
    """(function, event name, properties) for every template event of type `kind`
    (`S3`, `SQS`, `Schedule`) of `functions`."""
    for fn in functions:
        for name, ev in fn.spec.events.items():
            if ev.get("Type") == kind:
                yield fn, name, ev.get("Properties") or {}
