"""`convscope serve --model FILE.py:Name [--weights FILE.pt] --input 1,C,H,W`: the user's model is
loaded and checked once, before the lab listens; each problem is one `error:` line and exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import torch
from fastapi.testclient import TestClient

from convscope.web.app import limited_app
from convscope.web.served_models import load

from nets import USER_MODEL_FILE as MODEL


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
    torch.save([t for t in trained.state_dict().values()], tmp_path / "list.pt")
    return tmp_path, trained


def test_the_users_model_is_loaded_with_its_weights_and_listed(files):
    folder, trained = files
    served = load(f"{folder}/nets.py:ResNet", str(folder / "resnet.pt"), "1,3,32,32")
    for key, value in trained.state_dict().items():
        assert torch.equal(served.module.state_dict()[key], value), key
    assert not served.module.training                            # shown in eval mode
    client = TestClient(limited_app(models=(served,)), base_url="http://127.0.0.1:8000")
    reply = client.get("/api/models")
    assert reply.status_code == 200
    answer = reply.json()
    mine = answer["models"][0]
    assert mine["name"] == "ResNet" and mine["input"] == [1, 3, 32, 32] and mine["weights"].endswith("resnet.pt")
    assert mine["parameters"] == sum(p.numel() for p in trained.parameters())
    assert mine["layers"] == 4 and mine["ready"] is True and mine["source"] == f"your file {folder}/nets.py"
    assert mine["description"].startswith("A tiny residual CNN")
    for builtin in answer["models"][1:]:
        assert {"name", "source", "input", "layers", "parameters", "ready", "labels"} <= set(builtin)
    assert [m["name"] for m in answer["models"][1:]] == ["digit CNN", "shapes CNN"]
    assert "never loads code or weights from an upload" in answer["uploads"]
    assert "/api/models" in client.get("/openapi.json").json()["paths"]


def test_the_inputs_a_model_page_offers(files):
    """A built-in model's held-out examples are its data's, an upload is the model's input, and an
    input the page cannot give (an unknown name, an upload no longer kept, a photo for a 1-D model)
    is a 400 that names what exists."""
    import io

    import numpy as np
    from PIL import Image

    from convscope.data import digits
    from convscope.web.digits import DIGITS

    folder, trained = files
    (folder / "signal.py").write_text("import torch\nclass Net(torch.nn.Sequential):\n"
                                      "    def __init__(self):\n        super().__init__(torch.nn.Conv1d(1, 2, 3))\n")
    mine, signal = load(f"{folder}/nets.py:ResNet", str(folder / "resnet.pt"), "1,3,32,32"), \
        load(f"{folder}/signal.py:Net", None, "1,1,50")
    DIGITS.wait(300)
    client = TestClient(limited_app(models=(mine, signal)), base_url="http://127.0.0.1:8000")

    def layers(model, input_name):
        return client.get("/api/model/layers", params={"model": model, "input": input_name})

    held_out = digits(seed=0)
    with torch.no_grad():
        for k in (3, 7):
            x = torch.from_numpy(held_out.x_test[int(np.argmax(held_out.y_test == k))][None])
            p = torch.softmax(DIGITS.model()(x), 1)[0].numpy()
            answer = layers("digit CNN", f"example-{k}").json()
            assert answer["labels"] == [str(d) for d in range(10)]
            np.testing.assert_allclose(answer["prediction"]["probabilities"], p, rtol=1e-5, atol=1e-7)
    rgb = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)   # the model's size: no resize
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    upload = client.post("/api/upload", files={"file": ("mine.png", buffer.getvalue(), "image/png")}).json()
    with torch.no_grad():
        p = torch.softmax(trained(torch.from_numpy(rgb.transpose(2, 0, 1)[None] / np.float32(255))), 1)[0].numpy()
    answer = layers("ResNet", upload["id"]).json()
    np.testing.assert_allclose(answer["prediction"]["probabilities"], p, rtol=1e-5, atol=1e-7)
    for model, input_name, message in (
            ("ResNet", "example-3", "no such input; expected one of: random, camera"),   # only built-ins have examples
            ("digit CNN", "example-10", "example-9, or an upload's id"),
            ("ResNet", "upload-0123456789ab", "that upload is no longer kept"),
            ("Net", "camera", "a photo needs an image model"),
            ("Net", upload["id"], "an upload needs an image model")):
        reply = layers(model, input_name)
        assert reply.status_code == 400 and message in reply.json()["error"], (model, input_name, reply.text)


def test_the_app_holds_the_served_models(files):
    from convscope.web.app import create_app

    folder, _ = files
    served = load(f"{folder}/nets.py:ResNet", None, "1,3,16,16")
    assert create_app((served,)).state.models == (served,) and create_app().state.models == ()
    assert served.weights is None and "initial weights" not in served.description  # it has a docstring


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
    "a checkpoint that is no state dict": (["--model", "{d}/nets.py:ResNet", "--weights", "{d}/list.pt", "--input",
                                            "1,3,32,32"], "holds no state dict"),
    "a folder as --weights": (["--model", "{d}/nets.py:ResNet", "--weights", "{d}", "--input", "1,3,32,32"],
                              "got a folder"),
    "an input over the memory budget": (["--model", "{d}/nets.py:ResNet", "--input", "1,3,40000,40000"],
                                        "needs too much memory for the lab"),
    "a malformed --input": (["--model", "{d}/nets.py:ResNet", "--input", "1,3,x,32"], "does not parse"),
    "an input of the wrong rank": (["--model", "{d}/nets.py:ResNet", "--input", "1,3,32"], "does not run on"),
    "channels the first conv rejects": (["--model", "{d}/nets.py:ResNet", "--input", "1,1,32,32"],
                                        "expected 3 input channels"),
    "no --input": (["--model", "{d}/nets.py:ResNet"], "--model needs --input"),
    "--weights without --model": (["--weights", "{d}/resnet.pt"], "--weights is for --model"),
    "--input without --model": (["--input", "1,3,32,32"], "--input is for --model"),
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
    with socket.socket() as probe:                             # and left the port as it found it
        probe.bind(("127.0.0.1", port))
