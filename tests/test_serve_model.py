"""`convscope serve --model FILE.py:Name [--weights FILE.pt] --input 1,C,H,W`: the user's model is
loaded and checked once, before the lab listens; each problem is one `error:` line and exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from fastapi.testclient import TestClient

from convscope.web.app import limited_app
from convscope.web.served_models import load

MODEL = textwrap.dedent("""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 3, padding=1)

        def forward(self, x):
            return torch.relu(x + self.conv(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.block = Block()
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.head = nn.Linear(8, 4)

        def forward(self, x):
            return self.head(self.pool(self.block(torch.relu(self.stem(x)))).flatten(1))

    class Wider(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 5)
""")


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "nets.py").write_text(MODEL)
    (tmp_path / "broken.py").write_text("class ResNet(:\n")
    sys.path.insert(0, str(tmp_path))
    sys.modules.pop("nets", None)
    try:
        import nets
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("nets", None)
    torch.manual_seed(3)
    trained = nets.ResNet()
    torch.save(trained.state_dict(), tmp_path / "resnet.pt")
    torch.save({"epoch": 3, "model_state_dict": nets.Wider().state_dict()}, tmp_path / "wider.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    return tmp_path, trained


def test_the_users_model_is_loaded_with_its_weights_and_listed(files):
    folder, trained = files
    served = load(f"{folder}/nets.py:ResNet", str(folder / "resnet.pt"), "1,3,32,32")
    for key, value in trained.state_dict().items():
        assert torch.equal(served.module.state_dict()[key], value), key
    client = TestClient(limited_app(models=(served,)), base_url="http://127.0.0.1:8000")
    answer = client.get("/api/models").json()
    mine = answer["models"][0]
    assert mine["name"] == "ResNet" and mine["input"] == [1, 3, 32, 32] and mine["weights"].endswith("resnet.pt")
    assert mine["parameters"] == sum(p.numel() for p in trained.parameters())
    assert answer["models"][-1]["name"] == "digit CNN" and "never loads code or weights from an upload" in \
        answer["uploads"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CASES = {
    "a file that does not import": (["--model", "{d}/broken.py:ResNet", "--input", "1,3,32,32"], "does not import"),
    "a name not in the file": (["--model", "{d}/nets.py:LeNet", "--input", "1,3,32,32"], "does not define 'LeNet'"),
    "weights of another model": (["--model", "{d}/nets.py:ResNet", "--weights", "{d}/wider.pt", "--input",
                                  "1,3,32,32"], "stem.weight: file (16, 3, 5, 5), model (8, 3, 3, 3)"),
    "a file that is no checkpoint": (["--model", "{d}/nets.py:ResNet", "--weights", "{d}/junk.pt", "--input",
                                      "1,3,32,32"], "is not a torch checkpoint"),
    "an input of the wrong rank": (["--model", "{d}/nets.py:ResNet", "--input", "1,3,32"], "does not run on"),
    "channels the first conv rejects": (["--model", "{d}/nets.py:ResNet", "--input", "1,1,32,32"],
                                        "expected 3 input channels"),
    "no --input": (["--model", "{d}/nets.py:ResNet"], "--model needs --input"),
    "--weights without --model": (["--weights", "{d}/resnet.pt"], "--weights is for --model"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_model_is_one_error_line_before_the_lab_listens(files, case):
    folder, _ = files
    arguments, message = CASES[case]
    port = _free_port()
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "convscope", "serve", "--port", str(port),
                          *(a.format(d=folder) for a in arguments)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in run.stderr
    assert message in lines[0] and "Fix:" in lines[0]
    assert "convscope lab: http" not in run.stdout            # it never got as far as listening
    assert time.perf_counter() - start < 60
