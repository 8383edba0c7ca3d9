"""Accounts through the local stack: the functions' real binaries under the Lambda
Runtime API, behind the gateway that reads template.yaml, spoken to over real HTTP.

Uses the debug binaries `infra/test` has just built (BIN_DIR overrides) and a fresh
database migrated by the real `migrate` binary.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("BIN_DIR", os.path.join(ROOT, "target", "debug"))
PG = dict(host=os.environ.get("TEST_PG_HOST", "127.0.0.1"), port=os.environ.get("TEST_PG_PORT", "5432"),
          su=os.environ.get("TEST_PG_SUPERUSER", "postgres"))


def psql(sql, db="postgres"):
    out = subprocess.run(["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["su"], "-d", db,
                          "-v", "ON_ERROR_STOP=1", "-Atqc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def http(method, url, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, dict(e.headers), json.loads(raw) if raw else None


class LocalStack(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = f"adpilot_t_stack_{uuid.uuid4().hex[:12]}"
        psql(f"CREATE DATABASE {cls.db} OWNER adpilot_owner")
        env = dict(os.environ,
                   DATABASE_OWNER_URL=f"postgres://adpilot_owner@{PG['host']}:{PG['port']}/{cls.db}",
                   DATABASE_URL=f"postgres://adpilot_app@{PG['host']}:{PG['port']}/{cls.db}",
                   JWT_SECRET="stack-test-secret-stack-test-secret-0123",
                   AWS_REGION="ap-south-1", RUST_LOG="info")
        subprocess.run([os.path.join(BIN_DIR, "migrate")], env=env, check=True, capture_output=True)
        cls.log = open(os.path.join(ROOT, "target", "stack-test.log"), "w")
        cls.gw = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "infra", "gateway.py"), "--template", os.path.join(ROOT, "template.yaml"),
             "--bin-dir", BIN_DIR, "--port", "0", "--max-instances", "2"],
            env=env, stdout=subprocess.PIPE, stderr=cls.log, text=True, start_new_session=True)
        line = cls.gw.stdout.readline()
        assert line.startswith("ADPILOT_GATEWAY_LISTENING"), line
        cls.base = line.split()[1]

    @classmethod
    def tearDownClass(cls):
        os.killpg(cls.gw.pid, signal.SIGTERM)
        cls.gw.wait(timeout=20)
        cls.log.close()
        psql(f"DROP DATABASE IF EXISTS {cls.db} WITH (FORCE)")

    def url(self, path):
        return self.base + path

    def test_signup_login_refresh_and_me_over_http(self):
        email = f"stack.{uuid.uuid4().hex[:8]}@example.com"
        status, headers, body = http("POST", self.url("/v1/auth/signup"),
                                     {"email": email, "password": "correct-horse-battery"})
        self.assertEqual(status, 201, body)
        self.assertIn("apigw-requestid", {k.lower() for k in headers})
        status, _, me = http("GET", self.url("/v1/me"), token=body["access_token"])
        self.assertEqual((status, me["email"]), (200, email))

        status, _, session = http("POST", self.url("/v1/auth/login"), {"email": email, "password": "correct-horse-battery"})
        self.assertEqual(status, 200)
        status, _, rotated = http("POST", self.url("/v1/auth/refresh"), {"refresh_token": session["refresh_token"]})
        self.assertEqual(status, 200)
        self.assertNotEqual(rotated["refresh_token"], session["refresh_token"])

    def test_errors_arrive_as_problem_json(self):
        status, headers, body = http("GET", self.url("/v1/me"))
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("Content-Type") or headers.get("content-type"), "application/problem+json")
        self.assertEqual(body["code"], "missing_token")
        status, _, _ = http("GET", self.url("/v1/no-such-route"))
        self.assertEqual(status, 404)

    def test_concurrent_requests_queue_for_instances_instead_of_failing(self):
        import concurrent.futures as cf
        with cf.ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: http("GET", self.url("/v1/me"))[0], range(24)))
        self.assertEqual(statuses, [401] * 24)

    def test_a_crashed_instance_is_replaced(self):
        # Kill every running auth instance; the next request starts a fresh one.
        subprocess.run(["pkill", "-KILL", "-f", os.path.join(BIN_DIR, "auth")], check=False)
        time.sleep(0.5)
        status, _, _ = http("GET", self.url("/v1/me"))
        self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main()
