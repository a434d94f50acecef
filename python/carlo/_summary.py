"""The summary of a run: one row per quantity, the columns of carlo's CSV."""
import collections
import functools


@functools.lru_cache(maxsize=None)
def _row_type(columns):
    return collections.namedtuple("Row", columns)


class Summary:
    """What a run estimated: one row per quantity, with every column of the CSV
    summary as a typed attribute (``row.estimate`` is a float, ``row.samples`` an
    int, an empty cell is ``None``).

    ``summary["price"]`` or ``summary[0]`` is a row; ``to_csv()`` is byte for byte
    the CSV ``carlo run`` writes for the same run; ``to_pandas()`` a DataFrame.
    """

    def __init__(self, data):
        self.columns = tuple(data["columns"])
        row = _row_type(self.columns)
        self.rows = [row(*values) for values in data["rows"]]
        #: A short hash of everything that decides the bits of the result.
        self.fingerprint = data["fingerprint"]
        self._csv = data["csv"]
        self._json = data["json"]
        self._table = data["table"]

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
        """The CSV summary, as ``carlo run --format csv`` writes it; also written to
        ``path`` when given."""
        if path is not None:
            with open(path, "w", newline="", encoding="utf-8") as f:
                f.write(self._csv)
        return self._csv

    def to_json(self):
        """The summary as ``carlo run --format json`` writes it."""
        return self._json

    def to_dicts(self):
        """The rows as dicts, keys in column order."""
        return [row._asdict() for row in self.rows]

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
