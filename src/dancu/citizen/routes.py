"""Every router of the citizen channels: SMS webhook, portal pages, the correction queue's API."""

from __future__ import annotations

from fastapi import APIRouter

from dancu.citizen.corrections.routes import router as corrections
from dancu.citizen.portal.routes import router as portal
from dancu.citizen.sms.routes import router as sms

router = APIRouter()
router.include_router(sms)
router.include_router(portal)
router.include_router(corrections)
