"""The local web lab: FastAPI (JSON API + static pages), started by ``convscope serve``."""
