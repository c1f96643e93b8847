"""Every router of the citizen channels: SMS webhook, portal pages, e-ID login, the correction queue's API."""

from __future__ import annotations

from fastapi import APIRouter

from dancu.citizen.corrections.routes import router as corrections
from dancu.citizen.eid.routes import router as eid
from dancu.citizen.portal.routes import router as portal
from dancu.citizen.sms.routes import router as sms

router = APIRouter()
router.include_router(sms)
router.include_router(portal)
router.include_router(eid)
router.include_router(corrections)
