"""`dynlib plot`: pictures (PNG or SVG) from the CSV files `dynlib run` and `dynlib sweep` write, drawn by
dynlib.plot. The `dynlib` command runs this module; it also runs alone:

    python3 -m dynlib.plot_cli run.csv --y x,y --out series.png
    python3 -m dynlib.plot_cli run.csv --phase x,y,z --out lorenz.svg
    python3 -m dynlib.plot_cli bif.csv --bifurcation --out bif.png        (sweep --record-last K)
    python3 -m dynlib.plot_cli grid.csv --map --out lyap.png              (2-D sweep, one row per point)

Exit codes: 0 written, 1 a file or column problem, 2 a usage error, 3 matplotlib or NumPy missing.
"""

import argparse
import csv
import math
import os
import stat
import sys

PROG = "dynlib plot"
EXIT_FAILED, EXIT_USAGE, EXIT_MISSING = 1, 2, 3
MAX_CSV_BYTES = 1 << 30  # a CSV larger than this is refused rather than read into memory


class PlotError(Exception):
    """A problem with an input file or a column name (exit code 1)."""


def _parser():
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Draw a PNG or SVG from the CSV of `dynlib run --out` or `dynlib sweep --out`.",
        epilog="Exit codes: 0 written, 1 a file or column problem, 2 a usage error, "
        "3 the Python component (NumPy, matplotlib) is missing.",
    )
    p.add_argument("csv", help="records of `dynlib run --out`, or the CSV of `dynlib sweep --out`")
    p.add_argument("--out", required=True, help="the picture to write: FILE.png or FILE.svg")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--phase", metavar="A,B[,C]", help="phase portrait of 2 variables, or 3 (in 3-D)")
    mode.add_argument(
        "--bifurcation",
        action="store_true",
        help="bifurcation diagram from `sweep --record-last K` (parameter against --y, default the first variable)",
    )
    mode.add_argument(
        "--map",
        action="store_true",
        help="a 2-D sweep (one row per point) as an image of --z (default the largest Lyapunov exponent)",
    )
    p.add_argument("--x", default="t", help="time-series abscissa (default t)")
    p.add_argument("--y", help="time series: variables, comma-separated (default every variable)")
    p.add_argument("--z", help="--map: the column drawn as colour")
    p.add_argument("--events", metavar="FILE", help="event log of `dynlib run --events-out`: marks the firings")
    p.add_argument("--event", metavar="NAMES", help="only these events of --events, comma-separated")
    p.add_argument("--size", default="800x600", help="picture size in pixels, WxH (default 800x600)")
    p.add_argument("--dpi", type=float, default=100.0, help="dots per inch (default 100)")
    p.add_argument("--title", help="a title over the plot")
    return p


