"""Production: everything from base.py, tightened. DEBUG is always off and
SECRET_KEY has no default (base.py refuses to start without it)."""

import os

os.environ["DEBUG"] = "false"

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

DEBUG = False
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=60)
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
