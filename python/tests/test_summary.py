"""Summaries round-trip: the CSV is the CLI's, rows are typed, pandas keeps the bits."""
import csv
import io
import json

import pytest

import carlo
import models
from conftest import EXECUTION_COLUMNS, REPO

CONFIG = REPO / "configs" / "european.toml"


def _cells(text):
    return list(csv.reader(io.StringIO(text)))


def test_to_csv_is_the_cli_csv(run_cli, tmp_path):
    cli = run_cli("run", CONFIG, "--samples", "100000", "--workers", "2", "--out", "-",
                  "--format", "csv", "--quiet").stdout
    ours = carlo.run(CONFIG, samples=100_000, workers=2)
    text = ours.to_csv()
    # Byte for byte but the timings: same header, same row layout, same cells.
    ours_rows, cli_rows = _cells(text), _cells(cli)
    assert ours_rows[0] == cli_rows[0]
    timing = [i for i, c in enumerate(cli_rows[0]) if c in ("wall_seconds", "samples_per_second")]
    for a, b in zip(ours_rows[1:], cli_rows[1:]):
        for i in timing:
            a[i] = b[i]
        assert a == b
    assert text.count("\n") == cli.count("\n") and text.endswith("\n")
    path = tmp_path / "summary.csv"
    assert ours.to_csv(path) == path.read_text()


def test_rows_are_typed():
    s = carlo.run_model(models.option, ["call", "put", "spot"], samples=50_000, seed=2,
                        backend="sequential", references={"spot": 105.1271096376024})
    assert s.columns[:4] == ("name", "model", "quantity", "estimate")
    assert len(s) == 3 and [r.quantity for r in s] == ["call", "put", "spot"]
    call = s["call"]
    assert call is s[0]
    assert isinstance(call.estimate, float) and isinstance(call.samples, int)
    assert call.samples == 50_000 and call.seed == 2 and call.model == "python"
    assert call.reference is None and call.reference_kind is None
    assert s["spot"].reference == 105.1271096376024 and s["spot"].reference_kind == "exact"
    assert call.ci_low < call.estimate < call.ci_high
    assert s.to_dicts()[2]["quantity"] == "spot"
    with pytest.raises(KeyError, match="no quantity 'delta'; this summary has call, put, spot"):
        s["delta"]
    assert "call" in str(s) and "carlo.Summary" in repr(s)
    assert len(s.fingerprint) == 16


def test_json_has_every_bit():
    s = carlo.run(CONFIG, samples=50_000)
    rows = json.loads(s.to_json())
    assert [r["estimate"] for r in rows] == [r.estimate for r in s]
    assert list(rows[0]) == list(s.columns) + ["job"]
    assert rows[0]["job"] == s.job and s.job["samples"] == 50_000


def test_to_pandas_keeps_every_bit():
    pandas = pytest.importorskip("pandas")
    s = carlo.run_model(models.option, ["call", "put", "spot"], samples=50_000, seed=2,
                        backend="threads", workers=2)
    frame = s.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(s.columns)
    assert frame["estimate"].tolist() == [r.estimate for r in s]
    assert frame["std_error"].tolist() == [r.std_error for r in s]
    assert frame.set_index("quantity").loc["put", "samples"] == 50_000


def test_execution_columns_are_the_only_difference():
    runs = [carlo.run(CONFIG, samples=60_000, backend=b, workers=w)
            for b, w in (("sequential", 1), ("processes", 2))]
    a, b = (_cells(r.to_csv()) for r in runs)
    differ = {a[0][i] for i in range(len(a[0])) if a[1][i] != b[1][i]}
    assert differ <= EXECUTION_COLUMNS, differ