def _check_input(path, option):
    try:
        st = os.stat(path)
    except OSError as e:
        raise PlotError(f"Cannot read {option} '{path}': {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise PlotError(f"Cannot read {option} '{path}': not a regular file")
    if st.st_size > MAX_CSV_BYTES:
        raise PlotError(f"Cannot read {option} '{path}': {st.st_size} bytes, more than the limit of {MAX_CSV_BYTES}")


def _number(cell):
    if cell == "":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return None


class Table:
    """A CSV with a header: numeric columns as float arrays (empty cells NaN), the others as lists of str."""

    def __init__(self, path, option):
        import numpy as np

        _check_input(path, option)
        self.path = path
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            rows = list(csv.reader(f))
        if not rows or not rows[0]:
            raise PlotError(f"'{path}' is empty; expected a header line such as 't,step,x'")
        self.names = rows[0]
        body = rows[1:]
        for k, row in enumerate(body, start=2):
            if len(row) != len(self.names):
                raise PlotError(f"'{path}' line {k}: {len(row)} cells, the header has {len(self.names)}")
        self.cols = {}
        for j, name in enumerate(self.names):
            cells = [row[j] for row in body]
            nums = [_number(c) for c in cells]
            self.cols[name] = cells if any(v is None for v in nums) else np.array(nums, dtype=float)

    def __len__(self):
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __contains__(self, name):
        return name in self.cols

    def __getitem__(self, name):
        if name not in self.cols:
            raise PlotError(f"'{self.path}' has no column '{name}'. Columns: {', '.join(self.names)}")
        col = self.cols[name]
        if isinstance(col, list):
            raise PlotError(f"Column '{name}' of '{self.path}' is not numeric")
        return col


class _CsvEvents:
    """An event log (event,t,step,<fields>) shaped like Results.event(name) for dynlib.plot."""

    def __init__(self, table):
        self.table = table
        self.names = list(dict.fromkeys(table.cols["event"])) if len(table) else []

    def times(self, name):
        import numpy as np

        ev = self.table.cols["event"]
        t = self.table["t"]
        return np.array([t[i] for i in range(len(ev)) if ev[i] == name])


class _CsvResults:
    """The records of `dynlib run --out` shaped like a Results for dynlib.plot."""

    def __init__(self, table, events=None):
        self._table, self._events = table, events
        self.t = table[table.names[0]] if table.names[0] == "t" else None
        self.state_names = [n for n in table.names if n not in ("t", "step")]

    def __getitem__(self, name):
        return self._table[name]

    def event(self, name):
        class _View:
            t = self._events.times(name)

        return _View()


def _names(text, option, count=None):
    names = [n.strip() for n in text.split(",") if n.strip()]
    if count is not None and len(names) not in count:
        raise _Usage(f"{option} takes {' or '.join(map(str, count))} names, comma-separated; got '{text}'")
    return names


class _Usage(Exception):
    """A usage error found after parsing (exit code 2)."""


def _figure(args):
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
        if not (16 <= w <= 20000 and 16 <= h <= 20000):
            raise ValueError
    except ValueError:
        raise _Usage(f"--size must be WxH in pixels, each 16..20000, e.g. 800x600; got '{args.size}'") from None
    if not (10.0 <= args.dpi <= 1200.0):
        raise _Usage(f"--dpi must be in 10..1200, got {args.dpi:g}")
    from matplotlib.figure import Figure

    return Figure(figsize=(w / args.dpi, h / args.dpi), dpi=args.dpi)


def _event_names(args, events):
    if events is None:
        if args.event:
            raise _Usage("--event needs --events FILE (the event log of `dynlib run --events-out`)")
        return []
    if not args.event:
        return events.names
    wanted = _names(args.event, "--event")
    for n in wanted:
        if n not in events.names:
            raise PlotError(
                f"Event '{n}' does not occur in '{events.table.path}'. Events there: "
                f"{', '.join(events.names) or '(none)'}"
            )
    return wanted


def _draw_series(fig, args, table, events):
    from . import plot

    ax = fig.add_subplot(111)
    res = _CsvResults(table, events)
    ys = _names(args.y, "--y") if args.y else res.state_names
    evs = _event_names(args, events)
    if args.x == "t":
        table["t"]
        plot.series(res, ys, ax=ax, events=evs or None, lw=0.8)
        return ax
    xs = table[args.x]
    for name in ys:
        ax.plot(xs, table[name], label=name, lw=0.8)
    for name in evs:  # the event times mapped onto the abscissa
        for i, x in enumerate(_interp(table, args.x, events.times(name))):
            ax.axvline(x, color="0.6", lw=0.8, ls="--", label=name if i == 0 else None)
    ax.set_xlabel(args.x)
    if len(ys) > 1 or evs:
        ax.legend()
    elif ys:
        ax.set_ylabel(ys[0])
    return ax


def _interp(table, name, t):
    import numpy as np

    return np.interp(t, table["t"], table[name])


def _draw_phase(fig, args, table, events):
    from . import plot

    names = _names(args.phase, "--phase", count=(2, 3))
    res = _CsvResults(table, events)
    for n in names:
        table[n]  # a clear error for an unknown column
    ax = fig.add_subplot(111, projection="3d" if len(names) == 3 else None)
    plot.phase(res, *names, ax=ax, lw=0.6)
    for k, name in enumerate(_event_names(args, events)):
        t = events.times(name)
        if "t" not in table:
            raise PlotError(f"Event markers need the column 't' in '{table.path}'")
        pts = [_interp(table, n, t) for n in names]
        ax.scatter(*pts, s=12, color=f"C{(k + 1) % 10}", label=name, zorder=3)
    if events is not None and _event_names(args, events):
        ax.legend()
    return ax


def _params_and_rest(table, marker):
    """The sweep's parameter columns: those before `marker` ("t" or "status")."""
    if marker not in table.names:
        return None
    return table.names[: table.names.index(marker)]


def _draw_bifurcation(fig, args, table):
    params = _params_and_rest(table, "t")
    if not params or "status" in table.names:
        raise PlotError(
            f"'{table.path}' is not a sweep with --record-last (header '<param>,t,<vars>'); "
            f"its header is '{','.join(table.names)}'"
        )
    vars_ = table.names[table.names.index("t") + 1 :]
    var = args.y or (vars_[0] if vars_ else None)
    if var is None or "," in var:
        raise _Usage("--bifurcation takes one variable: --y NAME")
    ax = fig.add_subplot(111)
    ax.scatter(table[params[0]], table[var], s=0.3, color="k", marker=".", linewidths=0)
    ax.set_xlabel(params[0])
    ax.set_ylabel(var)
    return ax


def _draw_map(fig, args, table):
    import numpy as np

    from . import plot

    params = _params_and_rest(table, "status")
    if not params or len(params) != 2:
        raise PlotError(
            f"--map needs a 2-D sweep written without --record-last (header '<p1>,<p2>,status,t,...'); "
            f"the header of '{table.path}' is '{','.join(table.names)}'"
        )
    z = args.z
    if z is None:
        lyap = [n for n in table.names if n.endswith(".mle") or n.endswith(".lyap0")]
        if not lyap:
            raise _Usage(
                f"'{table.path}' has no Lyapunov column (sweep --lyapunov 1); choose the colour with --z NAME "
                f"(columns: {', '.join(table.names[3:])})"
            )
        z = lyap[0]
    px, py, zz = table[params[0]], table[params[1]], table[z]
    xs, ys = np.unique(px), np.unique(py)
    if len(xs) * len(ys) != len(table) or len(xs) < 2 or len(ys) < 2:
        raise PlotError(f"'{table.path}' is not a full grid of at least 2x2 points over {params[0]} and {params[1]}")
    grid = np.full((len(xs), len(ys)), np.nan)
    grid[np.searchsorted(xs, px), np.searchsorted(ys, py)] = zz
    ax = fig.add_subplot(111)
    plot.lyapunov_map(grid, x=xs, y=ys, ax=ax)
    ax.set_xlabel(params[0])
    ax.set_ylabel(params[1])
    if not (z.endswith(".mle") or z.endswith(".lyap0")):
        ax.images[0].colorbar.set_label(z)
    return ax


def _run(args):
    ext = os.path.splitext(args.out)[1].lower()
    if ext not in (".png", ".svg"):
        raise _Usage(f"--out must end in .png or .svg, got '{args.out}'")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import numpy  # noqa: F401
        from mpl_toolkits.mplot3d import Axes3D  # noqa: F401  (registers the 3-D projection)
    except ImportError as e:
        print(
            f"{PROG}: error: drawing needs NumPy and matplotlib for {sys.executable}: {e}. "
            "Install python3-numpy and python3-matplotlib (Debian), or set DYNLIB_PYTHON to a Python that has them.",
            file=sys.stderr,
        )
        return EXIT_MISSING
    fig = _figure(args)
    table = Table(args.csv, "the CSV")
    events = None
    if args.events:
        ev = Table(args.events, "--events")
        if ev.names[:2] != ["event", "t"]:
            raise PlotError(f"'{args.events}' is not an event log of `dynlib run --events-out` (header 'event,t,step,...')")
        events = _CsvEvents(ev)
    if args.bifurcation:
        ax = _draw_bifurcation(fig, args, table)
    elif args.map:
        ax = _draw_map(fig, args, table)
    elif args.phase:
        ax = _draw_phase(fig, args, table, events)
    else:
        ax = _draw_series(fig, args, table, events)
    if args.title:
        ax.set_title(args.title)
    try:
        fig.savefig(args.out, format=ext[1:], dpi=args.dpi)
    except OSError as e:
        raise PlotError(f"Cannot write '{args.out}': {e.strerror or e}") from None
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)  # exits 2 with a usage message on bad options
    try:
        return _run(args)
    except _Usage as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except PlotError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
