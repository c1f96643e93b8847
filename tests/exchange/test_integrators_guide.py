"""docs/integrators.md's examples, run as written against the live test server: its shell examples as one
``bash`` session (curl, jq, OpenSSL), its Python examples as one script, with only the four settings the guide
asks for (BASE, CLIENT_ID, KID, KEY_FILE, and §8's TEST_KID, TEST_KEY_FILE) pointing at a system onboarded
here, its keys, and the residents the examples name.  Every call must succeed (curl ``--fail-with-body``,
``raise_for_status``); ``text`` blocks (answers shown, refusals) are not run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from jwt.algorithms import OKPAlgorithm

from tests.agencies.factories import ClientKey
from tests.exchange.helpers import ACTOR, FIELDS, SERVICES, System, grant, onboard
from tests.registry.factories import resident_payload

GUIDE = Path(__file__).parents[2] / "docs" / "integrators.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PURPOSES = ["kyc_account_opening", "subscriber_cleansing", "dong_bo_the_bhyt"]  # what the examples declare
PEOPLE = [  # the residents the examples name
    {"personal_id": "001190012345", "full_name": "Trần Thị Hòa", "date_of_birth": "1990-02-03", "sex": "2",
     "birth_registration_province": "01", "permanent_province": "01", "permanent_commune": "00004",
     "permanent_address": "12 phố Huế"},
    {"personal_id": "079085000111", "full_name": "Lê Văn Bình", "date_of_birth": "1985-06-15", "sex": "1",
     "birth_registration_province": "79"},
]


def examples(language: str) -> list[str]:
    """The guide's ``language`` blocks, in order."""
    return [match.group(2) for match in FENCE.finditer(GUIDE.read_text(encoding="utf-8"))
            if match.group(1) == language]


def pem(key: ClientKey, path: Path) -> str:
    path.write_bytes(key.private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return str(path)


@pytest.fixture(scope="module")
def system(exchange_server: str) -> System:
    with httpx.Client(base_url=exchange_server, timeout=30) as client:
        system = onboard(client, grant(services=SERVICES, fields=FIELDS, purposes=PURPOSES, sources=["bhyt"]))
        for person in PEOPLE:
            response = client.post("/registry/residents", json=resident_payload(**person), headers=ACTOR)
            assert response.status_code in (201, 409), response.text  # 409: already there from an earlier run
    return system


@pytest.fixture
def settings(system: System, exchange_server: str, tmp_path: Path) -> dict[str, str]:
    """The guide's settings (§2, and §8's for the test key) for the onboarded system and its two keys."""
    return {"BASE": exchange_server, "CLIENT_ID": system.identifier, "KID": system.key.kid,
            "KEY_FILE": pem(system.key, tmp_path / "ekyc.pem"), "TEST_KID": system.test_key.kid,
            "TEST_KEY_FILE": pem(system.test_key, tmp_path / "ekyc-test.pem")}


def run(command: list[str], settings: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **settings}, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


needs_shell_tools = pytest.mark.skipif(not all(shutil.which(t) for t in ("bash", "curl", "jq", "openssl")),
                                       reason="the shell examples need bash, curl, jq and openssl")


@needs_shell_tools
def test_the_shell_examples_run_as_written(settings: dict[str, str], system: System, tmp_path: Path) -> None:
    script = "set -euo pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n" + "\n".join(examples("sh"))
    out = run(["bash", "-c", script], settings, tmp_path)
    jwk = json.loads(next(line for line in out.splitlines() if line.startswith('{"kty"')))
    assert jwk == {"kty": "OKP", "crv": "Ed25519", "x": system.key.public_jwk["x"], "kid": system.key.kid}
    assert '"match":true' in out and '"code":"ok"' in out  # verify, and retrieve's record
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [(r["line"], r["match"]) for r in results] == [(1, True), (2, True)]
    assert '"source":"bhyt"' in out  # the pushes' reports


@needs_shell_tools
def test_the_key_the_shell_example_makes_is_the_jwk_it_prints(tmp_path: Path) -> None:
    """§2's key block, where no key exists yet: it makes one, and the JWK it prints is that key's public half."""
    key_file = tmp_path / "new.pem"
    script = "set -euo pipefail\n" + "\n".join(examples("sh")[:2])
    out = run(["bash", "-c", script], {"KEY_FILE": str(key_file), "KID": "k-1"}, tmp_path)
    private = load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    expected = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    assert json.loads(out.splitlines()[-1]) == {**expected, "kid": "k-1"}


def test_the_python_examples_run_as_written(settings: dict[str, str], tmp_path: Path) -> None:
    script = "\n\n".join(examples("python"))
    out = run([sys.executable, "-c", script], settings, tmp_path)
    assert "verify: True" in out
    assert "batch: [(0, True, 'ok'), (1, True, 'ok')]" in out
    assert "request hash: " in out
    assert "record 1 rejected: identifier_malformed" in out  # the push example's second record
    assert "sandbox verify: True" in out and "outside the sandbox: 403 test_credentials_sandbox_only" in out  # §8
