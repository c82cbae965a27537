"""Write the notebooks (after any change here; they are committed without outputs, and a test checks
that the committed files are what this script writes).

Usage: .venv/bin/python scripts/make_notebooks.py
Each notebook: an annotated introduction in Danish, one tagged parameters cell, and calls into
survey_lib.notebook (the logic lives in the library).
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]

THEMES = {
    "10_moedet_med_jobcentret": ("moedet", "Mødet med jobcentret",
                                 "Temaet handler om, hvordan borgeren bliver mødt: med tillid, med udgangspunkt i "
                                 "egen situation, og om borgerens idéer bliver hørt, når forløbet planlægges."),
    "20_maal_og_aktiviteter": ("maal", "Mål og aktiviteter",
                               "Temaet handler om, hvorvidt forløbet har et klart mål, om aktiviteterne giver "
                               "mening i forhold til målet, og – for aktivitetsparate – om kontakten med andre "
                               "afdelinger og deres samarbejde."),
    "30_samtalen": ("samtalen", "Samtalen",
                    "Borgeren er bedt om at tænke tilbage på sin seneste samtale: var formålet klart, var "
                    "sagsbehandleren forberedt, blev regler formidlet forståeligt, og blev der lagt en konkret plan "
                    "(spørgsmålet findes i tre varianter efter målgruppe)."),
    "40_progression": ("progression", "Progression",
                       "Temaet handler om bevægelse mod job eller uddannelse: konkrete jobmuligheder, om indsatsen "
                       "bringer borgeren tættere på job eller uddannelse, og om forløbet har øget troen på at komme "
                       "i arbejde. Spørgsmålene stilles til forskellige målgrupper."),
    "50_overordnet_tilfredshed": ("tilfredshed", "Overordnet tilfredshed",
                                  "Borgerne er afslutningsvist spurgt, hvor tilfredse eller utilfredse de alt i alt "
                                  "har været med deres forløb i jobcentret."),
}

PARAMS = """kommune = None      # municipality name as in params/kommuner.yaml; None: all municipalities together
data_dir = None     # folder with population, sample and responses; None: the built-in demo data
params_dir = None   # folder with the YAML parameter files; None: the project's params/
tables_dir = None   # folder written by `survey-report tables` (read instead of computing); None: compute
wave = None         # name of the survey wave, checked against params_dir's survey.yaml; None: that wave"""


SPECIAL = {
    "00_sammenfatning": ("Sammenfatning", "Et overblik: temascorerne, de spørgsmål borgerne vurderer højest og "
                         "lavest, hvor forskellene mellem grupper er størst, hvor kommunen ligger i forhold til de "
                         "øvrige kommuner – rå og justeret for borgernes sammensætning, med placering og "
                         "tragtdiagrammer – og for alle kommuner den mest og mindst tilfredse kommune pr. spørgsmål. "
                         "Detaljerne står i temaernes notebooks.",
                         "from survey_lib.notebook import open_context, show_summary\n\n"
                         "ctx = open_context(kommune, data_dir, params_dir, tables_dir, wave)",
                         "show_summary(ctx);"),
    "01_frafald": ("Design og frafald", "Hvem blev spurgt, hvem svarede – og hvem svarede ikke? Notebooken beskriver "
                   "undersøgelsens design og sammenligner respondenterne med den "
                   "udtrukne stikprøve på registeroplysningerne, modellerer sandsynligheden for at svare og måler "
                   "repræsentativiteten med R-indikatoren (Schouten m.fl. 2009). Den er skrevet til metodefolk: "
                   "hvert trin siger, hvad der er gjort og hvorfor.",
                   "from survey_lib.notebook import open_nonresponse, show_design, show_nonresponse\n\n"
                   "params, report = open_nonresponse(kommune, data_dir, params_dir, tables_dir, wave)",
                   ("# Undersøgelsens design: population, målgrupper og dataindsamling\nshow_design(params, report);",
                    "show_nonresponse(params, report);")),
    "02_vaegtning": ("Vægtning", "Svarene vægtes, så respondenterne ligner populationen på registeroplysningerne "
                     "(hvilke og hvordan står nedenfor, som survey.yaml angiver det). Notebooken viser cellerne, "
                     "vægtenes fordeling, designeffekten, balancen efter vægtning, hvad vægtningen ændrer i "
                     "resultaterne, hvor følsomme resultaterne er for valget af metode, og et regneeksempel på vægtede "
                     "og ikke-vægtede andele.",
                     "from survey_lib.notebook import open_nonresponse, show_weighting\n\n"
                     "params, report = open_nonresponse(kommune, data_dir, params_dir, tables_dir, wave)",
                     ("show_weighting(params, report);",
                      "from survey_lib.notebook import open_context, show_weighting_example\n\n"
                      "ctx = open_context(kommune, data_dir, params_dir, tables_dir, wave)",
                      "# Regneeksempel: vægtede og ikke-vægtede andele\nshow_weighting_example(ctx);")),
    "60_udvikling": ("Udvikling siden sidst", "Har kommunen flyttet sig siden de tidligere runder, og er ændringen "
                     "reel? Med tre eller flere runder: tendensen over alle runderne (den gennemsnitlige ændring pr. "
                     "runde, testet). For hver tidligere runde og hvert spørgsmål og tema: den tidligere og den "
                     "seneste score med 95 %-konfidensinterval, ændringen og om den er statistisk sikker (testet på "
                     "forskellen, rettet for mange test i samme kommune), andelen med de to mest positive svar, "
                     "kommunens placering blandt kommunerne i begge runder, en figur over runderne, og hvilke "
                     "spørgsmål der ikke kan sammenlignes og hvorfor. Landstallene vises både for alle deltagere og "
                     "for de kommuner, der deltog i alle de sammenlignede runder; det er den sidste sammenligning, "
                     "man kan stole på.",
                     "# indlæs funktionen, der viser udviklingen\nfrom survey_lib.trend import show_trend",
                     "# vis udviklingen siden de tidligere runder\nshow_trend(kommune, tables_dir);"),
}


