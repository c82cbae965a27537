"""The notebooks: committed without outputs, parameters cell as papermill expects, and run on the
twin for all municipalities and for one, recording numbers equal to the engine's.

The notebook runs read the tables the shared pilot batch wrote (tests/conftest.py), as the batch's
own notebooks do; the engine's numbers they are checked against are computed here, once per test
worker, from the twin. One run computes from the data instead (tables_dir=None), on a small data
set."""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# papermill with the batch's warm kernel (survey_lib/batch/warm.py): one kernel per test worker,
# reset between notebooks, instead of a kernel start and the imports for every notebook (a warm
# kernel's page is byte for byte a fresh kernel's: tests/test_batch.py)
WARM = {"engine_name": "survey-warm", "reuse": 40, "request_save_on_cell_execute": False}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_parameters_cell(path):
    import papermill as pm

    params = pm.inspect_notebook(str(path))
    assert {"kommune", "data_dir", "params_dir", "tables_dir", "wave"} <= set(params)
    assert all(p["help"] for p in params.values()), "every parameter has a comment"


@pytest.fixture(scope="module", autouse=True)
def _warm_engine():
    import survey_lib.batch.warm  # noqa: F401 - registers the engine with papermill
    from survey_lib.batch.warm import shutdown_warm_kernel

    yield
    shutdown_warm_kernel()


@dataclass(frozen=True)
class Engine:
    """The engine's numbers on the twin, computed in this process -- never read from a file a
    notebook reads: the table pipeline for all municipalities and Odder, each scope's non-response
    report and free-text report."""

    tables: pd.DataFrame
    comparisons: pd.DataFrame
    nonresponse: dict
    free_text: dict


@pytest.fixture(scope="module")
def engine(params, twin_dir) -> Engine:
    from survey_lib.freetext.report import FreeTextCorpus, free_text_report
    from survey_lib.nonresponse import method_designs, nonresponse_report
    from survey_lib.pipeline import compute_tables

    c = compute_tables(twin_dir, params, scopes=["Odder"])
    designs = method_designs(c.data, params, default=c.design)
    corpus = FreeTextCorpus(c.design, params)
    t = c.tables.tables.copy()
    t[["group", "category"]] = t[["group", "category"]].astype("string").fillna("")
    return Engine(tables=t, comparisons=c.tables.comparisons,
                  nonresponse={k: nonresponse_report(c.data, params, kommune=k, design=c.design, designs=designs)
                               for k in (None, "Odder")},
                  free_text={s: free_text_report(c.design, params, s, corpus) for s in ("all", "Odder")})


def scope_tables(pilot_batch, kommune: str | None) -> str:
    """The tables folder the shared pilot batch (tests/conftest.py) wrote for the scope: tables,
    tests, comparisons, ``frafald/`` and ``fritekst/`` -- what the batch hands its notebooks.
    Read-only: the notebooks only read it."""
    from survey_lib.batch.jobs import ALL, slug
    from survey_lib.paths import TABLES_DIR

    return str(pilot_batch.wave_dir / slug(kommune or ALL) / TABLES_DIR)


THEME_NOTEBOOKS = [p for p in NOTEBOOKS if p.name[:2] in {"10", "20", "30", "40", "50"}]
CASES = [(p, k) for p in THEME_NOTEBOOKS for k in (None, "Odder")]


