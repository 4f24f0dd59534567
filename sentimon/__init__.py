"""Sentimon core: settings, the Post schema, storage and the CLI shared by every part."""

__version__ = "0.1.0"
