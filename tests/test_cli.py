"""The survey-report command line."""

from typer.testing import CliRunner

import builders
from survey_lib.cli import app

runner = CliRunner()


def test_validate_ok(tmp_path):
    builders.write(builders.frames(), tmp_path)
    res = runner.invoke(app, ["validate", str(tmp_path), "--params", str(builders.PARAMS_DIR)])
    assert res.exit_code == 0, res.output
    assert "population rows: 12" in res.output
    assert "respondents by status: complete: 5, partial: 1" in res.output
    assert "  Odder: 4" in res.output
    assert "  tillid: 6" in res.output
    assert "No faults found." in res.output


def test_validate_reports_faults_and_exits_1(tmp_path):
    frames = builders.frames()
    frames["population"].loc[1, "koen"] = "X"
    builders.write(frames, tmp_path)
    res = runner.invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 1
    assert "1 fault(s):" in res.output
    assert "population.csv, row 2, column 'koen': unknown gender" in res.output


def test_bad_params_exit_2(tmp_path):
    res = runner.invoke(app, ["validate", str(tmp_path), "--params", str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert "parameter file not found" in res.output


def test_missing_data_dir(tmp_path):
    res = runner.invoke(app, ["validate", str(tmp_path / "nothing")])
    assert res.exit_code == 1
    assert "the data folder does not exist" in res.output
