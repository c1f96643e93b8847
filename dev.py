#!/usr/bin/env python3
"""Newcomer's entry point; needs only Python 3.11+.

    python3 dev.py up      install into .venv, start the embedded database, load a synthetic population, serve the API
    python3 dev.py test    install into .venv with the test tools and run the whole test suite

Extra arguments go to ``dancu up`` or ``pytest``.  Installation is skipped when pyproject.toml and
constraints.txt have not changed since the last one.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
INSTALL_INPUTS = ("pyproject.toml", "constraints.txt")


def _fingerprint(extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for name in INSTALL_INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_installed(extra: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 — this file runs on whatever python3 the newcomer has
        sys.exit(f"dancu needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extra or 'base'}"
    wanted = _fingerprint(extra)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    target = f".[{extra}]" if extra else "."
    print(f"installing dancu{'[' + extra + ']' if extra else ''} into .venv …", flush=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-c", str(ROOT / "constraints.txt"), "-e", target], cwd=ROOT, check=True)
    stamp.write_text(wanted)


def ensure_test_peers() -> None:
    """What the browser and SMSC tests need: Debian's chromium and the npm test peers (tests skip without them)."""
    import shutil

    if Path("/usr/bin/chromium").exists():
        pass
    elif hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing chromium (apt-get) for the browser tests …", flush=True)
        subprocess.run(["apt-get", "update", "-q"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False)
    else:
        print("notice: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get); "
              "browser tests will be skipped", flush=True)
    peers = ROOT / "tests" / "peers"
    wanted = json.loads((peers / "package.json").read_text())["dependencies"]
    if all((peers / "node_modules" / name).exists() for name in wanted):
        return
    if shutil.which("node") and shutil.which("npm"):
        print("installing the npm test peers (npm ci --prefix tests/peers) …", flush=True)
        subprocess.run(["npm", "ci", "--prefix", str(peers), "--no-audit", "--no-fund"], check=False)
    else:
        print("notice: node/npm not found; the SMPP (SMSC) and e-ID (OIDC provider) tests will be skipped",
              flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("up", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "up":
        ensure_installed("")
        return subprocess.call([str(BIN / "dancu"), "up", *rest], cwd=ROOT)
    ensure_installed("dev")
    ensure_test_peers()
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
