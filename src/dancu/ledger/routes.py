"""Exchange-log API: signed tree heads and RFC 9162 proofs; inspection and access history (inspection_routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dancu.kit.http import DbSession as DB
from dancu.ledger import service
from dancu.ledger.inspection_routes import router as inspection_router
from dancu.ledger.schemas import ConsistencyProofOut, InclusionProofOut, TreeHeadOut

router = APIRouter(prefix="/ledger", tags=["ledger"])


@router.get("/tree-heads/latest", summary="The latest signed tree head (gốc cây nhật ký đã ký)")
def latest_tree_head(session: DB) -> TreeHeadOut:
    return TreeHeadOut.of(service.latest_head(session))


@router.get("/entries/{seq}/proof", summary="Inclusion proof of one entry in a tree of the given size")
def inclusion_proof(session: DB, seq: int, tree_size: Annotated[int | None, Query(ge=1)] = None
                    ) -> InclusionProofOut:
    return InclusionProofOut.model_validate(service.inclusion(session, seq, tree_size))


@router.get("/consistency", summary="Consistency proof between two tree sizes")
def consistency_proof(session: DB, first: Annotated[int, Query(ge=1)], second: Annotated[int, Query(ge=1)]
                      ) -> ConsistencyProofOut:
    return ConsistencyProofOut.model_validate(service.consistency(session, first, second))


router.include_router(inspection_router)
