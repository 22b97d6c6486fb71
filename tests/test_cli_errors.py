"""Hostile command lines (issue 12): every error the user causes is one ``error:`` line on stderr,
exit code 2, no traceback, and the message names the fix. Nothing is written, trained or
allocated before the request is known to be good."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import console_script
from typer.testing import CliRunner

from convscope.cli import app

runner = CliRunner()
NETS = str(Path(__file__).with_name("nets.py"))
PROC = Path("/proc")
needs_proc = pytest.mark.skipif(not (PROC / "self").is_dir(), reason="needs Linux's /proc")


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def assert_error(result, *fragments: str, fix: str = "Fix:") -> str:
    """Exit 2, exactly one non-empty stderr line starting with ``error:``, no traceback, the fix named."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip() and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in (*fragments, fix):
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def script(*args: object, memory_limit: int | None = None, timeout: int = 120) -> dict:
    """Run the console script in a wrapper that limits its address space (so a request that did
    allocate would fail instead of swamping the machine) and reports its peak resident memory."""
    wrapper = (
        "import json, resource, subprocess, sys\n"
        "limit = int(sys.argv[1])\n"
        "if limit: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "done = subprocess.run(sys.argv[2:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024\n"
        "print(json.dumps({'rc': done.returncode, 'stdout': done.stdout, 'stderr': done.stderr, 'peak': peak}))\n")
    done = subprocess.run([sys.executable, "-c", wrapper, str(memory_limit or 0), console_script(),
                           *map(str, args)], capture_output=True, text=True, timeout=timeout, check=True)
    return json.loads(done.stdout)


def assert_script_error(run: dict, *fragments: str) -> str:
    assert run["rc"] == 2, run
    lines = run["stderr"].splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in run["stderr"], run["stderr"]
    for fragment in (*fragments, "Fix:"):
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture()
def fifo(tmp_path):
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    return path


@pytest.fixture()
def no_work(monkeypatch):
    """Fail the test if any experiment, bench or exercise actually starts."""
    def refuse(*args, **kwargs):
        raise AssertionError("the work started although the request was bad")
    import convscope.bench
    import convscope.experiments
    import convscope.lessons.sobel_exercise

    monkeypatch.setattr(convscope.experiments, "run_experiments", refuse)
    monkeypatch.setattr(convscope.bench, "run_bench", refuse)
    monkeypatch.setattr(convscope.bench, "run_ladder", refuse)
    monkeypatch.setattr(convscope.lessons.sobel_exercise, "run_exercise", refuse)


# --- --out: a file ----------------------------------------------------------------------------

@needs_proc
@pytest.mark.parametrize("command", [["filter", "camera", "--kernel", "sobel_x"], ["gallery"]])
def test_out_file_in_a_folder_that_takes_no_files(command):
    assert_error(invoke(*command, "--out", "/proc/o.png"), "cannot write '/proc/o.png'", "choose another --out")


def test_out_file_in_a_missing_folder_is_refused_not_created(tmp_path):
    missing = tmp_path / "no" / "such"
    for command in (["filter", "camera", "--kernel", "sobel_x"], ["gallery"]):
        assert_error(invoke(*command, "--out", missing / "o.png"), "an existing folder", "create the folder first")
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_file_in_a_read_only_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert_error(invoke("filter", "camera", "--kernel", "sobel_x", "--out", folder / "o.png"), "refuses them")
    finally:
        folder.chmod(0o755)


def test_out_file_that_is_a_folder_or_under_a_file(tmp_path, fifo):
    (tmp_path / "edges.png").mkdir()
    assert_error(invoke("filter", "camera", "--kernel", "box3", "--out", tmp_path / "edges.png"), "got a folder")
    assert_error(invoke("filter", "camera", "--kernel", "box3", "--out", fifo), "FIFO")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert_error(invoke("gallery", "--out", plain / "g.png"), "is a file, not a folder")
    assert_error(invoke("filter", "camera", "--kernel", "box3", "--out", ""), "a .png file name")


# --- --out: a folder --------------------------------------------------------------------------

def _folder_commands(out: object) -> list[list[object]]:
    return [["experiment", "run", "parameter-sharing", "--quick", "--out", out], ["report", "--quick", "--out", out],
            ["exercise", "sobel", "--steps", "1", "--out", out], ["bench", "--quick", "--cases", "a", "--out", out],
            ["bench", "--quick", "--ladder", "a", "--out", out]]


def test_out_folder_that_is_an_existing_file(tmp_path, no_work):
    existing = tmp_path / "taken"
    existing.write_text("keep me")
    for command in _folder_commands(existing):
        assert_error(invoke(*command), "expected a folder", "got a file", "choose another --out")
    assert existing.read_text() == "keep me"


@needs_proc
def test_out_folder_where_no_folder_can_be_made(no_work):
    for command in _folder_commands("/proc/exp"):
        assert_error(invoke(*command), "cannot write '/proc/exp'", "choose another --out")


def test_out_folder_below_a_file_or_empty(tmp_path, no_work):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    for command in _folder_commands(plain / "sub" / "dir"):
        assert_error(invoke(*command), "is a file", "choose another --out")
    for command in _folder_commands(""):
        assert_error(invoke(*command), "--out is empty", "--out results")


def test_out_folder_with_a_folder_where_a_result_file_goes(tmp_path, no_work):
    (tmp_path / "results.json").mkdir()
    assert_error(invoke("experiment", "run", "parameter-sharing", "--out", tmp_path), "results.json", "remove it")


def test_a_missing_out_folder_is_created_only_once_there_is_something_to_write(tmp_path, monkeypatch):
    """The check creates the folder to try it, and removes it again: a request that fails later
    (here the experiment itself) leaves nothing at --out."""
    import convscope.experiments
    from convscope.engine.errors import ConvScopeError

    def fails(*args, **kwargs):
        raise ConvScopeError("the experiment failed", fix="none needed")
    monkeypatch.setattr(convscope.experiments, "run_experiments", fails)
    assert_error(invoke("experiment", "run", "parameter-sharing", "--out", tmp_path / "a" / "b" / "c"),
                 "the experiment failed")
    assert not (tmp_path / "a").exists()


def test_unknown_experiment_is_refused_before_the_out_check(tmp_path):
    assert_error(invoke("experiment", "run", "nope", "--out", "/proc/exp"), "unknown experiment",
                 "convscope experiment list")


# --- seeds ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [str(2**64), str(-1), "9" * 40, str(-(2**70))])
def test_seeds_beyond_64_bits_or_negative(tmp_path, no_work, seed):
    for command in (["quiz", "--json"], ["experiment", "run", "shuffle", "--quick", "--out", tmp_path / "e"],
                    ["report", "--quick", "--out", tmp_path / "r"], ["exercise", "sobel", "--out", tmp_path / "s"]):
        assert_error(invoke(*command, "--seed", seed), "the seed is out of range", "--seed 0")
    assert not list(tmp_path.iterdir())


def test_the_largest_seed_works():
    result = invoke("quiz", "--json", "--n", "1", "--seed", str(2**64 - 1))
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["questions"]) == 1


def test_seed_that_is_not_a_number():
    assert_error(invoke("quiz", "--json", "--seed", "²"), "--seed", fix="--help")


# --- numbers and strings ----------------------------------------------------------------------

def test_size_padding_with_a_non_ascii_digit():
    assert_error(invoke("size", "28", "--kernel", "3", "--padding", "²"), "padding", "'²'", "an integer")


def test_size_padding_with_a_unicode_decimal_digit_is_that_number():
    result = invoke("size", "28", "--kernel", "3", "--padding", "３")  # int("３") == 3, as click reads ints
    assert result.exit_code == 0 and "= 31 + 1 = 32" in result.stdout, result.output


@pytest.mark.parametrize("args, fragment", [
    (["size", "28", "--kernel", "3", "--padding", ""], "padding"),
    (["size", "28", "--kernel", "3", "--padding", "-99999999999999999999"], "must not be negative"),
    (["size", "28", "--kernel", "99999999999999999999"], "kernel is larger"),
    (["size", "28", "--kernel", "0"], "kernel_size must be positive"),
])
def test_size_hostile_numbers(args, fragment):
    assert_error(invoke(*args), fragment)


@pytest.mark.parametrize("args, fragment", [
    (["filter", "camera", "--kernel", "sobel_x", "--max-pixels", "0", "--out", "{tmp}/o.png"], "--max-pixels"),
    (["filter", "camera", "--kernel", "sobel_x", "--max-pixels", "-5", "--out", "{tmp}/o.png"], "--max-pixels"),
    (["quiz", "--json", "--n", "99999999999999999999"], "--n"),
    (["serve", "--port", "99999999999999999999"], "--port"),
    (["trace", NETS + ":LeNet", "--input", "1,1,28,28", "--depth", "0"], "--depth"),
])
def test_out_of_range_options_are_usage_errors(tmp_path, args, fragment):
    assert_error(invoke(*[a.replace("{tmp}", str(tmp_path)) for a in args]), fragment, fix="--help")


def test_a_gaussian_kernel_too_large_to_build(tmp_path):
    assert_error(invoke("filter", "camera", "--kernel", "gaussian999999_s2", "--out", tmp_path / "o.png"),
                 "too large", "gaussian13_s2")
    assert not (tmp_path / "o.png").exists()


# --- files the command reads ------------------------------------------------------------------

def test_images_that_are_devices_fifos_folders_or_empty(tmp_path, fifo):
    out = tmp_path / "o.png"
    for source, what in (("/dev/zero", "a device"), (fifo, "a FIFO"), (tmp_path, "a folder")):
        assert_error(invoke("filter", source, "--kernel", "box3", "--out", out), what, "check the path")
        assert_error(invoke("gallery", "--image", source, "--out", out), what)
        assert_error(invoke("exercise", "sobel", "--image", source, "--out", tmp_path / "ex"), what)
    assert_error(invoke("filter", "", "--kernel", "box3", "--out", out), "no image named", "camera")
    assert not out.exists() and not (tmp_path / "ex").exists()


def test_kernel_files_that_are_devices_fifos_or_huge(tmp_path, fifo):
    out = tmp_path / "o.png"
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # sparse: 2 MiB on paper, nothing on disk
        handle.truncate(2 << 20)
    for path, what in (("/dev/zero", "a device"), (fifo, "a FIFO"), (huge, "too large"), ("", "is empty")):
        assert_error(invoke("filter", "camera", "--kernel-file", path, "--out", out), what)
    assert not out.exists()


def test_an_empty_data_dir_is_refused_not_ignored(tmp_path, no_work):
    assert_error(invoke("experiment", "run", "shuffle", "--quick", "--data-dir", "", "--out", tmp_path / "x"),
                 "--data-dir is empty", "leave out --data-dir")


# --- the operating system refusing in the middle of the work ----------------------------------

def test_a_write_that_fails_midway_is_one_line(tmp_path, monkeypatch):
    import convscope.images

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o.png"))
    monkeypatch.setattr(convscope.images, "save", full)
    assert_error(invoke("filter", "camera", "--kernel", "box3", "--out", tmp_path / "o.png", "--raw"),
                 "No space left on device", "free disk space")


def test_running_out_of_memory_is_one_line(tmp_path, monkeypatch):
    import convscope.filters

    def greedy(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.28 TiB")
    monkeypatch.setattr(convscope.filters, "show", greedy)
    assert_error(invoke("filter", "camera", "--kernel", "box3", "--out", tmp_path / "o.png"), "not enough memory",
                 "smaller input")


# --- serve --------------------------------------------------------------------------------------

@pytest.fixture()
def no_server(monkeypatch):
    import uvicorn

    def refuse(*args, **kwargs):
        raise AssertionError("the server started although the address was bad")
    monkeypatch.setattr(uvicorn, "run", refuse)


def test_serve_on_a_host_that_does_not_resolve_or_is_empty(no_server):
    assert_error(invoke("serve", "--host", "no-such-host.invalid"), "cannot listen", "--host 127.0.0.1")
    assert_error(invoke("serve", "--host", ""), "--host is empty", "--host 127.0.0.1")


def test_serve_on_a_port_in_use(no_server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_error(invoke("serve", "--port", port), f"127.0.0.1:{port}", "choose another --port")


# --- trace and doctor: the memory budget --------------------------------------------------------

def test_trace_refuses_a_huge_input_before_allocating_it():
    """1 x 3 x 100000 x 100000 float32 is 112 GiB: the console script runs with its address space
    capped at 3 GiB, so an attempt to allocate it would fail loudly, and its peak resident memory
    must stay that of a process that only imported torch."""
    limit = 3 << 30
    for command in ("trace", "doctor"):
        run = script(command, f"{NETS}:LeNet", "--input", "1,3,100000,100000", memory_limit=limit)
        line = assert_script_error(run, "needs too much memory", "4.0 GiB", "smaller input")
        assert "111.8 GiB" in line  # the estimate names the input's own size
        assert run["peak"] < 1 << 30, run["peak"]


def test_trace_refuses_huge_activations_from_a_small_input(tmp_path):
    """A 1 x 3 x 32 x 32 input upsampled 400 times: 1.8 GiB of output. The run on the meta device
    finds it without allocating: with the measurement asked for (4x) it is over the budget, without
    it under (and by default the trace would skip the measurement rather than refuse)."""
    model = tmp_path / "up.py"
    model.write_text("import torch\nclass Up(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                     "        self.up = torch.nn.Upsample(scale_factor=400)\n    def forward(self, x):\n"
                     "        return self.up(x)\n")
    run = script("trace", f"{model}:Up", "--input", "1,3,32,32", "--measure", memory_limit=3 << 30)
    line = assert_script_error(run, "needs too much memory", "activations 1.8 GiB", "--no-measure")
    assert run["peak"] < 1 << 30, run["peak"]
    assert "smaller input" in line


def test_the_budget_is_the_documented_one():
    from convscope.inspect.trace import MEASURE_FACTOR, MEMORY_BUDGET

    assert MEMORY_BUDGET == 4 * 2**30 and MEASURE_FACTOR == 4
    readme = Path(__file__).parents[1].joinpath("README.md").read_text()
    for text in (invoke("trace", "--help").stdout, invoke("doctor", "--help").stdout, readme):
        assert "4 GiB" in " ".join(text.split()), text


def test_trace_and_doctor_help_say_they_execute_the_file():
    for command in ("trace", "doctor"):
        text = " ".join(invoke(command, "--help").stdout.replace("│", " ").split())
        assert "executes the given Python file" in text and "only run files you trust" in text, text
    readme = " ".join(Path(__file__).parents[1].joinpath("README.md").read_text().split())
    assert "execute the given Python file" in readme and "only run files you trust" in readme


# --- trace and doctor: model files that end the program ------------------------------------------

def _model(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text("import sys\nimport torch\n" + body)
    return str(path)


FORWARD = "class Net(torch.nn.Module):\n    def forward(self, x):\n        {}\n"


@pytest.mark.parametrize("command", ["trace", "doctor"])
def test_a_file_that_calls_sys_exit_on_import_is_a_load_error(tmp_path, command):
    file = _model(tmp_path, "exits", "sys.exit(0)\n" + FORWARD.format("return x"))
    line = assert_error(invoke(command, f"{file}:Net", "--input", "1,1,8,8"), "does not import", "SystemExit(0)")
    assert '__name__ == "__main__"' in line
    run = script(command, f"{file}:Net", "--input", "1,1,8,8")
    assert_script_error(run, "does not import", "SystemExit(0)")
    assert run["stdout"] == ""


def test_a_constructor_that_exits_or_is_interrupted_is_a_load_error(tmp_path):
    file = _model(tmp_path, "ctor", "class Net(torch.nn.Module):\n    def __init__(self):\n"
                  "        super().__init__()\n        raise SystemExit(3)\n")
    assert_error(invoke("trace", f"{file}:Net", "--input", "1,1,8,8"), "Net() failed", "SystemExit(3)",
                 "sys.exit()")
    file = _model(tmp_path, "interrupted", "raise KeyboardInterrupt\n")
    assert_error(invoke("doctor", f"{file}:Net", "--input", "1,1,8,8"), "does not import", "KeyboardInterrupt")


@pytest.mark.parametrize("command", ["trace", "doctor"])
@pytest.mark.parametrize("raises, says", [("sys.exit(0)", "SystemExit(0)"), ("raise SystemExit", "SystemExit(None)"),
                                          ("raise KeyboardInterrupt", "KeyboardInterrupt")])
def test_a_forward_that_exits_is_the_models_failure(tmp_path, command, raises, says):
    """Not a success (exit 0, as before): the doctor's failure report and exit 1, as for any
    model whose forward pass fails."""
    file = _model(tmp_path, "forward", FORWARD.format(raises))
    result = invoke(command, f"{file}:Net", "--input", "1,1,8,8")
    assert result.exit_code == 1, result.output
    assert "fails at (model) (Net)" in result.stdout and says in result.stdout and "fix: " in result.stdout
    run = script(command, f"{file}:Net", "--input", "1,1,8,8")
    assert run["rc"] == 1 and "Traceback" not in run["stderr"] and says in run["stdout"], run


@pytest.mark.parametrize("where, what", [("{tmp}", "a folder"), ("/dev/zero", "not a regular file"),
                                         ("{tmp}/notes.txt", "not a Python file")])
def test_model_paths_that_are_not_python_files(tmp_path, where, what):
    (tmp_path / "notes.txt").write_text("x = 1\n")
    assert_error(invoke("trace", f"{where.format(tmp=tmp_path)}:Net", "--input", "1,1,8,8"), what)


def test_a_model_path_that_is_a_fifo(tmp_path):
    pipe = tmp_path / "model.py"
    os.mkfifo(pipe)
    assert_error(invoke("doctor", f"{pipe}:Net", "--input", "1,1,8,8"), "not a regular file")


# --- the shape calculator (src/convscope/inspect/stack.py) ----------------------------------------

@pytest.mark.parametrize("stack, shape", [("Conv2d(3,3,3,groups=0)", "1,3,8,8"), ("Linear(?,?)", "1,8"),
                                          ("Flatten(3,1)", "1,3,8,8")])
def test_shape_calculator_refusals_are_one_line(stack, shape):
    assert_error(invoke("shape", stack, "--input", shape), "layer 1")
