"""gunicorn entry point for Keystone.

Keystone parses sys.argv through oslo.config when its WSGI module is
imported; gunicorn's own flags would make it exit. Hide them first.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401
