"""The later waves' twins: the published totals, valid data, and planted changes that are found in
the raw data where they were planted (and nowhere else)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from survey_lib.cli import app
from survey_lib.demo.waves import DELTA_RANGE, generate_wave
from survey_lib.load import check_inputs
from survey_lib.waves.twin import load_waves, truth_of


@pytest.fixture(scope="module")
def waves():
    return load_waves()


@pytest.fixture(scope="module")
def twins(waves):
    ws, cw = waves
    truth = truth_of("2025", ws, cw)
    planted = {(r.kommune, r.question): r.change for r in truth.itertuples() if r.change != 0}
    return {"2024": generate_wave(ws["2024"].params, "2024", cw.to_stable("2024")),
            "2025": generate_wave(ws["2025"].params, "2025", cw.to_stable("2025"), planted)}, truth


def test_published_totals(twins):
    d, _ = twins
    # issue 16: 2024 44 municipalities, 38.8 %, more than 33,000; 2025 29, 61,868 invited, 20,247
    assert d["2024"].population["kommune"].nunique() == 44 and len(d["2024"].responses) > 33_000
    assert round(100 * len(d["2024"].responses) / len(d["2024"].sample), 1) == 38.8
    assert d["2025"].population["kommune"].nunique() == 29
    assert (len(d["2025"].sample), len(d["2025"].responses)) == (61_868, 20_247)


def test_twin_2025_passes_the_data_contract(twins, waves, tmp_path):
    from survey_lib.demo import write_dataset

    write_dataset(twins[0]["2025"], tmp_path)
    result = check_inputs(tmp_path, waves[0]["2025"].params)
    assert result.faults == []


def test_ground_truth_covers_the_panel(twins, waves):
    ws, cw = waves
    _, truth = twins
    panel = set(ws["2024"].kommuner) & set(ws["2025"].kommuner)
    assert set(truth["kommune"]) == panel and len(panel) == 22
    assert "plan_uddannelse" not in set(truth["question"]) and "formidling" in set(truth["question"])
    planted = truth.loc[truth["change"] != 0, "change"].abs()
    assert planted.between(*DELTA_RANGE).all() and len(planted) > 50


def test_planted_changes_show_in_the_raw_means(twins):
    """Municipality and question effects are the same in both waves and only the planted pairs
    move: the raw change minus the planted one is pure sampling noise (z about N(0, 1)), and the
    raw change follows the planted one with slope 1."""
    d, truth = twins

    def stats(data):
        r = data.responses.merge(data.population[["person_id", "kommune"]], on="person_id")
        long = r.melt(id_vars="kommune", value_vars=sorted(set(truth["question"])), var_name="question")
        g = long[long["value"].between(1, 5)].groupby(["kommune", "question"])["value"]
        return pd.DataFrame({"m": g.mean().astype(float), "v": g.var().astype(float), "n": g.size()})

    a, b = stats(d["2024"]), stats(d["2025"])
    t = truth.set_index(["kommune", "question"])
    observed = b["m"] - a["m"]
    z = ((observed - t["change"]) / np.sqrt(a["v"] / a["n"] + b["v"] / b["n"])).dropna()
    assert len(z) == len(t)
    assert 0.85 < z.std() < 1.2 and abs(z.mean()) < 0.2
    slope = np.polyfit(t["change"], observed.reindex(t.index), 1)[0]
    assert 0.85 < slope < 1.15


def test_cli_unknown_wave_and_scale_conflict(tmp_path):
    r = CliRunner().invoke(app, ["demo-data", "--out", str(tmp_path), "--wave", "2019"])
    assert r.exit_code == 2 and "no twin for ['2019']; expected one of ['2023', '2024', '2025'] or 'all'" in r.output
    r = CliRunner().invoke(app, ["demo-data", "--out", str(tmp_path), "--wave", "2024", "--scale", "national"])
    assert r.exit_code == 2 and "cannot be combined with --scale" in r.output
