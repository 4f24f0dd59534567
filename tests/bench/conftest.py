"""Bench tests use the same model as the worker tests: the shipped one, else a small random one."""

from tests.stream_processor.conftest import model_path  # noqa: F401  (a fixture, shared)
