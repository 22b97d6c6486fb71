"""IDX files (the format MNIST and Fashion-MNIST ship in), read and written without downloads.

An IDX file is two zero bytes, a type code, the number of dimensions, each dimension as
a big-endian uint32, then the values in C order (big-endian). Files may be gzipped.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.errors import ConvScopeError
from .core import Split

TYPES: dict[int, np.dtype[Any]] = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
                                   0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
CODES = {(v.kind, v.itemsize): k for k, v in TYPES.items()}
MAX_BYTES = 1 << 30  # a file claiming more than this is refused before anything is allocated


class IdxError(ConvScopeError):
    """A file that is not a valid IDX file, or a folder without the expected files."""


def _open(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def read_idx(path: str | Path) -> np.ndarray:
    """The array in an IDX file (gzipped or not)."""
    path = Path(path)
    if not path.is_file():
        raise IdxError(f"no IDX file at {str(path)!r}", expected="an existing file", got="nothing there",
                       fix="check --data-dir")
    data = _open(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in TYPES:
        raise IdxError(f"{path.name} is not an IDX file", expected="a header 00 00 <type> <ndim>",
                       got=data[:4].hex() or "an empty file", fix="use the original (or gunzipped) MNIST files")
    dtype, ndim = TYPES[data[2]], data[3]
    if len(data) < 4 + 4 * ndim:
        raise IdxError(f"{path.name} is truncated", expected=f"{ndim} dimension sizes", got=f"{len(data)} bytes",
                       fix="download the file again")
    shape = tuple(int(v) for v in np.frombuffer(data, ">u4", ndim, 4))
    count = int(np.prod(shape)) if shape else 1
    if count * dtype.itemsize > MAX_BYTES or len(data) != 4 + 4 * ndim + count * dtype.itemsize:
        raise IdxError(f"{path.name} does not hold the data its header promises", expected=f"shape {shape}",
                       got=f"{len(data) - 4 - 4 * ndim} bytes of data", fix="download the file again")
    return np.frombuffer(data, dtype, count, 4 + 4 * ndim).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64) as an IDX file."""
    array = np.asarray(array)
    key = (array.dtype.kind, array.dtype.itemsize)
    if key not in CODES:
        raise IdxError("IDX cannot store this type", expected="uint8, int8, int16, int32, float32 or float64",
                       got=str(array.dtype), fix="convert the array first")
    code = CODES[key]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    Path(path).write_bytes(header + array.astype(TYPES[code]).tobytes())


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise IdxError(f"{stem} not found in {str(folder)!r}", expected="train-images-idx3-ubyte, "
                   "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (or .gz)",
                   got=", ".join(sorted(p.name for p in folder.iterdir())[:6]) if folder.is_dir() else "no folder",
                   fix="point --data-dir at the folder holding the four MNIST (or Fashion-MNIST) files")


def load_idx_dataset(folder: str | Path, name: str = "mnist") -> Split:
    """MNIST or Fashion-MNIST from the four IDX files in ``folder``, scaled to [0, 1]."""
    folder = Path(folder)
    images = [read_idx(_find(folder, f"{part}-images-idx3-ubyte")) for part in ("train", "t10k")]
    labels = [read_idx(_find(folder, f"{part}-labels-idx1-ubyte")) for part in ("train", "t10k")]
    for x, y in zip(images, labels):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise IdxError("the image and label files do not match", expected="(N, H, W) images and N labels",
                           got=f"{x.shape} and {y.shape}", fix="use the files of one data set")
    scale = 255.0 if images[0].dtype == np.uint8 else 1.0
    return Split(name, (images[0] / scale).astype(np.float32)[:, None], labels[0].astype(np.int64),
                 (images[1] / scale).astype(np.float32)[:, None], labels[1].astype(np.int64),
                 int(max(labels[0].max(), labels[1].max())) + 1)
