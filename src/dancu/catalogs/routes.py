"""STUB — replaced by this capability's routes."""
from fastapi import APIRouter

router = APIRouter()
