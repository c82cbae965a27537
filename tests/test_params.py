"""Loading and validating params/*.yaml."""

import re
import shutil
from pathlib import Path

import pytest
import yaml

from builders import PARAMS_DIR
from survey_lib.errors import ParamsError
from survey_lib.params import load_params


@pytest.fixture
def params_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, dst)
    return dst


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_project_params_load(params):
    qn = params.questionnaire
    assert len(params.kommuner) == 13
    assert [t.id for t in qn.themes] == ["status", "moedet", "maal", "samtalen", "progression", "tilfredshed"]
    # the report scores 16 questions on the 1-5 scale, incl. the three variants of the plan question
    assert len(qn.likert) == 16
    assert {q.id for q in qn.questions if q.kind == "free_text"} == {"uddybning", "forbedring"}
    assert qn.question("kontakt_afdelinger").columns[0] == "kontakt_afdelinger_kun_jobcentret"
    assert params.survey.closing_date.isoformat() == "2023-09-18"
    assert params.survey.maalgruppe_of_ydelse["ressourceforloeb"] == "aktivitetsparate"
    assert len(params.digest) == 64


def test_scales_score_five_most_positive(params):
    grad = params.questionnaire.scales["grad"]
    assert grad.label_of(5) == "I meget høj grad"
    assert grad.label_of(1) == "Slet ikke"
    assert grad.label_of(9) == "Ved ikke/ikke relevant"


def test_past_tense_used_for_ended_courses(params):
    q = params.questionnaire.question("tillid")
    assert q.text(current=True) == "I hvilken grad oplever du at blive mødt med tillid i jobcenteret?"
    assert q.text(current=False) == "I hvilken grad oplevede du at blive mødt med tillid i jobcenteret?"


def test_unknown_key_names_file_key_and_allowed_keys(params_copy):
    _edit(params_copy / "survey.yaml", lambda d: d.update(signifcance_level=0.01))
    with pytest.raises(ParamsError, match=re.compile(
            r"survey\.yaml: unknown key 'signifcance_level' at \(top level\); allowed keys: \[.*'significance_level'.*\]")):
        load_params(params_copy)


def test_unknown_key_in_nested_question_names_question_id(params_copy):
    def bad(d):
        d["questions"][2]["scael"] = "grad"
    _edit(params_copy / "questionnaire.yaml", bad)
    with pytest.raises(ParamsError, match=r"questionnaire\.yaml: unknown key 'scael' at questions\[2\] \(id 'tillid'\); "
                                          r"allowed keys: \[.*'scale'.*\]"):
        load_params(params_copy)


def test_missing_key_is_an_error(params_copy):
    _edit(params_copy / "survey.yaml", lambda d: d.pop("closing_date"))
    with pytest.raises(ParamsError, match=r"survey\.yaml: missing key 'closing_date'.*allowed keys"):
        load_params(params_copy)


def test_all_problems_reported_at_once(params_copy):
    _edit(params_copy / "survey.yaml", lambda d: d.update(foo=1, bar=2))
    _edit(params_copy / "kommuner.yaml", lambda d: d["kommuner"][0].update(cod=1))
    with pytest.raises(ParamsError) as exc:
        load_params(params_copy)
    text = str(exc.value)
    assert "'foo'" in text and "'bar'" in text and "kommuner.yaml" in text


def test_filter_with_unknown_value(params_copy):
    def bad(d):
        q = next(q for q in d["questions"] if q["id"] == "taettere_paa_job")
        q["asked_if"] = [{"maalgruppe": ["dagpenge", "jobparat"]}]
    _edit(params_copy / "questionnaire.yaml", bad)
    with pytest.raises(ParamsError, match=r"question 'taettere_paa_job': asked_if maalgruppe has unknown value\(s\) "
                                          r"\['jobparat'\]; allowed: \["):
        load_params(params_copy)


def test_filter_on_a_later_question_is_an_error(params_copy):
    def bad(d):
        q = next(q for q in d["questions"] if q["id"] == "tillid")
        q["asked_if"] = [{"tilfredshed": [5]}]
    _edit(params_copy / "questionnaire.yaml", bad)
    with pytest.raises(ParamsError, match=r"asked_if refers to 'tilfredshed', which is neither a register variable"):
        load_params(params_copy)


def test_scale_must_run_from_five_to_one(params_copy):
    def bad(d):
        d["scales"]["grad"]["categories"].reverse()
    _edit(params_copy / "questionnaire.yaml", bad)
    with pytest.raises(ParamsError, match=r"scores 5, 4, 3, 2, 1 in that order"):
        load_params(params_copy)


def test_missing_file_and_broken_yaml(params_copy):
    (params_copy / "kommuner.yaml").write_text("kommuner: [unclosed", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"kommuner\.yaml: not valid YAML"):
        load_params(params_copy)
    (params_copy / "kommuner.yaml").unlink()
    with pytest.raises(ParamsError, match=r"kommuner\.yaml: parameter file not found"):
        load_params(params_copy)


def test_duplicate_municipality(params_copy):
    _edit(params_copy / "kommuner.yaml", lambda d: d["kommuner"].append(dict(d["kommuner"][0])))
    with pytest.raises(ParamsError, match=r"name must be unique; repeated: \['Faaborg-Midtfyn'\]"):
        load_params(params_copy)


def test_params_are_frozen(params):
    with pytest.raises(Exception):
        params.survey.min_cell_size = 3


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["themes"]["systemet"].update(patterns=["~"]), r"freetext\.yaml: themes\.systemet: .*theme pattern '~'"),
    (lambda d: d["themes"]["systemet"].update(patterns=["NEG"]), r"freetext\.yaml: themes\.systemet: .*'NEG'"),
    (lambda d: d.update(compare=["tilfreds", "glad"]), r"freetext\.yaml: .*compare: \['glad'\] are not group codes"),
    (lambda d: d.update(question="uddybningg"),
     r"freetext\.yaml: question: 'uddybningg' is not a free_text question of questionnaire\.yaml; expected one of \["),
    (lambda d: d.update(satisfaction_question="uddybning"),
     r"freetext\.yaml: satisfaction_question: 'uddybning' is not a likert question"),
])
def test_free_text_params_are_checked_with_file_and_key(params_copy, edit, message):
    from survey_lib.errors import ParamsError
    from survey_lib.params import load_params

    _edit(params_copy / "freetext.yaml", edit)
    with pytest.raises(ParamsError, match=message):
        load_params(params_copy)