@pytest.mark.parametrize("path,kommune", CASES, ids=[f"{p.stem}-{k or 'all'}" for p, k in CASES])
def test_theme_notebooks_run_and_match_engine(pilot_batch, engine, path, kommune, tmp_path):
    import papermill as pm

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(path), str(out),
                        parameters={"kommune": kommune, "tables_dir": scope_tables(pilot_batch, kommune),
                                    "data_dir": str(pilot_batch.data_dir)},
                        kernel_name="survey-lib", progress_bar=False, **WARM)
    nb = json.loads(out.read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    recorded = [o["data"]["application/json"]["key_numbers"] for o in outputs
                if "application/json" in o.get("data", {})]
    assert recorded, "the notebook records its key numbers"
    free = [r["free_text"] for r in recorded if "free_text" in r]
    recorded = [r for r in recorded if "question" in r]
    scope = kommune or "all"
    if path.stem.startswith("50"):
        # the free-text section: comments and theme shares as the free-text engine computes them
        themes = engine.free_text[scope]["themes"]
        total = themes[themes["grouping"] == "total"]
        assert len(free) == 1 and free[0]["n_comments"] == int(total["n_comments"].iloc[0])
        assert free[0]["themes"] == pytest.approx(dict(zip(total["theme"], total["share"])))
    else:
        assert not free
    t = engine.tables
    for nums in recorded:
        row = t[(t["scope"] == scope) & (t["question"] == nums["question"]) & (t["breakdown"] == "total")]
        assert nums["scope"] == scope
        assert nums["n"] == int(row["n"].iloc[0])
        assert nums["mean"] == pytest.approx(float(row["mean"].iloc[0]), abs=1e-9)
        assert nums["top_two"] == pytest.approx(float(row[row["category"].isin(["5", "4"])]["share"].sum()), abs=1e-9)
    images = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert images and all(o.get("metadata", {}).get("image/svg+xml", {}).get("alt") for o in images)
    # exported HTML takes the text/html form, whose <img> carries the alt text
    assert all('alt="' in "".join(o["data"]["text/html"]) for o in images)
    if kommune:   # the municipality's place among all municipalities is shown
        text = "".join("".join(o["data"].get("text/markdown", "")) for o in outputs if "data" in o)
        assert "Odder ligger" in text


def _run_nonresponse_notebook(name: str, kommune: str | None, data_dir, tables_dir: str | None, out: Path) -> tuple:
    """Run the non-response or weighting notebook; its recorded key numbers and its outputs."""
    import papermill as pm

    pm.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(out),
                        parameters={"kommune": kommune, "data_dir": str(data_dir), "tables_dir": tables_dir},
                        kernel_name="survey-lib", progress_bar=False, **WARM)
    nb = json.loads(out.read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    nums = [o["data"]["application/json"]["key_numbers"] for o in outputs if "application/json" in o.get("data", {})][0]
    images = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert images and all(o["metadata"]["image/svg+xml"]["alt"] for o in images)
    return nums, outputs


def _assert_nonresponse_numbers(name: str, nums: dict, report) -> None:
    if name == "01_frafald":
        rates = report.response_rates
        assert nums["response_rate"] == pytest.approx(rates.loc[rates["variable"] == "total", "response_rate"].iloc[0])
        assert nums["R"] == pytest.approx(report.r_indicator["R"].iloc[0])
    else:
        assert nums["deff_kish"] == pytest.approx(report.weights_diagnostics["deff_kish"].iloc[0])
        assert nums["strata"] == len(report.strata)


def _assert_design_and_example(name: str, outputs: list, report, tables: pd.DataFrame, kommune: str | None) -> None:
    """01: the design section (population, the benefits of each målgruppe, data collection and
    reminders); 02: the worked example of weighted against unweighted shares, from the tables."""
    text = "".join("".join(o["data"].get("text/markdown", "")) for o in outputs if "data" in o)
    if name == "01_frafald":
        rates = report.response_rates
        assert "## Undersøgelsens design" in text and "Fra ydelse til målgruppe" in text
        assert r"| Aktivitetsparate | Kontanthjælp \(aktivitetsparat\)" in text
        assert "4. september 2023 og 11. september 2023" in text
        sampled = int(rates.loc[rates["variable"] == "total", "sampled"].iloc[0])
        assert f"{sampled:,}".replace(",", ".") + " blev udtrukket" in text
    else:
        example = [o["data"]["application/json"]["key_numbers"]["weighting_example"] for o in outputs
                   if "weighting_example" in o.get("data", {}).get("application/json", {}).get("key_numbers", {})]
        assert len(example) == 1 and "Regneeksempel: vægtede og ikke-vægtede andele" in text
        t = tables
        rows = t[(t["scope"] == (kommune or "all")) & (t["question"] == "tilfredshed") & (t["breakdown"] == "total")
                 & t["category"].isin(["4", "5"])]
        assert example[0]["weighted_top_two"] == pytest.approx(rows["share"].sum(), abs=1e-9)
        assert example[0]["unweighted_top_two"] == pytest.approx(rows["category_n"].sum() / rows["n"].iloc[0], abs=1e-12)
        assert example[0]["unweighted_top_two"] != pytest.approx(example[0]["weighted_top_two"], abs=1e-4)


@pytest.mark.parametrize("name,kommune", [("01_frafald", None), ("01_frafald", "Odder"), ("02_vaegtning", None),
                                          ("02_vaegtning", "Odder")])
def test_nonresponse_and_weighting_notebooks(pilot_batch, engine, name, kommune, tmp_path):
    """On the batch's tables (``frafald/``), the notebook's numbers are the engine's non-response
    report's, computed here from the data."""
    nums, outputs = _run_nonresponse_notebook(name, kommune, pilot_batch.data_dir, scope_tables(pilot_batch, kommune),
                                              tmp_path / "out.ipynb")
    _assert_nonresponse_numbers(name, nums, engine.nonresponse[kommune])
    _assert_design_and_example(name, outputs, engine.nonresponse[kommune], engine.tables, kommune)


@pytest.fixture(scope="module")
def odder_data(tmp_path_factory, twin_dir) -> Path:
    """The twin cut to Odder's citizens (population, sample and responses): a small data set for
    the one notebook run that computes from the data instead of reading tables."""
    from survey_lib.demo.write import write_frame

    folder = tmp_path_factory.mktemp("odder")
    population = pd.read_csv(twin_dir / "population.csv", dtype=str, keep_default_na=False)
    population = population[population["kommune"] == "Odder"]
    ids = set(population["person_id"])
    write_frame(population, folder / "population.csv", "csv")
    for role in ("sample", "responses"):
        frame = pd.read_csv(twin_dir / f"{role}.csv", dtype=str, keep_default_na=False)
        write_frame(frame[frame["person_id"].isin(ids)], folder / f"{role}.csv", "csv")
    return folder


def test_notebook_computes_without_tables(odder_data, tmp_path, params):
    """Without a tables folder (tables_dir=None) the notebook computes the non-response report from
    data_dir itself -- the numbers the engine computes from the same data (a small one: Odder's
    citizens only)."""
    from survey_lib.load import load_survey
    from survey_lib.nonresponse import nonresponse_report

    nums, _ = _run_nonresponse_notebook("01_frafald", "Odder", odder_data, None, tmp_path / "out.ipynb")
    report = nonresponse_report(load_survey(odder_data, params), params, kommune="Odder")
    _assert_nonresponse_numbers("01_frafald", nums, report)


@pytest.mark.parametrize("kommune", [None, "Odder"])
def test_summary_notebook(pilot_batch, engine, kommune, tmp_path):
    import papermill as pm

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "00_sammenfatning.ipynb"), str(out),
                        parameters={"kommune": kommune, "tables_dir": scope_tables(pilot_batch, kommune),
                                    "data_dir": str(pilot_batch.data_dir)},
                        kernel_name="survey-lib", progress_bar=False, **WARM)
    nb = json.loads(out.read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    nums = [o["data"]["application/json"]["key_numbers"] for o in outputs if "application/json" in o.get("data", {})][0]
    t = engine.tables
    scope = kommune or "all"
    for theme, mean in nums["themes"].items():
        row = t[(t["scope"] == scope) & (t["question"] == theme) & (t["breakdown"] == "total")]
        assert mean == pytest.approx(float(row["mean"].iloc[0]), abs=1e-9)
    text = "".join("".join(o["data"].get("text/markdown", "")) for o in outputs if "data" in o)
    funnels = [o for o in outputs if o.get("metadata", {}).get("image/svg+xml", {}).get("alt", "").startswith("Tragtdiagram")]
    assert len(funnels) == len(nums["themes"]) == len(nums["funnels"])        # one funnel plot per theme
    if kommune:
        comp = engine.comparisons
        comp = comp[comp["scope"] == kommune].set_index("question")
        assert nums["flags"] == comp["flag"].to_dict()
        adjusted = {q: f for q, f in comp["adjusted_flag"].items() if isinstance(f, str) and f}
        assert nums["adjusted_flags"] == adjusted and adjusted
        assert all(f"{kommune} har" in o["metadata"]["image/svg+xml"]["alt"] for o in funnels)
        assert set(nums["funnels"].values()) <= {"inside", "outside_95", "outside_998"}
        # the rank as 'nr. r af p (sikkert mellem a og b)', none below the reporting minimum
        r = comp.loc["tilfredshed"]
        assert rf"nr. {int(r['rank'])} af {int(r['n_municipalities'])} \(sikkert " in text
        small = comp[comp["n"] < 30]
        assert len(small) and small["rank"].isna().all()
        assert "Justeret forskel" in text and "den gennemsnitlige kommune med borgere som vores" in text
    else:
        # the most and least satisfied municipality per question, among those with >= 30 answers
        assert "## Mest og mindst tilfredse kommune" in text
        k = t[(t["scope"] == "all") & (t["breakdown"] == "kommune") & (t["question"] == "tilfredshed")
              & (t["n"] >= 30)].drop_duplicates("group")
        top, bottom = k.loc[k["mean"].idxmax()], k.loc[k["mean"].idxmin()]
        assert f"| Samlet tilfredshed | {top['group']} | " in text and f"| {bottom['group']} | " in text
        assert nums["extremes"] >= 10


@pytest.mark.parametrize("opener,missing", [("open_context", "tables.csv"), ("open_nonresponse", "response_rates.csv"),
                                            ("open_free_text", "themes.csv")])
def test_incomplete_tables_dir_is_an_error(twin_dir, opener, missing):
    """A tables folder without what the notebook reads stops it with the missing file's name; it never
    falls back to computing (from the demo data when data_dir is empty)."""
    import survey_lib.notebook as nbk
    from survey_lib.errors import SurveyError

    with pytest.raises(SurveyError, match=rf"tables_dir=.* is incomplete: missing \S*{missing}"):
        getattr(nbk, opener)("Odder", None, None, str(twin_dir))


def test_committed_notebooks_are_the_generators_output():
    """The notebooks are written by scripts/make_notebooks.py; an edit by hand (or a generator change
    without rerunning it) would make the committed notebooks drift from it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts" / "make_notebooks.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    expected = gen.notebooks()
    assert sorted(expected) == [p.stem for p in NOTEBOOKS]
    for name, text in expected.items():
        committed = (ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
        assert committed == text + "\n", f"notebooks/{name}.ipynb differs from scripts/make_notebooks.py's output"
