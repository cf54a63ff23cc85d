"""The WSGI entry point (`gunicorn wsgi:app`) and the `flask --app wsgi` CLI's app."""

import sys

from dotenv import load_dotenv

from adapter import create_app
from adapter.errors import ConfigurationError

load_dotenv()
try:
    app = create_app()
except ConfigurationError as exc:
    # One line an operator can act on, not a traceback.
    print(f"adapter: {exc}", file=sys.stderr)
    sys.exit(2)
