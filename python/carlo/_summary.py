"""The summary of a run: one row per quantity, the columns of carlo's CSV, and the
job that reproduces it."""
import os

from . import _carlo

_ROW_TYPES = {}


def _row_type(columns):
    """The row type of these columns (made once: namedtuple is slow to make)."""
    if columns not in _ROW_TYPES:
        import collections

        _ROW_TYPES[columns] = collections.namedtuple("Row", columns, rename=True)
    return _ROW_TYPES[columns]


class Summary:
    """What a run estimated: one row per quantity, with every column of the CSV
    summary as a typed attribute (``row.estimate`` is a float, ``row.samples`` an
    int, an empty cell is ``None``).

    ``summary["price"]`` or ``summary[0]`` is a row; ``to_csv()`` is byte for byte
    the CSV ``carlo run`` writes for the same run; ``to_pandas()`` a DataFrame;
    ``job`` the job (every value that decides the bits), which ``to_json()`` carries
    and ``to_csv(path)`` writes beside the summary, so that ``carlo verify PATH`` (or
    :func:`carlo.verify`) recomputes and compares it.
    """

    def __init__(self, data, shipment=None):
        self.columns = tuple(data["columns"])
        row = _row_type(self.columns)
        self.rows = [row(*values) for values in data["rows"]]
        #: A short hash of everything that decides the bits of the result.
        self.fingerprint = data["fingerprint"]
        #: The job, as a dict: ``samples``, ``seed``, ``chunk_size``, ``confidence``,
        #: ``model`` (with its parameters), and ``target``, ``sampler``, ``sweep`` when
        #: set.
        import json

        self.job = json.loads(data["job"])
        self._job_toml = data["job_toml"]
        self._digests = data["digests"]
        self._csv = data["csv"]
        self._json = data["json"]
        self._table = data["table"]
        self._shipment = shipment

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, key):
        if isinstance(key, str):
            for row in self.rows:
                if row.quantity == key:
                    return row
            names = ", ".join(row.quantity for row in self.rows)
            raise KeyError(f"no quantity {key!r}; this summary has {names}")
        return self.rows[key]

    def to_csv(self, path=None):
        """The CSV summary, as ``carlo run --format csv`` writes it. With ``path``,
        also written there, with what ``carlo run --out PATH`` writes beside it: the
        job (``NAME.job.toml``) and the run's block digests, by groups of 16 blocks
        (``NAME.chunks``); and a
        model shipped by value as ``CODE.pkl``, which ``carlo verify`` finds with
        ``CARLO_FUNCTIONS`` pointing at the folder (``carlo.verify`` looks there by
        itself)."""
        if path is not None:
            path = os.fspath(path)
            job, digests = _carlo.side_files(path)
            _write(path, self._csv.encode("utf-8"))
            _write(job, self._job_toml.encode("utf-8"))
            _write(digests, self._digests)
            shipment = self._shipment
            if shipment is not None and shipment.by_value:
                from . import _entry

                folder = os.path.dirname(os.path.abspath(path))
                try:
                    _entry.store(shipment.code, shipment.payload(), folder)
                except TypeError:
                    pass  # runs in this process only; carlo verify will say so
        return self._csv

    def to_json(self):
        """The summary as ``carlo run --format json`` writes it: every column, and the
        job in each row (``"job"``), so that the JSON alone says how to reproduce it."""
        return self._json

    def to_dicts(self):
        """The rows as dicts, keys in column order."""
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_pandas(self):
        """The rows as a pandas DataFrame (pandas must be installed); floats keep
        every bit."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install pandas") from None
        return pandas.DataFrame.from_records(
            [tuple(row) for row in self.rows], columns=list(self.columns)
        )

    def __str__(self):
        return self._table

    def __repr__(self):
        return f"<carlo.Summary {self.rows[0].name}: {len(self.rows)} rows>\n{self._table}"


def _write(path, data):
    """Writes ``data`` to ``path`` atomically (a temporary file beside it, then a
    rename), as carlo writes every output."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".carlo-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
