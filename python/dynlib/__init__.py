"""dynlib: dynamical systems (ODEs and maps) described in TOML, run by a C++ engine.

    import dynlib
    sim = dynlib.setup("builtin://ode/lorenz", stepper="rk4", jit=True)
    sim.run(T=50.0, dt=0.01)
    res = sim.results()
    res.t, res["x"]          # NumPy arrays (read-only views of the engine's results, no copy)

Models are interpreted (jit=False, instant start) or compiled to native code by the LLVM JIT
(jit=True; disk_cache=True keeps the code across processes). See docs/python.md.
"""

from ._dynlib import (  # noqa: F401  (re-exported API)
    AmbiguousModelError,
    ArgumentError,
    ArityError,
    BatchResults,
    BatchRun,
    CacheError,
    ConfigError,
    CyclicDependencyError,
    DynlibError,
    Event,
    EventError,
    ExpressionSyntaxError,
    FullModel,
    JitError,
    JITUnavailableError,
    LagError,
    ModelLoadError,
    ModelNotFoundError,
    ModError,
    NameConflictError,
    Observer,
    ObserverResult,
    PathTraversalError,
    Results,
    SchemaError,
    Segment,
    Sim,
    SimulationError,
    Status,
    StepperJitCapabilityError,
    StepperKindMismatchError,
    SweepResults,
    TomlSyntaxError,
    UnknownIdentifierError,
    UnknownStepperError,
    build,
    builtin_models,
    jit_available,
    list_steppers,
    lyapunov_mle,
    lyapunov_spectrum,
    run_batch,
    setup,
    stepper_info,
    sweep,
)
import os

from . import _npz
from ._views import EventView, SegmentView
from . import analysis, plot  # noqa: E402,F401  (plot imports matplotlib only when a function is called)

__version__ = "0.1.0"

# UnknownStepperError is also a KeyError for scripts that catch that, but prints like other errors.
UnknownStepperError.__str__ = Exception.__str__


def _event(self, name):
    """The firings of one event: .t, ['field'], .count, .fields, .table()."""
    return EventView(name, self._event_columns(name))


def _segment(self, key):
    """One run() call's part of the results, by index (-1: the last) or name."""
    segs = self.segments
    if isinstance(key, str):
        for s in segs:
            if s.name == key:
                return SegmentView(self, s)
        raise KeyError(f"Unknown segment {key!r}. Segments: {[s.name for s in segs]}")
    return SegmentView(self, segs[key])


def _to_pandas(self):
    """The records as a pandas DataFrame: columns t, step, flag (always 0), the recorded states and
    aux.<name> for recorded aux variables. Needs pandas (Debian: python3-pandas)."""
    try:
        import pandas as pd
    except ImportError as e:
        raise ImportError(
            "Results.to_pandas() needs pandas, which is not installed for this Python "
            "(Debian: apt install python3-pandas; otherwise pip install pandas)"
        ) from e
    import numpy as np

    cols = {"t": np.array(self.t), "step": np.array(self.step), "flag": np.zeros(len(self), dtype=np.int32)}
    for name in self.state_names:
        cols[name] = np.array(self[name])
    for name in self.aux_names:
        cols[f"aux.{name}"] = np.array(self[f"aux.{name}"])
    return pd.DataFrame(cols)


_export_text_snapshot = Sim.export_snapshot
_import_text_snapshot = Sim.import_snapshot


def _is_npz(path):
    return os.fspath(path).lower().endswith(".npz")


def _export_snapshot(self, path, *, source="current", name=None):
    """Write the session (source="current") or a named in-memory snapshot (source="snapshot", name=...)
    to a file, atomically: an .npz archive in the reference library's layout for a path ending in .npz,
    otherwise dynlib's text snapshot format."""
    if _is_npz(path):
        return _npz.export_snapshot(self, path, source=source, name=name)
    return _export_text_snapshot(self, os.fspath(path), source=source, name=name)


def _import_snapshot(self, path):
    """Replace the session by a snapshot file's (.npz or text), checked against the model and stepper."""
    if _is_npz(path):
        return _npz.import_snapshot(self, path)
    return _import_text_snapshot(self, os.fspath(path))


def _inspect_snapshot(self, path):
    """The meta.json of an .npz snapshot as a dict."""
    return _npz.inspect_snapshot(path)


Sim.export_snapshot = _export_snapshot
Sim.import_snapshot = _import_snapshot
Sim.inspect_snapshot = _inspect_snapshot
Results.event = _event
Results.segment = _segment
Results.to_pandas = _to_pandas

__all__ = [name for name in dir() if not name.startswith("_")]
