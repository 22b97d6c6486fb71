"""The lab as an attacker and a busy classroom meet it: every hostile body is a 4xx with a message,
uploads are bounded in bytes and pixels, caches in bytes, requests from other sites and other host
names are refused, and 32 concurrent uncached filters on a real server all succeed."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from convscope.web import services
from convscope.web.app import limited_app
from convscope.web.schemas import MAX_FILTER_SIZE, MAX_JSON_BYTES, MAX_UPLOAD_BYTES

from servers import running_lab

BASE = "http://127.0.0.1:8000"
INPUT = [1, 3, 32, 32]


@pytest.fixture(scope="module")
def client():
    return TestClient(limited_app(), base_url=BASE)


# The stacks that answered 500 or asked for gigabytes, each with a word its message must contain.
HOSTILE_STACKS = [
    ("Conv2d(3,3,3,groups=0)", INPUT, "groups"),
    ("Flatten(3, 1)", INPUT, "start_dim"),
    ("Flatten(start_dim=10)", INPUT, "start_dim"),
    ("Softmax(dim=9)", INPUT, "dim"),
    ("Dropout(p=2)", INPUT, "probability"),
    ("MaxPool2d(2, padding=5)", INPUT, "padding"),
    ("ConvTranspose2d(3,3,3,stride=0)", INPUT, "stride"),
    ("AdaptiveAvgPool2d(-1)", INPUT, "output_size"),
    ("Flatten -> Linear(?, -5)", INPUT, "out_features"),
    ("Conv2d(3,?,3) -> ReLU", INPUT, "out_channels"),
    ("Linear(?,?)", INPUT, "out_features"),
    ("ReLU", [4611686018427387904, 4611686018427387904], "range"),
    ("ReLU", [1, 0, 5], "range"),
    ("Conv2d(3, 3, 3, dtype='float16')", INPUT, "torch refuses"),
]


@pytest.mark.parametrize("stack, shape, word", HOSTILE_STACKS)
def test_hostile_stacks_are_4xx_with_a_message(client, stack, shape, word):
    response = client.post("/api/shape", json={"stack": stack, "input": shape})
    assert response.status_code == 400, response.text
    assert word in response.json()["error"] and "Fix:" in response.json()["error"]


@pytest.mark.parametrize("stack, shape, last", [
    ("Conv2d(1,1024,1)", [1, 1, 2000, 2000], [1, 1024, 2000, 2000]),            # 16 GB if it ran
    ("ConvTranspose2d(1,1,1,stride=1000)", [1, 1, 100, 100], [1, 1, 99001, 99001]),  # 39 GB: (100-1)*1000 + 1
    ("Flatten -> Linear(?,1000000)", [1, 3, 32, 32], [1, 1000000]),           # 12 GB of weights
    (" -> ".join(["Conv2d(?,128,3,padding=1)"] * 9), [1, 3, 1024, 1024], [1, 128, 1024, 1024]),  # 40 s of arithmetic
])
def test_huge_stacks_are_answered_from_shapes_alone(client, stack, shape, last):
    """Shapes from the engine's arithmetic, checked on torch's meta device: nothing is allocated or computed
    (tracemalloc sees every NumPy and Python allocation; meta tensors have no storage)."""
    import tracemalloc

    tracemalloc.start()
    try:
        response = client.post("/api/shape", json={"stack": stack, "input": shape})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.text
    assert response.json()["layers"][-1]["output_shape"] == last
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB traced"


def test_torchs_valid_adaptive_none_is_accepted(client):
    response = client.post("/api/shape", json={"stack": "AdaptiveAvgPool2d((None, 4))", "input": INPUT})
    assert response.status_code == 200 and response.json()["layers"][0]["output_shape"] == [1, 3, 32, 4]


@pytest.mark.parametrize("path, body, status", [
    ("/api/digit", {"pixels": [[0.0] * 32] * 31 + [[0.0] * 31]}, 400),        # one row short
    ("/api/quiz/answer", {"id": "concept/easy/²", "choice": 0}, 400),           # a digit that int() refuses
    ("/api/quiz/answer", {"id": "concept/easy/" + "9" * 40, "choice": 0}, 400),
    ("/api/stepper", {"input": [[1e308, 1e308]], "kernel": [[1e308]]}, 400),   # finite, but not its products
    ("/api/equivariance", {"position": False}, 422),                            # false is not 0
    ("/api/quiz/answer", {"id": "x", "choice": True}, 422),
    ("/api/stepper", {"input": [[1, 2]], "kernel": [[1]], "stride": "2"}, 422),
    ("/api/filter", {"image": "camera", "kernel": "box3", "size": 10**30}, 422),
])
def test_hand_made_bodies_are_4xx(client, path, body, status):
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert "error" in response.json()


def test_a_streamed_oversized_upload_is_413(client):
    def chunks():  # no content-length: the limit must count the bytes as they arrive
        for _ in range(30):
            yield b"\0" * 2**20

    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()

    def body():
        yield head
        yield from chunks()
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post("/api/upload", content=body(),
                           headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413 and f"{MAX_UPLOAD_BYTES + 64 * 1024:,}" in response.json()["error"]
    assert client.get("/api/health").status_code == 200


def test_json_bodies_have_their_own_smaller_limit(client):
    big = {"stack": "ReLU", "input": INPUT, "pad": "x" * (MAX_JSON_BYTES + 1)}
    assert client.post("/api/shape", json=big).status_code == 413


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_uploads_are_kept_at_the_largest_filter_size_and_errors_name_no_path(client):
    wide = (np.indices((900, 1800)).sum(0) % 256).astype(np.uint8)
    sent = client.post("/api/upload", files={"file": ("wide.png", _png(wide), "image/png")}).json()
    assert (sent["width"], sent["height"]) == (1800, 900)
    kept = services.UPLOADS.get(sent["id"])
    assert max(kept.shape[:2]) == MAX_FILTER_SIZE and kept.shape[:2] == (256, 512)
    shown = client.post("/api/filter", json={"image": sent["id"], "kernel": "sobel_x", "size": 128}).json()
    assert (shown["width"], shown["height"]) == (128, 64)
    junk = client.post("/api/upload", files={"file": ("notes.png", b"hello", "image/png")}).json()["error"]
    assert "/tmp" not in junk and "the upload" in junk


def test_a_float_image_with_nan_is_refused(client):
    buffer = io.BytesIO()
    pixels = np.ones((8, 8), np.float32)
    pixels[2, 3] = np.nan
    Image.fromarray(pixels, mode="F").save(buffer, "TIFF")
    response = client.post("/api/upload", files={"file": ("nan.tif", buffer.getvalue(), "image/tiff")})
    assert response.status_code == 400 and "NaN" in response.json()["error"]


def test_caches_are_bounded_in_bytes():
    store = services.Store(max_bytes=10_000)
    for index in range(100):
        store.put(f"key{index}", np.zeros(1000, np.uint8))
    assert store.nbytes <= 10_000 and store.get("key99") is not None and store.get("key0") is None
    store.put("huge", np.zeros(20_000, np.uint8))  # larger than the whole cache: not kept
    assert store.get("huge") is None and store.nbytes <= 10_000


def test_other_host_names_and_other_sites_are_refused():
    app = limited_app()
    rebound = TestClient(app, base_url="http://evil.example:8000")
    assert rebound.get("/api/health").status_code == 421
    own = TestClient(app, base_url=BASE)
    assert own.get("/api/health").status_code == 200
    files = {"file": ("x.png", _png(np.zeros((4, 4), np.uint8)), "image/png")}
    assert own.post("/api/upload", files=files, headers={"origin": "http://evil.example"}).status_code == 403
    assert own.post("/api/upload", files=files, headers={"origin": "http://127.0.0.1:3000"}).status_code == 403
    assert own.post("/api/upload", files=files, headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert own.post("/api/upload", files=files, headers={"origin": BASE}).status_code == 200
    assert TestClient(limited_app(allow_hosts=("lab.school",)), base_url="http://lab.school").get(
        "/api/health").status_code == 200


def test_32_concurrent_uncached_filters_on_a_real_server():
    from convscope.filters import KERNELS

    kernels = sorted(KERNELS)
    bodies = [{"image": image, "kernel": kernels[index % len(kernels)], "size": 200 + index}
              for index, image in enumerate(["camera", "coins", "astronaut", "coffee"] * 8)]
    with running_lab() as base, httpx.Client(base_url=base, timeout=120,
                                             limits=httpx.Limits(max_connections=32)) as http:
        with ThreadPoolExecutor(32) as pool:
            statuses = list(pool.map(lambda body: http.post("/api/filter", json=body).status_code, bodies))
        assert statuses == [200] * 32
        assert http.get("/api/health").json() == {"status": "ok"}  # still serving
