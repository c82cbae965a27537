"""Synthetic Danish free-text comments for the twin, with their ground truth.

Every sentence here is written for this project (none is taken from the report's quoted comments).
A comment is built from one to three theme sentences chosen by the citizen's satisfaction: satisfied
citizens (score 4-5) write about the positive themes, dissatisfied ones (1-2) about the negative,
neutral ones (3) mix both. Some comments carry planted personal data (CPR-like numbers, phone
numbers, e-mail addresses, names, street addresses, web addresses) or markup, recorded in the ground
truth so that the privacy and free-text steps can measure themselves.
"""

from __future__ import annotations

import numpy as np

__all__ = ["POSITIVE_THEMES", "NEGATIVE_THEMES", "make_comment", "make_improvement"]

POSITIVE_THEMES: dict[str, list[str]] = {
    "kommunikation": [
        "Min sagsbehandler lyttede til mig og tog mine ønsker med, da vi lagde planen.",
        "Jeg følte mig hørt, og vi talte sammen om, hvad der passede til min situation.",
        "Der var en god dialog hele vejen, og jeg blev inddraget i beslutningerne.",
        "Hun forklarede tingene roligt og spurgte ind til, hvad jeg selv tænkte.",
        "Jeg blev set som et menneske og ikke bare som en sag.",
    ],
    "tillid_respekt": [
        "Jeg blev mødt med respekt fra første samtale.",
        "Jeg oplevede, at de stolede på mig og på det, jeg fortalte.",
        "De behandlede mig ordentligt og med tillid, også da det gik dårligt.",
        "Det betød meget, at jeg blev taget alvorligt.",
    ],
    "engagerede_sagsbehandlere": [
        "Min sagsbehandler var engageret og vidste virkelig, hvad hun talte om.",
        "Han var dygtig og fandt hurtigt de rigtige muligheder til mig.",
        "Jobkonsulenten gjorde en ekstra indsats for at finde en praktikplads.",
        "Jeg havde en kompetent rådgiver, som kendte reglerne til bunds.",
    ],
    "hjaelp_stoette": [
        "Jeg fik den støtte, jeg havde brug for, i en svær tid.",
        "De hjalp mig videre, da jeg var syg og ikke selv kunne overskue det.",
        "Forløbet gav mig ro, og jeg fik hjælp til at komme tilbage på arbejde.",
        "Jeg fik hjælp til at søge job og fik en ny stilling efter få måneder.",
    ],
}

NEGATIVE_THEMES: dict[str, list[str]] = {
    "individuelle_behov": [
        "Der blev ikke taget hensyn til mine behov, alt foregik efter en fast skabelon.",
        "Jeg følte mig som et nummer i rækken og ikke som en person med min egen situation.",
        "Kurset passede slet ikke til min uddannelse og erfaring.",
        "De lyttede ikke til, hvad jeg kunne klare med mit helbred.",
    ],
    "skift_sagsbehandler": [
        "Jeg har haft fire forskellige sagsbehandlere på et år og skulle starte forfra hver gang.",
        "Der var konstant nye sagsbehandlere, så ingen kendte min sag.",
        "Hver gang jeg fik en ny rådgiver, gik der måneder, før der skete noget.",
    ],
    "uklar_kommunikation": [
        "Jeg fik modstridende beskeder og vidste aldrig, hvad der var gældende.",
        "Referatet fra samtalen var forkert og lignede noget, der var kopieret fra en anden sag.",
        "Sagsbehandleren var ikke forberedt og kendte ikke papirerne fra min læge.",
        "Brevene var svære at forstå, og ingen ringede tilbage.",
    ],
    "utilstraekkelig_stoette": [
        "Jeg fik ingen reel hjælp til at finde et job.",
        "Der var ingen vejledning om uddannelse, selvom jeg spurgte flere gange.",
        "Jeg har ikke fået nogen støtte, kun krav om at søge flere job.",
        "Møderne handlede om kontrol og ikke om at hjælpe mig videre.",
    ],
    "systemet": [
        "Systemet er fyldt med regler og krav, som ingen kan gennemskue.",
        "Der er alt for meget bureaukrati, og det hele virker meningsløst.",
        "Det føles som om systemet er sat op til at mistro folk.",
        "Alle de obligatoriske møder tager modet fra en.",
    ],
}

