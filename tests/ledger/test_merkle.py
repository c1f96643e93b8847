"""RFC 9162 Merkle tree: the Certificate Transparency test vectors and properties for random sizes."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given, settings

from dancu.ledger import merkle

CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [merkle.leaf_hash(d) for d in CT_LEAVES]


def _hex(path: list[bytes]) -> list[str]:
    return [p.hex() for p in path]


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_roots_match_rfc6962_vectors() -> None:
    for n in range(1, 9):
        assert merkle.root(LEAVES[:n]).hex() == CT_ROOTS[n - 1]
        frontier = merkle.Frontier()
        frontier.extend(LEAVES[:n])
        assert frontier.root().hex() == CT_ROOTS[n - 1]


def test_inclusion_proofs_match_vectors() -> None:
    sub = merkle.in_memory(LEAVES)
    assert _hex(merkle.inclusion_proof(0, 8, sub)) == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]
    assert _hex(merkle.inclusion_proof(5, 8, sub)) == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]
    assert _hex(merkle.inclusion_proof(2, 3, sub)) == [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]
    assert _hex(merkle.inclusion_proof(1, 5, sub)) == [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]


def test_consistency_proof_matches_vector() -> None:
    sub = merkle.in_memory(LEAVES)
    assert _hex(merkle.consistency_proof(1, 8, sub)) == _hex(merkle.inclusion_proof(0, 8, sub))
    assert merkle.consistency_proof(8, 8, sub) == []


def test_rfc9162_example_tree_of_seven() -> None:
    a, b, c, d, e, f, j = LEAVES[:7]
    g, h, i = merkle.node_hash(a, b), merkle.node_hash(c, d), merkle.node_hash(e, f)
    k, ll = merkle.node_hash(g, h), merkle.node_hash(i, j)
    sub = merkle.in_memory(LEAVES[:7])
    assert merkle.inclusion_proof(0, 7, sub) == [b, h, ll]
    assert merkle.inclusion_proof(3, 7, sub) == [c, g, ll]
    assert merkle.inclusion_proof(4, 7, sub) == [f, j, k]
    assert merkle.inclusion_proof(6, 7, sub) == [i, k]
    assert merkle.consistency_proof(3, 7, sub) == [c, d, g, ll]
    assert merkle.consistency_proof(4, 7, sub) == [ll]
    assert merkle.consistency_proof(6, 7, sub) == [i, j, k]


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def _flip(proof: list[bytes], at: int) -> list[bytes]:
    bad = list(proof)
    bad[at] = bytes([bad[at][0] ^ 1]) + bad[at][1:]
    return bad


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_inclusion_proof_verifies_and_tampered_ones_fail(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    index = data.draw(st.integers(0, size - 1))
    root, sub = merkle.root(leaves), merkle.in_memory(leaves)
    proof = merkle.inclusion_proof(index, size, sub)
    assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), index, size, proof, root)
    if size > 1:
        other = (index + 1) % size
        assert not merkle.verify_inclusion(leaves[index], other, size, proof, root)
        assert not merkle.verify_inclusion(leaves[index], index, size, _flip(proof, 0), root)
        assert not merkle.verify_inclusion(leaves[index], index, size, proof[:-1], root)
    assert not merkle.verify_inclusion(leaves[index], index, size, [*proof, root], root)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_consistency_proofs_verify_and_fail_for_altered_roots(second: int, data: st.DataObject) -> None:
    leaves = _leaves(second)
    first = data.draw(st.integers(1, second))
    r1, r2 = merkle.root(leaves[:first]), merkle.root(leaves)
    proof = merkle.consistency_proof(first, second, merkle.in_memory(leaves))
    assert merkle.verify_consistency(first, second, r1, r2, proof)
    wrong = merkle.leaf_hash(b"wrong root")
    assert not merkle.verify_consistency(first, second, wrong, r2, proof)
    assert not merkle.verify_consistency(first, second, r1, wrong, proof)
    if proof:
        assert not merkle.verify_consistency(first, second, r1, r2, _flip(proof, len(proof) - 1))


def test_all_consistency_proofs_of_small_trees() -> None:
    leaves = _leaves(40)
    sub = merkle.in_memory(leaves)
    for n in range(1, 41):
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(m, n, sub)
            assert merkle.verify_consistency(m, n, merkle.root(leaves[:m]), merkle.root(leaves[:n]), proof)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 600), st.integers(0, 300))
def test_frontier_extends_incrementally(first: int, more: int) -> None:
    leaves = _leaves(first + more)
    frontier = merkle.Frontier()
    frontier.extend(leaves[:first])
    restored = merkle.Frontier.from_bytes(first, frontier.to_bytes())
    restored.extend(leaves[first:])
    assert restored.root() == merkle.root(leaves)
    assert [end - start for start, end in restored.ranges()] == [
        1 << b for b in reversed(range(restored.size.bit_length())) if restored.size >> b & 1]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 300), st.integers(1, 4))
def test_recorded_nodes_are_the_roots_of_their_subtrees(size: int, min_level: int) -> None:
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(size)]
    frontier, nodes = merkle.Frontier(), list[tuple[int, int, bytes]]()
    for leaf in leaves:
        frontier.append_recording(leaf, min_level, nodes)
    assert frontier.root() == merkle.root(leaves)
    expected = {(level, idx) for level in range(min_level, size.bit_length())
                for idx in range(size >> level)}
    assert {(level, idx) for level, idx, _ in nodes} == expected
    for level, idx, node in nodes:
        assert node == merkle.root(leaves[idx << level:(idx + 1) << level])
