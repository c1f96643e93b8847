"""The ASGI app built from settings, for ``uvicorn dancu.server:app``."""

from dancu.app import create_app
from dancu.config import get_settings
from dancu.db import get_database
from dancu.kit.logs import configure_logging

_settings = get_settings()
configure_logging(_settings.log_level, _settings.log_json)
app = create_app(get_database())
