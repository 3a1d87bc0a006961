"""Checks against a running portal (used by smoke_make_run.sh): a page, the API, the worker."""

import sys
import time

import requests

BASE, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]


def check(condition, message):
    if not condition:
        print(f"[smoke] FAIL: {message}")
        sys.exit(1)
    print(f"[smoke] ok: {message}")


page = requests.get(f"{BASE}/accounts/login/", timeout=10)
check(page.status_code == 200 and "Log in" in page.text, "the login page renders")
ready = requests.get(f"{BASE}/readyz", timeout=10).json()
check(ready["checks"]["redis"] == "ok" and not ready["degraded"], f"redis started by make run ({ready})")

token = requests.post(f"{BASE}/api/v1/auth/token/", json={"username": USER, "password": PASSWORD}, timeout=10)
check(token.status_code == 201, f"the printed admin password logs in ({token.status_code})")
s = requests.Session()
s.headers["Authorization"] = f"Token {token.json()['token']}"
team = s.get(f"{BASE}/api/v1/teams/", timeout=10).json()["results"][0]["id"]


def run_sync(host_id):
    resp = s.post(f"{BASE}/api/v1/hosts/{host_id}/sync/", timeout=10)
    check(resp.status_code == 202, f"sync queued an operation ({resp.status_code} {resp.text[:200]})")
    url = resp.json()["url"]
    deadline = time.time() + 60
    while time.time() < deadline:
        op = s.get(url, timeout=10).json()
        if op["status"] in ("succeeded", "failed", "cancelled"):
            return op
        time.sleep(0.5)
    check(False, "the worker finished the operation within 60 s")


local = s.post(f"{BASE}/api/v1/hosts/", json={"team": team, "name": "local", "url": "unix:///var/run/docker.sock"}, timeout=10)
check(local.status_code == 201, f"registered the local engine ({local.status_code} {local.text[:200]})")
op = run_sync(local.json()["id"])
check(op["status"] == "succeeded", f"the worker ran the sync task ({op['status']} {op['error']})")
host = s.get(f"{BASE}/api/v1/hosts/{local.json()['id']}/", timeout=10).json()
check(host["status"] == "up" and host["engine_version"], f"the engine answered ({host['engine_version']})")

# A TLS key saved through the web process must be readable by the worker (same keys).
import datetime  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def pem_cert(subject, issuer, public_key, signing_key, ca):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(signing_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


ca_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
ca_pem = pem_cert("smoke-ca", "smoke-ca", ca_key.public_key(), ca_key, True)
cert_pem = pem_cert("smoke-client", "smoke-ca", client_key.public_key(), ca_key, False)
key_pem = client_key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
remote = s.post(
    f"{BASE}/api/v1/hosts/",
    json={"team": team, "name": "tls-closed-port", "url": "tcp://127.0.0.1:1",
          "tls_ca_cert": ca_pem, "tls_client_cert": cert_pem, "tls_client_key": key_pem},
    timeout=10,
)
check(remote.status_code == 201, f"registered a TLS host ({remote.status_code} {remote.text[:300]})")
op = run_sync(remote.json()["id"])
error = op["error"] or ""
check(op["status"] == "failed" and "decrypt" not in error.lower(), f"the worker decrypted the key saved by web ({error[:160]})")
print("[smoke] all checks passed")
