"""The IDX file format of MNIST-like data sets: read (validated) and write.

Layout (all integers big-endian):
    bytes 0-1   zero
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then d      uint32 sizes, then the values in C order.
Files may be gzip-compressed (recognised by their first bytes, whatever the name).
"""
import gzip
import hashlib
import os
import struct
import zlib

import numpy as np

__all__ = ["IDXError", "ChecksumError", "read_idx", "parse_idx", "write_idx", "read_bytes", "sha256"]

_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in _TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a valid IDX file (bad magic, unknown type, truncated, trailing bytes...)."""


class ChecksumError(ValueError):
    """A file whose SHA-256 differs from the published one."""


def sha256(data):
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def read_bytes(path):
    """The contents of `path`, gunzipped when the file is gzip-compressed (a bad gzip stream -> IDXError)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise IDXError(f"{path}: corrupt or truncated gzip file ({len(raw)} bytes): {e}") from None


def parse_idx(data, name="<bytes>", expected_shape=None):
    """The array stored in IDX bytes `data` (native byte order, writable), after validating the header.

    `expected_shape` (optional, None entries are wildcards) is checked against the header's sizes.
    Raises IDXError naming `name` for anything malformed.
    """
    n = len(data)
    if n < 4:
        raise IDXError(f"{name}: too short to be an IDX file ({n} bytes, the header alone needs at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise IDXError(f"{name}: bad IDX magic number 0x{data[0]:02x}{data[1]:02x}{data[2]:02x}{data[3]:02x}: "
                       f"the first two bytes must be zero (is this really an IDX file?)")
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        raise IDXError(f"{name}: unknown IDX data type code 0x{code:02x}; expected one of "
                       f"{', '.join(f'0x{c:02x}' for c in _TYPES)}")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if n < header:
        raise IDXError(f"{name}: truncated IDX header: {ndim} dimensions need {header} header bytes, "
                       f"the file has {n}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if n - header < expected:
        raise IDXError(f"{name}: truncated IDX file: shape {shape} of {dtype.newbyteorder('=')} needs "
                       f"{expected} data bytes, found {n - header}")
    if n - header > expected:
        raise IDXError(f"{name}: {n - header - expected} unexpected trailing bytes after the {expected} data bytes "
                       f"of shape {shape}")
    if expected_shape is not None:
        ok = len(expected_shape) == len(shape) and all(e is None or e == s for e, s in zip(expected_shape, shape))
        if not ok:
            want = tuple("any" if e is None else e for e in expected_shape)
            raise IDXError(f"{name}: IDX shape is {shape}, expected {want}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path, sha256_hex=None, expected_shape=None):
    """The array in the IDX file `path` (.gz or plain), validated; with `sha256_hex`, the SHA-256 of
    the decompressed contents must match it (else ChecksumError)."""
    data = read_bytes(path)
    array = parse_idx(data, name=os.fspath(path), expected_shape=expected_shape)
    if sha256_hex is not None:
        got = sha256(data)
        if got != sha256_hex:
            raise ChecksumError(f"{path}: SHA-256 of the decompressed contents is {got}, expected {sha256_hex}; "
                                "the file is corrupt or not the expected one: delete it and provide it again")
    return array


def write_idx(path, array, compress=None):
    """Write `array` as an IDX file (gzip-compressed when `compress`, default: when `path` ends with .gz)."""
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype
    if key not in _CODES:
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}; use one of uint8, int8, int16, int32, "
                        "float32, float64")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got {array.ndim}")
    code = _CODES[key]
    payload = (bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
               + np.ascontiguousarray(array, dtype=_TYPES[code]).tobytes())
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(payload) if compress else payload)
