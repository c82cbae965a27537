"""Wave parameters (params/waves/<wave>/wave.yaml over the shared params/) and the question crosswalk:
the project's three waves load, and each kind of bad input is a clear error naming file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from survey_lib.errors import ParamsError
from survey_lib.paths import ProjectPaths
from survey_lib.waves import list_waves, load_crosswalk, load_wave

PARAMS = ProjectPaths().params


def _crosswalk(params_dir: Path):
    waves = {w: load_wave(w, params_dir).params for w in list_waves(params_dir)}
    return load_crosswalk(params_dir / "waves" / "crosswalk.yaml", waves)


@pytest.fixture
def params_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "params"
    shutil.copytree(PARAMS, dst)
    return dst


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_three_waves_load_with_their_published_shape():
    assert list_waves() == ["2023", "2024", "2025"]
    w23, w24, w25 = (load_wave(w) for w in ("2023", "2024", "2025"))
    assert (len(w23.kommuner), len(w24.kommuner), len(w25.kommuner)) == (13, 44, 29)   # issue 16
    assert w23.params.kommuner == load_wave("2023").params.kommuner
    labels = [t.label for t in w25.params.questionnaire.themes if t.id != "status"]
    assert set(labels) == {"Overordnet tilfredshed", "Mødet med jobcentret", "Mål og aktiviteter",
                           "Samarbejde på tværs af forvaltninger", "Samtalen", "Progression"}
    # only what differs is in the wave file: the shared parts are the shared ones
    assert w25.params.survey.breakdowns == w23.params.survey.breakdowns
    assert w25.params.survey.closing_date.isoformat() == "2025-11-24"
    assert w25.params.questionnaire.question("tro_paa_job").scale == "enig"
    pilot = set(w23.kommuner)
    assert 0 < len(pilot & set(w24.kommuner)) < 13 and 0 < len(pilot & set(w25.kommuner)) < 13


def test_crosswalk_comparability_and_reasons():
    cw = _crosswalk(PARAMS)
    assert cw.question("tillid", "2023", "2025").comparable
    f = cw.question("formidling", "2023", "2025")
    assert not f.comparable and "Ordlyden" in f.reason
    assert cw.question("formidling", "2024", "2025").comparable          # same new wording
    assert "nyt i 2024" in cw.question("kontakt_let", "2023", "2024").reason
    assert "udgået i 2025" in cw.question("plan_uddannelse", "2024", "2025").reason
    assert cw.question("tro_paa_job", "2024", "2025").comparable          # scale change with recoding
    assert cw.theme("progression", "2024", "2025").comparable
    assert cw.moved("samarbejde", "2024", "2025") == ("maal", "samarbejde")
    assert "flyttet til 'Samarbejde på tværs af forvaltninger'" in cw.theme("maal", "2024", "2025").reason
    assert not cw.theme("samtalen", "2024", "2025").comparable


def test_unknown_wave_names_the_known_ones():
    with pytest.raises(ParamsError, match=r"unknown wave '2026'.*\['2023', '2024', '2025'\]"):
        load_wave("2026")


def test_unknown_key_in_wave_file(params_copy):
    _edit(params_copy / "waves/2024/wave.yaml", "label:", "lable: x\nlabel:")
    with pytest.raises(ParamsError, match=r"waves/2024/wave\.yaml: unknown key 'lable'; allowed keys"):
        load_wave("2024", params_copy)


def test_municipality_not_in_register(params_copy):
    _edit(params_copy / "waves/2025/wave.yaml", "Rebild]", "Rebildd]")
    with pytest.raises(ParamsError, match=r"2025/wave\.yaml: kommuner\[28\]: unknown municipality 'Rebildd'; "
                 r"did you mean 'Rebild'\?"):
        load_wave("2025", params_copy)


def test_bad_code_in_merged_survey_names_wave_file_and_shared_file(params_copy):
    _edit(params_copy / "waves/2024/wave.yaml", "  wave: \"2024\"",
          "  wave: \"2024\"\n  multiple_testing: holmes")
    with pytest.raises(ParamsError, match=r"2024/wave\.yaml \(merged over .*survey\.yaml\): multiple_testing"):
        load_wave("2024", params_copy)


def test_wave_changes_unknown_question(params_copy):
    _edit(params_copy / "waves/2025/wave.yaml", "drop: [plan_uddannelse]", "drop: [plan_uddanelse]")
    with pytest.raises(ParamsError, match=r"questionnaire\.drop: unknown question 'plan_uddanelse' "
                 r"\(did you mean 'plan_uddannelse'\?\)"):
        load_wave("2025", params_copy)


# Each fault of the crosswalk: (text replaced, its replacement, the error that names the file and key)
CROSSWALK_FAULTS = [
    pytest.param('"2025": tillid}', '"2025": tilid}',
                 r"crosswalk\.yaml: questions\.tillid\.2025: unknown question 'tilid' "
                 r"\(did you mean 'tillid'\?\)",
                 id='unknown_question'),
    pytest.param("  udgangspunkt:", "  tillid: {\"2023\": tillid}\n  udgangspunkt:",
                 r"crosswalk\.yaml: key 'tillid' is given twice \(lines \d+ and \d+\); "
                 r"a stable id is mapped twice",
                 id='stable_id_mapped_twice'),
    pytest.param('"2025": udgangspunkt}', '"2025": tillid}',
                 r"questions\.udgangspunkt\.2025: question 'tillid' of wave 2025 is "
                 r"already mapped to stable id 'tillid'",
                 id='one_question_two_stable_ids'),
    pytest.param("      recode: {5: 5, 4: 4, 3: 3, 2: 2, 1: 1}\n", "",
                 r"questions\.tro_paa_job\.2025: the scale changed from 'grad' \(2024\) "
                 r"to 'enig' \(2025\) without a recoding",
                 id='scale_change_without_recoding'),
    pytest.param("recode: {5: 5,", "recode: {7: 5,",
                 r"tro_paa_job\.2025\.recode: codes \[7\] are not scores of wave 2025's "
                 r"scale 'enig'; scores without a recoding: \[5\]",
                 id='recode_code_not_in_scale'),
    pytest.param("      comparable: false\n", "",
                 r"questions\.formidling\.2024: reworded without 'comparable'",
                 id='reworded_needs_the_methodologists_mark'),
    pytest.param('  kontakt_let: {"2024": kontakt_let, "2025": kontakt_let}\n', "",
                 r"wave 2024's question 'kontakt_let' is not in the crosswalk",
                 id='missing_question_of_a_wave'),
]


@pytest.mark.parametrize(("old", "new", "error"), CROSSWALK_FAULTS)
def test_crosswalk_fault_is_named(params_copy, old, new, error):
    _edit(params_copy / "waves/crosswalk.yaml", old, new)
    with pytest.raises(ParamsError, match=error):
        _crosswalk(params_copy)