# the free-text section (issue: free-text analysis) closes the satisfaction notebook
FREE_TEXT = {"50_overordnet_tilfredshed": (
    "## Hvad borgerne skriver\n\n"
    "Borgerne kunne uddybe deres svar på spørgsmålet om den samlede tilfredshed med egne ord. Kommentarerne "
    "er renset for personoplysninger (navne, cpr-numre, telefonnumre, adresser m.m. er erstattet af "
    "[NAVN], [CPR] osv.), inden de indgår her. Afsnittet viser, hvilke temaer kommentarerne handler om "
    "(kodet med en gennemsigtig ordliste i `params/freetext.yaml`, vægtet som resten af analysen og med "
    "95 %-konfidensintervaller), de hyppigste ord, de ord der bedst skiller tilfredse fra utilfredse "
    "borgere, og nogle eksempler. En tilfældig, reproducerbar stikprøve af kommentarer til manuel "
    "læsning ligger i `tabeller/kommentarer_til_laesning.xlsx` med en kolonne til læserens kodning.")}


def _with_ids(nb, name: str):
    """Cell ids derived from the notebook name and position (reruns give the same file)."""
    import hashlib

    for i, cell in enumerate(nb.cells):
        cell.id = "c" + hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:8]   # never all digits
    return nb


def notebooks() -> dict[str, str]:
    """Every notebook's file text by name, as :func:`main` writes it."""
    out = {}
    for name, (title, intro, setup, call) in SPECIAL.items():
        nb = nbf.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "survey-lib", "display_name": "survey_lib (.venv)", "language": "python"}
        params = nbf.v4.new_code_cell(PARAMS)
        params.metadata["tags"] = ["parameters"]
        calls = (call,) if isinstance(call, str) else call
        nb.cells = [nbf.v4.new_markdown_cell(f"# {title}\n\n{intro}"), params, nbf.v4.new_code_cell(setup),
                    *(nbf.v4.new_code_cell(c) for c in calls)]
        out[name] = nbf.writes(_with_ids(nb, name))
    for name, (theme, title, intro) in THEMES.items():
        nb = nbf.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "survey-lib", "display_name": "survey_lib (.venv)", "language": "python"}
        params = nbf.v4.new_code_cell(PARAMS)
        params.metadata["tags"] = ["parameters"]
        nb.cells = [
            nbf.v4.new_markdown_cell(f"# {title}\n\n{intro}"),
            params,
            nbf.v4.new_code_cell("from survey_lib.notebook import open_context, show_reading_guide, show_theme\n\n"
                                 "ctx = open_context(kommune, data_dir, params_dir, tables_dir, wave)\n"
                                 "show_reading_guide(ctx.params)"),
            nbf.v4.new_code_cell(f'show_theme(ctx, "{theme}");'),
        ]
        if name in FREE_TEXT:
            nb.cells += [nbf.v4.new_markdown_cell(FREE_TEXT[name]),
                         nbf.v4.new_code_cell("from survey_lib.notebook import open_free_text, show_free_text\n\n"
                                              "free_text = open_free_text(kommune, data_dir, params_dir, tables_dir, wave)"),
                         nbf.v4.new_code_cell("show_free_text(ctx.params, free_text);")]
        out[name] = nbf.writes(_with_ids(nb, name))
    return out


def main() -> None:
    for name, text in notebooks().items():
        (ROOT / "notebooks" / f"{name}.ipynb").write_text(text + "\n", encoding="utf-8")
        print(f"wrote notebooks/{name}.ipynb")


if __name__ == "__main__":
    main()
