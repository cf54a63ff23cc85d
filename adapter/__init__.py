"""The provider-neutral core of the SMS channel adapter."""

from .app import create_app

__all__ = ["create_app"]
