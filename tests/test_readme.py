"""Every `convscope ...` command and every Python block of the README, run as written in a fresh
directory holding a copy of `examples/` (what a clone's root has): each succeeds (`doctor`, whose
example model is broken on purpose, exits 1 as the README says), and prints what it promises."""

from __future__ import annotations

import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)
COMMANDS = [line.split("  #")[0].strip() for kind, body in BLOCKS if kind == "bash"
            for line in body.splitlines() if line.startswith("convscope ")]
PYTHON = [body for kind, body in BLOCKS if kind == "python"]
EXPECTED_EXIT = {"doctor": 1}           # the README says so: the model fails, and doctor says where
PROMISES = {"size": "13", "trace": "total params 61,706", "doctor": "fix: nn.Linear(2048, 10)",
            "lab": "# check:", "tour": "# check:", "quiz": "right"}


@pytest.fixture()
def fresh(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def test_the_readme_has_the_commands_it_should():
    assert len(COMMANDS) >= 8 and len(PYTHON) >= 1
    assert {shlex.split(c)[1] for c in COMMANDS} >= {"lab", "size", "filter", "trace", "doctor", "experiment",
                                                     "quiz", "tour", "notebooks"}


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "convscope", *shlex.split(command)[1:]]
    env = {**os.environ, "COLUMNS": "100"}
    if shlex.split(command)[1] != "quiz":
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    # the quiz asks in a terminal: a pseudo-terminal answers A to every question
    leader, follower = pty.openpty()
    try:
        os.write(leader, b"A\n" * 12)
        return subprocess.run(args, cwd=cwd, stdin=follower, capture_output=True, text=True, timeout=120, env=env)
    finally:
        os.close(leader)
        os.close(follower)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_runs_as_written(fresh, command):
    done = _run(command, fresh)
    name = shlex.split(command)[1]
    assert done.returncode == EXPECTED_EXIT.get(name, 0), (command, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr
    if name in PROMISES:
        assert PROMISES[name] in done.stdout, (command, done.stdout[-2000:])
    for word in shlex.split(command):   # every file it names is written
        if word.endswith((".png", "/shuffle")):
            assert (fresh / word).exists(), word


@pytest.mark.parametrize("block", PYTHON, ids=[f"python-{i}" for i in range(len(PYTHON))])
def test_each_python_block_runs_as_written(fresh, block):
    done = subprocess.run([sys.executable, "-c", block], cwd=fresh, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
