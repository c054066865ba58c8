"""Views over parts of a Results object: the firings of one event, and one run's segment."""

import numpy as np


class EventView:
    """The firings of one event. Each logged field is an array (NaN where a firing did not log it)."""

    def __init__(self, name, columns):
        self.name = name
        self._cols = dict(columns)
        self.step = self._cols.pop("step")
        self.record = self._cols.pop("record")

    @property
    def count(self):
        return int(self.step.size)

    def __len__(self):
        return self.count

    @property
    def fields(self):
        return list(self._cols)

    @property
    def t(self):
        if "t" not in self._cols:
            raise KeyError(f"Event {self.name!r} does not log 't'; add \"t\" to its log list")
        return self._cols["t"]

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self._cols:
                raise KeyError(f"Event {self.name!r} has no logged field {key!r}. Logged: {self.fields}")
            return self._cols[key]
        return np.column_stack([self[k] for k in key])

    def table(self):
        """All logged fields side by side, shape (count, fields), in the order of .fields."""
        if not self._cols:
            return np.empty((self.count, 0))
        return np.column_stack([self._cols[k] for k in self._cols])

    def __repr__(self):
        return f"<EventView {self.name!r}: {self.count} firings, fields {self.fields}>"


class SegmentView:
    """One run() call's records: .t, .step and [var] are slices (views) of the stitched results."""

    def __init__(self, results, segment):
        self._res = results
        self.meta = segment
        self.name = segment.name
        self.id = segment.id
        self._slice = slice(segment.rec_start, segment.rec_start + segment.rec_len)

    @property
    def t(self):
        return self._res.t[self._slice]

    @property
    def step(self):
        return self._res.step[self._slice]

    def __getitem__(self, var):
        return self._res[var][self._slice]

    def __len__(self):
        return self.meta.rec_len

    def __repr__(self):
        return f"<SegmentView {self.name!r}: {self.meta.rec_len} records>"
