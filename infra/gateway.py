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
import os
import signal
import sys
import threading

from local.apigw import ApiHandler, ApiServer
from local.aws import LocalAws
from local.logs import log
from local.runtime import Function
from local.schedules import start_schedules
from local.simulators import start_simulators
from local.template import Route, load_template


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
        aws = LocalAws(args.moto)
        os.environ.update(aws.env())
        aws.create(resources, resolver)
    functions = {s.name: Function(s, resolver, args.bin_dir, args.max_instances, args.queue_limit, aws) for s in specs}
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
