"""Snapshot files as NumPy .npz archives, in the reference Python library's layout: a zip of .npy arrays
with `meta.json` (UTF-8 JSON as uint8), `y`, `params`, `stepper_config` and `workspace/<bucket>/<field>`
for each non-empty array. The content is the engine's text snapshot (Sim.export_snapshot to a non-.npz
path) converted field by field, so a load goes through the engine's own checks (model hash, stepper,
dtype, sizes, every value).

An .npz is a file we do not trust: it is opened only if it is a regular file within a size limit, its
members must be the known names with their dtypes and sizes, and arrays are read without pickle.
"""

import datetime
import json
import os
import re
import stat
import tempfile
import zipfile

import numpy as np

from ._dynlib import ArgumentError

SCHEMA = "dynlib-snapshot-v1"
ENGINE = "dynlib C++"
MAX_FILE_BYTES = 256 << 20
MAX_MEMBER_BYTES = 64 << 20
# Workspace members of any engine (the reference library names its stepper's arrays): readable by
# inspect_snapshot; import_snapshot accepts only ours.
_WORKSPACE_MEMBER = re.compile(r"workspace/(stepper|runtime)/[A-Za-z_][A-Za-z0-9_]{0,63}")

# Text-format vector fields -> (.npz entry, dtype). Order is the text format's.
_VECTORS = [
    ("y", "y", np.float64),
    ("y_prev", "workspace/runtime/y_prev", np.float64),
    ("params", "params", np.float64),
    ("lag_ring", "workspace/runtime/lag_ring", np.float64),
    ("lag_head", "workspace/runtime/lag_head", np.int64),
    ("aux", "workspace/runtime/aux", np.float64),
    ("ws", "workspace/stepper/ws", np.float64),
    ("iws", "workspace/stepper/iws", np.int64),
    ("event_counts", "workspace/runtime/event_counts", np.int64),
    ("stepper_config", "stepper_config", np.float64),
]
# Text-format scalars kept in meta.json: (text key, meta key, kind).
_SCALARS = [
    ("t", "t_curr", "real"),
    ("dt", "dt_curr", "real"),
    ("step", "step_count", "int"),
    ("status", "status", "int"),
    ("has_workspace", "has_workspace", "int"),
    ("t_base", "t_base", "real"),
    ("step_base", "step_base", "int"),
    ("clock_dt", "clock_dt", "real"),
    ("time_shift", "time_shift", "real"),
    ("nominal_dt", "nominal_dt", "real"),
]
_DTYPE_TOKEN = {"float64": "f64", "float32": "f32"}


def _parse_text(text):
    fields = {}
    for line in text.decode("utf-8").splitlines()[1:]:
        key, _, rest = line.partition(" ")
        fields[key] = rest
    return fields


def _vector(rest, dtype):
    parts = rest.split()
    vals = parts[1:] if parts else []
    if dtype is np.float64:
        return np.array([float.fromhex(v) for v in vals], dtype=np.float64)
    return np.array([int(v) for v in vals], dtype=np.int64)


def _meta(sim, f, source_name):
    names = lambda key: f[key].split()[1:]  # noqa: E731
    cfg = sim.stepper_config()
    meta = {
        "schema": SCHEMA,
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "name": source_name,
        "description": f.get("description", ""),
        "pins": {
            "spec_hash": f["model_hash"],
            "stepper_name": f["stepper"],
            "workspace_sig": [len(_vector(f[k], np.float64 if k != "iws" else np.int64)) for k in ("ws", "iws")],
            "dtype_token": _DTYPE_TOKEN.get(f["dtype"], f["dtype"]),
            "dynlib_version": f["dynlib_version"],
        },
        "n_state": len(names("state_names")),
        "n_params": len(names("param_names")),
        "state_names": names("state_names"),
        "param_names": names("param_names"),
        "stepper_config_names": list(cfg),
        "stepper_config_values": [float(v) for v in cfg.values()],
        "engine": ENGINE,
        "model_source": f.get("model_source", ""),
        "dtype": f["dtype"],
    }
    for key, mkey, kind in _SCALARS:
        meta[mkey] = float.fromhex(f[key]) if kind == "real" else int(f[key])
    return meta


def export_snapshot(sim, path, *, source="current", name=None):
    """Write the session (or a named in-memory snapshot) to an .npz, atomically (temporary file in the
    same folder, then rename)."""
    if source not in ("current", "snapshot"):
        raise ArgumentError(f"source must be 'current' or 'snapshot', not {source!r}")
    if source == "snapshot" and name is None:
        raise ArgumentError("source='snapshot' needs the snapshot's name (name=...)")
    path = os.fspath(path)
    f = _parse_text(sim._snapshot_text(name if source == "snapshot" else ""))
    meta = _meta(sim, f, name if source == "snapshot" else "current")
    arrays = {"meta.json": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)}
    for key, entry, dtype in _VECTORS:
        v = _vector(f[key], dtype)
        if v.size or entry in ("y", "params"):
            arrays[entry] = v
    folder = os.path.dirname(os.path.abspath(path))
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ArgumentError(f"Cannot write snapshot '{path}': it exists and is not a regular file")
    except FileNotFoundError:
        pass
    base = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}_tmp_", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise ArgumentError(f"Cannot write snapshot '{path}': {e.strerror or e}") from None
        raise


