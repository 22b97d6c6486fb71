"""`convscope trace`, `doctor` and `shape`: golden tables, JSON, and one-line errors for bad requests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_cli import console_script
from typer.testing import CliRunner

from convscope.cli import app

runner = CliRunner()
NETS = str(Path(__file__).with_name("nets.py"))


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_trace_table_is_golden(golden):
    result = invoke("trace", f"{NETS}:LeNet", "--input", "1,1,28,28", "--no-measure")
    assert result.exit_code == 0, result.output
    golden("trace_lenet", result.stdout)
    assert "61,706" in result.stdout


def test_trace_depth_collapses_and_json_holds_every_layer(golden):
    result = invoke("trace", f"{NETS}:small_vgg", "--input", "1,3,32,32", "--depth", "1", "--no-measure")
    assert result.exit_code == 0, result.output
    golden("trace_vgg_depth1", result.stdout)
    result = invoke("trace", f"{NETS}:rf_stack", "--input", "1,1,64,64", "--json")
    data = json.loads(result.stdout)
    assert [layer["rf"][0]["size"] for layer in data["layers"]] == [7, 11, 19]
    assert [layer["measured"] for layer in data["layers"]] == [[7, 7], [11, 11], [19, 19]]


def test_doctor_and_shape_are_golden(golden):
    result = invoke("doctor", f"{NETS}:LinearAfterFlatten", "--input", "2,1,32,32")
    assert result.exit_code == 1
    golden("doctor_linear_after_flatten", result.stdout)
    result = invoke("shape", "Conv2d(3,16,3,padding=1) -> ReLU -> MaxPool2d(2) -> Conv2d(16,32,3,stride=2) -> "
                    "Flatten -> Linear(?,10)", "--input", "1,3,32,32")
    assert result.exit_code == 0, result.output
    golden("shape_stack", result.stdout)


def test_trace_of_a_failing_model_shows_the_doctor():
    result = invoke("trace", f"{NETS}:LinearAfterFlatten", "--input", "1,1,32,32")
    assert result.exit_code == 1 and "fix: nn.Linear(28800, 10)" in result.stdout


def test_a_module_path_works_too():
    result = invoke("trace", "torch.nn:Identity", "--input", "1,2,3,4", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["output_shape"] == [1, 2, 3, 4]


@pytest.mark.parametrize("make,args,message", [
    (lambda d: d / "broken.py", ["trace", "{file}:Net", "--input", "1,1,8,8"], "does not import"),
    (lambda d: d / "nets_copy.py", ["trace", "{file}:Missing", "--input", "1,1,8,8"], "does not define 'Missing'"),
    (None, ["trace", "{nets}:LeNet", "--input", "1,one,28"], "the input shape does not parse"),
    (None, ["doctor", "{nets}:LeNet", "--input", "0,1,28,28"], "must be positive"),
    (None, ["trace", "no_such_module_xyz:Net", "--input", "1,1,8,8"], "does not import"),
    (None, ["trace", "{nets}", "--input", "1,1,8,8"], "which model"),
    (None, ["shape", "Conv2d(1,8,3) -> Transformer", "--input", "1,1,8,8"], "not a layer the calculator knows"),
])
def test_bad_requests_are_one_line_and_exit_2(tmp_path, make, args, message):
    file = ""
    if make is not None:
        path = make(tmp_path)
        path.write_text("import torch\nclass Net(torch.nn.Module:\n" if path.name == "broken.py"
                        else Path(NETS).read_text())
        file = str(path)
    result = invoke(*[a.format(file=file, nets=NETS) for a in args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert message in result.stderr


def test_console_script_reports_an_unimportable_file_without_traceback(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom at import')\n")
    done = subprocess.run([console_script(), "trace", f"{bad}:Net", "--input", "1,1,8,8"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "RuntimeError: boom at import" in done.stderr and len(done.stderr.splitlines()) == 1
