"""The local gateway itself, with two fake functions: one instance serves one request at
a time, more start on demand up to the limit, requests beyond it wait instead of failing,
and a function that dies mid-request costs that request a 502 and is replaced."""
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixtures", "gateway")
GATEWAY = os.path.join(os.path.dirname(HERE), "gateway.py")
LOG = os.path.join(os.path.dirname(os.path.dirname(HERE)), "target", "gateway-test.log")


def call(method, url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method, data=b"" if method == "POST" else None),
                                    timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Gateway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(os.path.dirname(LOG), exist_ok=True)
        cls.log = open(LOG, "w")
        cls.proc = subprocess.Popen(
            [sys.executable, GATEWAY, "--template", os.path.join(FIXTURE, "template.yaml"), "--bin-dir", FIXTURE,
             "--port", "0", "--max-instances", "2", "--queue-limit", "50"],
            stdout=subprocess.PIPE, stderr=cls.log, text=True, start_new_session=True)
        cls.base = cls.proc.stdout.readline().split()[1]

    @classmethod
    def tearDownClass(cls):
        os.killpg(cls.proc.pid, signal.SIGTERM)
        cls.proc.wait(timeout=20)
        cls.log.close()

    def events(self, name):
        self.log.flush()
        with open(LOG) as f:
            return [e for e in (json.loads(line) for line in f if line.startswith("{")) if e.get("event") == name]

    def test_requests_beyond_the_instance_limit_wait_and_all_succeed(self):
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda n: call("GET", f"{self.base}/slow/{n}"), range(8)))
        self.assertEqual([status for status, _ in results], [200] * 8)
        self.assertEqual(sorted(int(body["n"]) for _, body in results), list(range(8)))
        self.assertEqual(results[0][1]["route"], "GET /slow/{n}")
        pids = {body["pid"] for _, body in results}
        self.assertLessEqual(len(pids), 2, "never more instances than the limit")
        ready = [e for e in self.events("instance_ready") if e["function"] == "SlowFunction"]
        self.assertTrue(ready and all(e["init_duration_ms"] >= 0 for e in ready), "init durations are logged")

    def test_a_function_that_dies_mid_request_gives_502_and_is_replaced(self):
        first, _ = call("POST", f"{self.base}/crash")
        second, _ = call("POST", f"{self.base}/crash")
        self.assertEqual((first, second), (502, 502))
        exits = [e for e in self.events("instance_exited") if e["function"] == "CrashFunction"]
        self.assertGreaterEqual(len(exits), 1)
        # The other function is unaffected.
        self.assertEqual(call("GET", f"{self.base}/slow/1")[0], 200)

    def test_unknown_routes_are_api_gateway_404s(self):
        self.assertEqual(call("GET", f"{self.base}/nope"), (404, {"message": "Not Found"}))
        self.assertEqual(call("POST", f"{self.base}/slow/1")[0], 404)


if __name__ == "__main__":
    unittest.main()
