"""The WSGI entry point (`gunicorn wsgi:app`) and the `flask --app wsgi` CLI's app."""

from dotenv import load_dotenv

from adapter import create_app

load_dotenv()
app = create_app()
