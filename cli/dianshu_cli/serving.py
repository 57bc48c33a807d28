"""The app factory of `dianshu serve --workers N`: each server process imports this and builds its
own app from the environment's settings (the same the parent read)."""

from __future__ import annotations

import logging

from starlette.applications import Starlette


def app() -> Starlette:
    from dianshu.config import get_settings
    from dianshu.logs import configure
    from dianshu_graphql.app import create_app
    from dianshu_workers.actors import ACTORS  # noqa: F401  (configures the job dispatcher)

    settings = get_settings()
    configure(settings.profile, logging.INFO)
    return create_app(settings)
