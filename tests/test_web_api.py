"""The lab's JSON API: answers computed by the library, 4xx with the message for bad input, and
a server that keeps serving."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from convscope.web.app import limited_app
from convscope.web.digits import DIGITS
from convscope.web.schemas import MAX_UPLOAD_BYTES

LESSON = {"input": [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], "kernel": [[1, 0], [0, -1]]}


@pytest.fixture(scope="module")
def client():
    return TestClient(limited_app(), base_url="http://127.0.0.1:8000")


def test_stepper_matches_torch_and_its_frames_add_up(client):
    rng = np.random.default_rng(0)
    body = {"input": rng.integers(-3, 4, (2, 7, 6)).tolist(), "kernel": rng.integers(-2, 3, (2, 3, 3)).tolist(),
            "stride": 2, "padding": 1, "padding_mode": "reflect", "dilation": 1, "flip": True}
    setup = client.post("/api/stepper", json=body).json()
    x = torch.tensor(body["input"], dtype=torch.float64)[None]
    w = torch.tensor(body["kernel"], dtype=torch.float64).flip(-1, -2)[None]
    expected = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"), w, stride=2)[0, 0]
    np.testing.assert_allclose(setup["output"], expected.numpy(), atol=1e-9)
    assert "out = floor" in setup["explain"]["height"] and "padding_mode='reflect'" in setup["code"]
    for index in range(setup["frames"]):
        frame = client.post("/api/stepper/frame", json={**body, "index": index}).json()
        assert len(frame["cells"]) == 2 * 9
        assert sum(c["product"] for c in frame["cells"]) == pytest.approx(frame["total"])
        assert frame["total"] == pytest.approx(setup["output"][frame["row"]][frame["col"]])


def test_filter_returns_images_and_the_engine_range(client):
    data = client.post("/api/filter", json={"image": "coins", "kernel": "sobel_x", "size": 128}).json()
    assert data["input"].startswith("/api/image/") and data["signed"]
    from convscope import filters, images
    from convscope.web.services import _sample

    expected = filters.show(_sample("coins", 128), "sobel_x")
    assert data["range"] == pytest.approx([expected.low, expected.high])
    fetched = client.get(data["output"])
    assert fetched.headers["content-type"] == "image/png"
    png = Image.open(io.BytesIO(fetched.content))
    assert png.size == (data["width"], data["height"]) and images.sample("coins").shape[1] > 128
    np.testing.assert_array_equal(np.asarray(png), expected.display.rgb)  # the picture is the engine's
    again = client.post("/api/filter", json={"image": "coins", "kernel": "sobel_x", "size": 128}).json()
    assert again == data  # answered from the cache
    assert client.get("/api/image/0123456789abcdef0123.png").status_code == 404
    assert client.get("/api/image/..%2F..%2Fetc%2Fpasswd.png").status_code == 404
    custom = client.post("/api/filter", json={"image": "camera", "weights": [[0, 0, 0], [0, 1, 0], [0, 0, 0]]})
    photo = _sample("camera", 256)  # the identity kernel gives the photo back
    assert custom.status_code == 200 and custom.json()["range"] == pytest.approx([photo.min(), photo.max()])


def test_upload_then_filter(client):
    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(1).random((40, 50)) * 255).astype(np.uint8)).save(buffer, "PNG")
    up = client.post("/api/upload", files={"file": ("x.png", buffer.getvalue(), "image/png")}).json()
    assert (up["width"], up["height"]) == (50, 40)
    assert client.post("/api/filter", json={"image": up["id"], "kernel": "box3"}).status_code == 200


@pytest.mark.parametrize("body,status,message", [
    ({"input": [[1, 2], [3]], "kernel": [[1]]}, 400, "rectangular"),
    ({"input": [[1] * 33] * 33, "kernel": [[1]]}, 400, "at most 32x32"),
    ({"input": [[[1]]] * 4, "kernel": [[1]]}, 400, "1-3 channels"),
    ({"input": [[1, 2], [3, 4]], "kernel": []}, 400, "the kernel is empty"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1] * 8] * 8}, 400, "too large"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1, 1, 1]] * 3}, 400, "larger than the padded input"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1]], "stride": 9}, 422, "stride"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1]], "padding_mode": "mirror"}, 422, "padding_mode"),
])
def test_bad_stepper_requests(client, body, status, message):
    response = client.post("/api/stepper", json=body)
    assert response.status_code == status and message in response.json()["error"]


def test_nan_kernel_malformed_json_and_the_server_keeps_serving(client):
    nan = json.dumps({"input": [[1, 2], [3, 4]], "kernel": [[float("nan")]]})
    response = client.post("/api/stepper", content=nan, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "holds NaN" in response.json()["error"]
    response = client.post("/api/stepper", content=b'{"input": [[1,', headers={"content-type": "application/json"})
    assert response.status_code == 422 and "malformed request" in response.json()["error"]
    assert client.get("/api/health").json() == {"status": "ok"}


def test_bad_uploads(client):
    just_over = client.post("/api/upload", files={"file": ("big.png", b"\0" * (MAX_UPLOAD_BYTES + 1), "image/png")})
    assert just_over.status_code == 413 and "upload is too large" in just_over.json()["error"]
    huge = client.post("/api/upload", files={"file": ("big.png", b"\0" * (MAX_UPLOAD_BYTES + 2**20), "image/png")})
    assert huge.status_code == 413 and "body is too large" in huge.json()["error"]  # refused while it streams
    text = client.post("/api/upload", files={"file": ("notes.png", b"hello", "image/png")})
    assert text.status_code == 400 and "not an image" in text.json()["error"]
    buffer = io.BytesIO()
    Image.new("L", (2100, 2000)).save(buffer, "PNG")  # 4.2 megapixels: small as bytes, large as pixels
    pixels = client.post("/api/upload", files={"file": ("wide.png", buffer.getvalue(), "image/png")})
    assert pixels.status_code == 400 and "too large" in pixels.json()["error"]
    gone = client.post("/api/filter", json={"image": "upload-deadbeef", "kernel": "box3"})
    assert gone.status_code == 400 and "upload the image again" in gone.json()["error"]
    assert client.post("/api/filter", json={"image": "brain", "kernel": "box3"}).status_code == 400
    assert client.get("/api/health").status_code == 200


def test_shape_digit_equivariance_and_quiz(client):
    shape = client.post("/api/shape", json={"stack": "Conv2d(3,8,3,stride=2) -> ReLU -> Flatten -> Linear(?,4)",
                                            "input": [1, 3, 17, 17], "unit": [2, 3]}).json()
    assert shape["solved"] == {"Linear(?,4) in_features": 8 * 8 * 8}
    # the last layer with a spatial map is the ReLU, whose field is the convolution's
    assert shape["field"] == {"layer": "1", "unit": [2, 3], "output_size": [8, 8], "start": [4, 6], "size": [3, 3]}
    assert client.post("/api/shape", json={"stack": "Conv2d(3,8,3) -> Nope", "input": [1, 3, 8, 8]}).status_code == 400
    digit = np.zeros((32, 32))
    digit[4:28, 14:18] = 1  # a "1"
    DIGITS.wait(180)  # trained in the background; until then a reading answers 503 (tests/test_web_features.py)
    read = client.post("/api/digit", json={"pixels": digit.tolist()}).json()
    assert read["prediction"] == 1 and len(read["feature_maps"]) == 3
    assert client.post("/api/digit", json={"pixels": [[0.0] * 5]}).status_code == 400
    a = client.post("/api/equivariance", json={"position": 4, "stride": 1}).json()
    b = client.post("/api/equivariance", json={"position": 7, "stride": 1}).json()
    assert b["peak"][1] - a["peak"][1] == 3  # the map moves with the pattern
    quiz = client.get("/api/quiz?n=3&seed=5&difficulty=easy").json()
    assert all("answer_index" not in q for q in quiz)
    from convscope.lessons.quiz import by_ident

    key = by_ident(quiz[0]["id"]).answer_index
    verdict = client.post("/api/quiz/answer", json={"id": quiz[0]["id"], "choice": key}).json()
    assert verdict["correct"] and verdict["explanation"].startswith("Right")
    assert client.post("/api/quiz/answer", json={"id": "nope/easy/1", "choice": 0}).status_code == 400
    assert client.get("/api/quiz?n=500").status_code == 422


def test_openapi_schema_and_no_path_parameters(client):
    schema = client.get("/openapi.json").json()
    assert "/api/stepper" in schema["paths"] and "/api/filter" in schema["paths"]
    for path, methods in schema["paths"].items():  # no endpoint takes a server path from the user
        for method in methods.values():
            for parameter in method.get("parameters", []):
                assert parameter["name"] not in ("path", "file", "filename"), path
