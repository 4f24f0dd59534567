"""infra/run-tests.sh (the body of `make test` and CI) fails when pytest collects nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SENTIMON_TEST_STACK": "0"}  # the stack's own start and stop are tested elsewhere
    return subprocess.run(
        ["bash", str(ROOT / "infra" / "run-tests.sh"), *args, "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_no_tests_collected_is_a_failure(tmp_path: Path) -> None:
    empty = tmp_path / "no_tests_here"
    empty.mkdir()
    done = _run([str(empty)])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "collected no tests" in done.stderr


def test_pytest_status_passes_through(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text(
        "def test_fails():\n    assert 1 == 2\n\ndef test_passes():\n    pass\n"
    )
    done = _run([str(tmp_path / "test_one.py")])
    assert done.returncode == 1 and "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    (tmp_path / "test_one.py").write_text("def test_passes():\n    pass\n")
    assert _run([str(tmp_path / "test_one.py")]).returncode == 0
