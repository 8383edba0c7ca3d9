"""The local AWS: moto in server mode with the buckets, queues, secrets and SES identity the
template declares, and the event sources that feed functions from it (S3 notifications,
SQS event source mappings). It talks to the emulator only through the AWS SDK (boto3)."""
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid

from .logs import log
from .runtime import events_of
from .template import STACK


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
        for fn, ev_name, p in events_of(functions, "S3"):
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
        for fn, ev_name, p in events_of(functions, "SQS"):
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