IMPROVEMENTS = [
    "Færre skift af sagsbehandler ville have hjulpet.",
    "Mere tid til samtalerne og bedre forberedelse.",
    "Hurtigere svar på mails og opkald.",
    "Forløb der passer til den enkelte.",
    "Flere konkrete jobforslag.",
    "Det kunne ikke være bedre.",
    "Klarere information om reglerne fra starten.",
    "Mulighed for at mødes fysisk i stedet for på video.",
]

FIRST_NAMES = ["Mette", "Lars", "Anne", "Jens", "Hanne", "Søren", "Camilla", "Mads", "Louise", "Henrik",
               "Pia", "Thomas", "Birgitte", "Rasmus", "Lone", "Kasper"]
LAST_NAMES = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
              "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen"]
STREETS = ["Vestergade", "Nørregade", "Østergade", "Skovvej", "Møllevej", "Kirkevej"]
MARKUP = [
    "<script>document.title='HACKED'</script>",
    "<img src=x onerror=\"document.body.innerHTML='HACKED'\">",
    "[klik her](javascript:alert('x'))",
    "<a href=\"javascript:alert(1)\">se mere</a>",
    "**vigtigt** <b>fed</b> <iframe src=\"https://example.invalid\"></iframe>",
]


def _cpr(rng: np.random.Generator) -> str:
    day, month, year = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(40, 100))
    serial = int(rng.integers(0, 10000))
    sep = ["-", "", " "][int(rng.integers(0, 3))]
    return f"{day:02d}{month:02d}{year:02d}{sep}{serial:04d}"


def _phone(rng: np.random.Generator) -> str:
    digits = f"{int(rng.integers(2, 10))}{int(rng.integers(0, 10_000_000)):07d}"
    style = int(rng.integers(0, 4))
    if style == 0:
        return digits
    if style == 1:
        return " ".join(digits[i:i + 2] for i in range(0, 8, 2))
    if style == 2:
        return "+45 " + digits
    return "0045" + digits


def _pii(rng: np.random.Generator, kind: str) -> tuple[str, str]:
    """(sentence carrying the value, the planted value)."""
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
    if kind == "cpr":
        v = _cpr(rng)
        return f"Mit cpr-nummer er {v}, hvis I vil slå sagen op.", v
    if kind == "telefon":
        v = _phone(rng)
        return f"Ring gerne til mig på {v}.", v
    if kind == "email":
        v = f"{first.lower()}.{last.lower()}{int(rng.integers(1, 99))}@example.dk"
        return f"Skriv til {v} hvis der er spørgsmål.", v
    if kind == "navn":
        v = f"{first} {last}"
        return f"Jeg har talt med {v} flere gange.", v
    if kind == "adresse":
        v = f"{STREETS[int(rng.integers(len(STREETS)))]} {int(rng.integers(1, 120))}"
        return f"Jeg bor på {v}, og der kom aldrig post.", v
    v = f"www.{last.lower()}-privat.dk"
    return f"Jeg har skrevet om det på {v}.", v


PII_KINDS = ("cpr", "telefon", "email", "navn", "adresse", "web")


def make_comment(rng: np.random.Generator, score: int, pii_kind: str | None, markup: bool
                 ) -> tuple[str, list[str], list[tuple[str, str]]]:
    """One answer to 'Vil du uddybe ...?' for a citizen whose satisfaction score is ``score``.

    Returns the text, the themes it touches, and the planted personal data as (kind, value) pairs.
    """
    if score >= 4:
        banks = [POSITIVE_THEMES]
    elif score <= 2:
        banks = [NEGATIVE_THEMES]
    else:
        banks = [POSITIVE_THEMES, NEGATIVE_THEMES]
    n_themes = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
    themes: list[str] = []
    sentences: list[str] = []
    for i in range(n_themes):
        bank = banks[i % len(banks)]
        names = sorted(bank)
        theme = names[int(rng.integers(len(names)))]
        if theme in themes:
            continue
        themes.append(theme)
        options = bank[theme]
        sentences.append(options[int(rng.integers(len(options)))])
    planted: list[tuple[str, str]] = []
    if pii_kind:
        sentence, value = _pii(rng, pii_kind)
        sentences.insert(int(rng.integers(0, len(sentences) + 1)), sentence)
        planted.append((pii_kind, value))
    if markup:
        sentences.append(MARKUP[int(rng.integers(len(MARKUP)))])
    return " ".join(sentences), themes, planted


def make_improvement(rng: np.random.Generator) -> str:
    """One answer to 'Hvad kunne have gjort dit forløb (endnu) bedre?'."""
    return IMPROVEMENTS[int(rng.integers(len(IMPROVEMENTS)))]
