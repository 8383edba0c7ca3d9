"""TLS to Postgres: with DATABASE_CA_FILE the functions connect over verified TLS (what
RDS with rds.force_ssl needs); a server that accepts only TLS refuses them without it,
and a certificate from another CA is refused. Uses a throwaway cluster with ssl=on and
the real `migrate` binary."""
import os
import shutil
import socket
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("BIN_DIR", os.path.join(ROOT, "target", "debug"))
WORK = os.path.join(ROOT, "target", "pg-tls")


def pg_bin(name):
    for version in sorted(os.listdir("/usr/lib/postgresql"), reverse=True):
        path = f"/usr/lib/postgresql/{version}/bin/{name}"
        if os.path.exists(path):
            return path
    return shutil.which(name)


def as_postgres(cmd):
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def certificate_authority(prefix):
    """A CA, as RDS has one: its certificate is what DATABASE_CA_FILE holds."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", f"{prefix}.key",
            "-out", f"{prefix}.crt", "-subj", f"/CN={os.path.basename(prefix)} test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")


def server_certificate(prefix, ca):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{prefix}.key", "-out", f"{prefix}.csr",
            "-subj", "/CN=localhost")
    ext = f"{prefix}.ext"
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", f"{prefix}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "1", "-out", f"{prefix}.crt", "-extfile", ext)


class PostgresTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORK, ignore_errors=True)
        data = os.path.join(WORK, "data")
        os.makedirs(data)
        certificate_authority(os.path.join(WORK, "ca"))
        certificate_authority(os.path.join(WORK, "stranger"))
        server_certificate(os.path.join(WORK, "server"), os.path.join(WORK, "ca"))
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres", WORK], check=True)
        os.chmod(os.path.join(WORK, "server.key"), 0o600)
        subprocess.run(as_postgres([pg_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]),
                       check=True, capture_output=True)
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\nhostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            cls.port = s.getsockname()[1]
        opts = (f"-p {cls.port} -k {WORK} -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on "
                f"-c ssl_cert_file={WORK}/server.crt -c ssl_key_file={WORK}/server.key")
        subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", data, "-l", f"{WORK}/log", "-w", "-o", opts, "start"]),
                       check=True, capture_output=True)
        cls.data = data
        subprocess.run(as_postgres([pg_bin("psql"), "-h", WORK, "-p", str(cls.port), "-U", "postgres", "-d", "postgres",
                                    "-c", "CREATE ROLE adpilot_owner LOGIN CREATEROLE",
                                    "-c", "CREATE DATABASE adpilot OWNER adpilot_owner"]), check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(as_postgres([pg_bin("pg_ctl"), "-D", cls.data, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(WORK, ignore_errors=True)

    def migrate(self, ca_file):
        env = dict(os.environ, DATABASE_OWNER_URL=f"postgres://adpilot_owner@127.0.0.1:{self.port}/adpilot")
        env.pop("DATABASE_CA_FILE", None)
        if ca_file:
            env["DATABASE_CA_FILE"] = ca_file
        return subprocess.run([os.path.join(BIN_DIR, "migrate")], env=env, capture_output=True, text=True, timeout=120)

    def test_a_tls_only_server_is_reached_with_the_ca_and_refused_without(self):
        plain = self.migrate(None)
        self.assertNotEqual(plain.returncode, 0, "a plain connection must be rejected by this server")
        trusted = self.migrate(os.path.join(WORK, "ca.crt"))
        self.assertEqual(trusted.returncode, 0, trusted.stderr[-800:])
        self.assertIn("applied", trusted.stdout)

    def test_a_server_certificate_from_another_ca_is_refused(self):
        stranger = self.migrate(os.path.join(WORK, "stranger.crt"))
        self.assertNotEqual(stranger.returncode, 0)


if __name__ == "__main__":
    unittest.main()
