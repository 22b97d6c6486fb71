"""Offline data: IDX files the tests write, digits on a canvas, MNIST-1D, shapes and corner marks."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from convscope import data
from convscope.data.idx import IdxError


def _write_mnist_like(folder, gz: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 12).astype(np.uint8)
    for part, n in (("train", 8), ("t10k", 4)):
        start = 0 if part == "train" else 8
        for kind, array in (("images-idx3", images[start:start + n]), ("labels-idx1", labels[start:start + n])):
            path = folder / f"{part}-{kind}-ubyte"
            data.write_idx(path, array)
            if gz:
                path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
                path.unlink()
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_idx_dataset_round_trip(tmp_path, gz):
    images, labels = _write_mnist_like(tmp_path, gz)
    split = data.load_idx_dataset(tmp_path)
    assert split.x_train.shape == (8, 1, 28, 28) and split.x_test.shape == (4, 1, 28, 28)
    np.testing.assert_allclose(split.x_train[:, 0], images[:8] / 255)
    assert split.y_test.tolist() == labels[8:].tolist()


def test_idx_header_by_hand_and_other_types(tmp_path):
    path = tmp_path / "tiny"
    # the format written out byte by byte: 00 00, type 0x0C (int32), 2 dims, 2 x 3, big-endian values
    path.write_bytes(bytes([0, 0, 0x0C, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + np.arange(6, dtype=">i4").tobytes())
    assert data.read_idx(path).tolist() == [[0, 1, 2], [3, 4, 5]]
    for dtype in (np.float32, np.float64, np.int16, np.int8):
        array = np.arange(12, dtype=dtype).reshape(3, 4)
        data.write_idx(tmp_path / "a", array)
        assert np.array_equal(data.read_idx(tmp_path / "a"), array)


def test_bad_idx_files_are_refused(tmp_path):
    (tmp_path / "text").write_text("not idx")
    with pytest.raises(IdxError, match="not an IDX file"):
        data.read_idx(tmp_path / "text")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))
    with pytest.raises(IdxError, match="does not hold the data its header promises"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "huge").write_bytes(bytes([0, 0, 8, 2, 255, 255, 255, 255, 255, 255, 255, 255]))
    with pytest.raises(IdxError, match="does not hold"):
        data.read_idx(tmp_path / "huge")  # refused from the header, nothing allocated
    with pytest.raises(IdxError, match="train-images-idx3-ubyte not found"):
        data.load_idx_dataset(tmp_path)


def test_digits_on_a_canvas():
    plain, padded = data.digits(), data.digits(canvas=16)
    assert plain.x_train.shape[1:] == (1, 8, 8) and padded.x_train.shape[1:] == (1, 16, 16)
    np.testing.assert_array_equal(padded.x_train[:, :, 4:12, 4:12], plain.x_train)
    assert padded.x_train[:, :, :4].sum() == 0 and len(plain.x_train) + len(plain.x_test) == 1797
    assert 0 <= plain.x_train.min() and plain.x_train.max() <= 1


def test_mnist1d_is_generated_locally_and_its_shuffle_is_one_permutation():
    plain, shuffled = data.mnist1d(), data.mnist1d(shuffled=True)
    assert plain.x_train.shape == (4000, 1, 40) and plain.x_test.shape == (1000, 1, 40)
    assert np.array_equal(plain.y_train, shuffled.y_train)
    # the same examples, their positions permuted the same way: sorting each signal gives the same values
    np.testing.assert_allclose(np.sort(plain.x_train[:50], -1), np.sort(shuffled.x_train[:50], -1), atol=1e-5)


def test_shapes_land_where_asked_and_marks_label_the_ends():
    split = data.shapes(200, 200, 24, train_columns=(0, 7), test_columns=(12, 19), seed=1, noise=0.0)
    ink_train = split.x_train[:, 0].sum(axis=(0, 1))
    ink_test = split.x_test[:, 0].sum(axis=(0, 1))
    assert ink_train[12:].sum() == 0 and ink_test[:12].sum() == 0
    for label, name in enumerate(data.SHAPES):
        example = split.x_train[split.y_train == label][0, 0]
        assert example.sum() == data.SHAPES[name].sum()
    marks = data.corner_marks(300, 10, 48, seed=2, noise=0.0)
    first, last = marks.x_train[:, 0, :3], marks.x_train[:, 0, -3:]
    assert np.array_equal(marks.y_train, np.all(first == last, axis=1).astype(np.int64))
    assert 0.35 < marks.y_train.mean() < 0.65