def _open(path):  # noqa: C901  (one check after the other)
    """The checked archive: (zip members -> arrays loader, meta dict)."""
    path = os.fspath(path)
    fail = lambda why: ArgumentError(f"Cannot read snapshot file '{path}': {why}")  # noqa: E731
    try:
        st = os.stat(path)
    except OSError as e:
        raise fail(e.strerror) from None
    if not stat.S_ISREG(st.st_mode):
        raise fail("not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise fail(f"{st.st_size} bytes, more than the limit of {MAX_FILE_BYTES}")
    allowed = {"meta.json"} | {entry for _, entry, _ in _VECTORS}
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise fail(f"not an .npz archive ({e})") from None
    seen = set()
    for info in infos:
        entry = info.filename[:-4] if info.filename.endswith(".npy") else None
        if entry not in allowed and not (entry and _WORKSPACE_MEMBER.fullmatch(entry)):
            raise fail(f"unexpected member '{info.filename}'")
        if entry in seen:
            raise fail(f"member '{info.filename}' appears twice")
        if info.file_size > MAX_MEMBER_BYTES:
            raise fail(f"member '{info.filename}' is {info.file_size} bytes, more than {MAX_MEMBER_BYTES}")
        seen.add(entry)
    if "meta.json" not in seen:
        raise fail("Missing 'meta.json'")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise fail(str(e)) from None

    def array(entry, dtype):
        try:
            a = npz[entry]
        except (OSError, ValueError) as e:  # a corrupt member, or one that would need pickle
            raise fail(f"member '{entry}': {e}") from None
        if a.ndim != 1 or a.dtype != dtype:
            raise fail(f"member '{entry}' must be a 1-D {np.dtype(dtype).name} array, not {a.ndim}-D {a.dtype}")
        return a

    raw = array("meta.json", np.uint8)
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise fail(f"Invalid JSON in meta.json ({e})") from None
    if not isinstance(meta, dict):
        raise fail("Invalid JSON in meta.json (not an object)")
    if meta.get("schema") != SCHEMA:
        raise fail(f"Unsupported schema {meta.get('schema')!r} (expected {SCHEMA!r})")
    return npz, array, meta, seen, fail


def inspect_snapshot(path):
    """The meta.json of an .npz snapshot as a dict (checked like a load, nothing is loaded)."""
    npz, _, meta, _, _ = _open(path)
    npz.close()
    return meta


def import_snapshot(sim, path):
    """Replace the session by an .npz snapshot's, after the engine's checks of every field."""
    npz, array, meta, seen, fail = _open(path)
    with npz:
        if meta.get("engine") != ENGINE:
            raise fail(
                "written by another engine (the reference Python library?): its model hash and workspace "
                "layout are not dynlib's, so it cannot be resumed exactly here; set its states and parameters "
                "with sim.assign() instead"
            )
        known = {"meta.json"} | {entry for _, entry, _ in _VECTORS}
        if seen - known:
            raise fail(f"unexpected member '{sorted(seen - known)[0]}.npy'")
        pins = meta.get("pins")
        if not isinstance(pins, dict):
            raise fail("meta.json has no 'pins' object")

        def text(key, kind="str"):
            v = meta.get(key) if key not in ("spec_hash", "stepper_name", "dynlib_version") else pins.get(key)
            ok = {"str": isinstance(v, str), "int": isinstance(v, int) and not isinstance(v, bool),
                  "real": isinstance(v, (int, float)) and not isinstance(v, bool)}[kind]
            if not ok:
                raise fail(f"meta.json: '{key}' is missing or not a {kind}")
            if kind == "real":
                return float(v).hex()
            if kind == "str" and ("\n" in v or "\r" in v):
                raise fail(f"meta.json: '{key}' contains a line break")
            return str(v)

        def names(key):
            v = meta.get(key)
            if not isinstance(v, list) or not all(isinstance(n, str) and n and not any(c.isspace() for c in n)
                                                   for n in v):
                raise fail(f"meta.json: '{key}' must be a list of names")
            return f"{len(v)} " + " ".join(v) if v else "0"

        lines = [
            "dynlib-snapshot v1",
            f"name {text('name')}",
            f"description {text('description')}",
            f"model_hash {text('spec_hash')}",
            f"model_source {text('model_source')}",
            f"stepper {text('stepper_name')}",
            f"dtype {text('dtype')}",
            f"dynlib_version {text('dynlib_version')}",
            f"state_names {names('state_names')}",
            f"param_names {names('param_names')}",
        ]
        scalars = {k: text(m, kind) for k, m, kind in _SCALARS}
        for k in ("t", "dt", "step", "status", "has_workspace", "t_base", "step_base", "clock_dt", "time_shift",
                  "nominal_dt"):
            lines.append(f"{k} {scalars[k]}")
        for key, entry, dtype in _VECTORS:
            if entry in seen:
                v = array(entry, dtype)
                vals = [float(x).hex() for x in v] if dtype is np.float64 else [str(int(x)) for x in v]
                lines.append(f"{key} {len(vals)}" + "".join(" " + x for x in vals))
            elif entry in ("y", "params"):
                raise fail(f"missing member '{entry}.npy'")
            elif key != "event_counts":  # absent counts start at 0
                lines.append(f"{key} 0")
        lines.append("end")
    sim._load_snapshot_text("\n".join(lines) + "\n", os.fspath(path))
