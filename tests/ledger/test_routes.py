"""The ledger API over HTTP: tree heads and proofs that an outsider can check."""

from __future__ import annotations

import base64

import httpx

from dancu.db import Database
from dancu.ledger import merkle, service
from dancu.ledger.domain import TreeHead
from dancu.ledger.signing import Signer, verify_head
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry


def _publish(database: Database, signer: Signer) -> TreeHead:
    with database.sessions.begin() as session:
        return service.publish_tree_head(session, signer)


def test_no_head_yet_is_a_problem(http: httpx.Client, empty_ledger: Database) -> None:
    response = http.get("/ledger/tree-heads/latest")
    assert response.status_code == 404 and response.json()["code"] == "no_tree_head"


def test_heads_and_proofs_verify_outside(http: httpx.Client, writer: LedgerWriter, empty_ledger: Database,
                                         signer: Signer) -> None:
    receipts = [writer.append(make_entry(i)) for i in range(11)]
    first = _publish(empty_ledger, signer)
    receipts += [writer.append(make_entry(i)) for i in range(11, 30)]
    _publish(empty_ledger, signer)

    body = http.get("/ledger/tree-heads/latest").json()
    head = TreeHead(body["tree_size"], bytes.fromhex(body["root_hash"]), body["timestamp_ms"], body["key_id"],
                    base64.b64decode(body["signature"]))
    assert head.tree_size == 30 and verify_head(head, signer.public_key)

    proof = http.get("/ledger/entries/7/proof", params={"tree_size": 30}).json()
    assert bytes.fromhex(proof["leaf_hash"]) == receipts[7].leaf_hash
    assert merkle.verify_inclusion(receipts[7].leaf_hash, 7, 30, [bytes.fromhex(p) for p in proof["proof"]],
                                   head.root_hash)

    consistency = http.get("/ledger/consistency", params={"first": 11, "second": 30}).json()
    assert merkle.verify_consistency(11, 30, first.root_hash, head.root_hash,
                                     [bytes.fromhex(p) for p in consistency["proof"]])


def test_bad_sizes_are_client_errors(http: httpx.Client, writer: LedgerWriter, empty_ledger: Database,
                                     signer: Signer) -> None:
    writer.append(make_entry(0))
    _publish(empty_ledger, signer)
    for url, params in [("/ledger/entries/5/proof", {}), ("/ledger/entries/0/proof", {"tree_size": 9}),
                        ("/ledger/consistency", {"first": 2, "second": 1}), ("/ledger/entries/x/proof", {}),
                        ("/ledger/consistency", {"first": 0, "second": 1})]:
        response = http.get(url, params=params)
        assert 400 <= response.status_code < 500, (url, params, response.text)
