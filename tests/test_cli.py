"""The command line: commands, lab output, size explanations, and errors without tracebacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convscope import __version__
from convscope.cli import app
from convscope.lessons import LABS, run_lab

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("lab", "size", "tour"):
        assert command in result.stdout


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"convscope {__version__}"


def test_lab_list_shows_every_lab():
    result = invoke("lab", "list")
    assert result.exit_code == 0
    for lab in LABS.values():
        assert lab.name in result.stdout
    assert "seed" in result.stdout and "title" in result.stdout


def test_lab_run_prints_the_text_verbatim_then_the_checks():
    result = invoke("lab", "run", "manual_conv_lab")
    assert result.exit_code == 0, result.output
    expected = "manual_conv_lab\n[[-2.  2. -4.]\n [ 4.  0. -1.]\n [ 0.  0.  1.]]\n"
    assert result.stdout.startswith(expected)
    assert "# check: engine == torch.nn.functional.conv2d (max |diff| 0)" in result.stdout


@pytest.mark.parametrize("backend", ["reference", "torch"])
def test_lab_run_backend_option(backend):
    result = invoke("lab", "run", "edge_lab", "--backend", backend)
    assert result.exit_code == 0
    assert result.stdout.startswith(run_lab("edge_lab").text + "\n")


def test_lab_run_all():
    result = invoke("lab", "run", "all")
    assert result.exit_code == 0, result.output
    for name in LABS:
        assert run_lab(name).text in result.stdout
    assert "FAILED" not in result.stdout
    assert result.stdout.count("# check: ") == sum(len(run_lab(name).checks) for name in LABS)


def test_tour_runs_every_lab():
    result = invoke("tour")
    assert result.exit_code == 0, result.output
    assert "convscope tour" in result.stdout
    for name in LABS:
        assert run_lab(name).text in result.stdout


def test_a_failing_check_exits_1(monkeypatch):
    from convscope.lessons import seed002

    real = seed002.conv2d
    monkeypatch.setattr(seed002, "conv2d", lambda *a, **kw: real(*a, **kw) * 2)
    result = invoke("lab", "run", "manual_conv_lab")
    assert result.exit_code == 1
    assert "# check FAILED: engine == torch.nn.functional.conv2d" in result.stdout


def test_size_explains_and_warns():
    result = invoke("size", "28", "--kernel", "3", "--stride", "2")
    assert result.exit_code == 0
    assert "= 12 + 1 = 13" in result.stdout
    assert "Warning: input position 27 is never covered" in result.stdout


@pytest.mark.parametrize("padding, expected", [("same", "= 27 + 1 = 28"), ("valid", "= 25 + 1 = 26"),
                                               ("1", "= 27 + 1 = 28")])
def test_size_padding_forms(padding, expected):
    result = invoke("size", "28", "--kernel", "3", "--padding", padding)
    assert result.exit_code == 0
    assert expected in result.stdout


def test_size_ceil_mode_and_dilation():
    result = invoke("size", "7", "--kernel", "2", "--stride", "2", "--ceil-mode")
    assert result.exit_code == 0 and "ceil(" in result.stdout and "= 4" in result.stdout
    result = invoke("size", "7", "--kernel", "3", "--dilation", "2")
    assert result.exit_code == 0 and "= 3" in result.stdout


def assert_one_line_error(result, *fragments: str):
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_size_kernel_too_large_is_a_one_line_error():
    assert_one_line_error(invoke("size", "2", "--kernel", "5"), "kernel is larger", "Fix:")


def test_unknown_lab_is_a_one_line_error():
    assert_one_line_error(invoke("lab", "run", "nope"), "unknown lab", "convscope lab list", "manual_conv_lab")


@pytest.mark.parametrize("args, fragment", [
    (("lab", "run", "edge_lab", "--backend", "gpu"), "--backend"),
    (("size", "28"), "--kernel"),
    (("size", "many", "--kernel", "3"), "IN"),
    (("size", "28", "--kernel", "3", "--padding", "lots"), "padding"),
    (("size", "28", "--kernel", "3", "--stride", "0"), "stride"),
    (("frobnicate",), "frobnicate"),
])
def test_bad_parameters_are_one_line_errors(args, fragment):
    assert_one_line_error(invoke(*args), fragment)


def console_script() -> str:
    local = Path(sys.executable).parent / "convscope"
    found = str(local) if local.exists() else shutil.which("convscope")
    if found is None:
        pytest.skip("the convscope console script is not installed")
    return found


@pytest.mark.parametrize("args", [["size", "2", "--kernel", "5"], ["lab", "run", "nope"]])
def test_console_script_errors_exit_2_without_traceback(args):
    done = subprocess.run([console_script(), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert done.stdout == ""


def test_console_script_runs_a_lab():
    done = subprocess.run([console_script(), "lab", "run", "size_lab"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("size_lab\ninput: (1, 1, 6, 6)\noutput: (1, 2, 3, 3)\n")


def test_python_dash_m_convscope_is_the_same_command_line():
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "convscope", "size", "28", "-k", "3", "--stride", "2"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "= 12 + 1 = 13" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "convscope", "size", "x", "-k", "3"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr


def test_every_help_names_values_one_way_and_explains_every_option():
    """No typer type tags (<bool>, <str>) beside flags and values, every option has a help text,
    and every argument is named in capitals, as IN and MODEL are."""
    import re

    import typer.main

    group = typer.main.get_command(app)   # typer's own click: compare by kind, not by class

    def commands(command, path: list[str]):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from commands(sub, [*path, name])

    seen = 0
    for path, command in commands(group, []):
        for param in command.params:
            if param.param_type_name == "option" and param.name not in ("help", "version"):
                assert param.help, (path, param.name)
            if param.param_type_name == "argument":
                assert param.metavar and param.metavar.isupper(), (path, param.name, param.metavar)
        text = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100"}).stdout
        assert not re.findall(r"<(?:bool|str|int|float|path)>", text, re.I), (path, text)
        seen += 1
    assert seen >= 20


def test_shell_completion_is_installable_and_completes_commands():
    import os

    # the shell named, not detected from the parent process (CI's has none): typer's switch for that
    named = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = subprocess.run([sys.executable, "-m", "convscope", "--show-completion", "bash"], env=named,
                            capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "_convscope_completion" in script.stdout, script.stdout + script.stderr
    env = {**os.environ, "_CONVSCOPE_COMPLETE": "complete_bash", "COMP_WORDS": "convscope experiment r",
           "COMP_CWORD": "2"}
    done = subprocess.run([sys.executable, "-m", "convscope"], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["run"], done.stdout + done.stderr
