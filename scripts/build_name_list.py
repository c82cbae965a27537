"""Build ``survey_lib/privacy/data/names_da.csv``: the Danish personal names the free-text scrubber replaces.

Usage::

    python scripts/build_name_list.py [--faker-wheel PATH] [--wordlist PATH] [--out PATH] [--check]

Sources
-------
1. **Faker** (MIT licence), provider ``faker/providers/person/da_DK/__init__.py``: its Danish male and
   female first names and its surnames. The wheel of the pinned version ``FAKER_VERSION`` is fetched from
   PyPI with ``pip download faker==FAKER_VERSION --no-deps`` into a temporary folder (or taken from
   ``--faker-wheel``) and the provider module is read from the wheel as text (parsed with ``ast``, never
   imported or installed). Faker is *not* a dependency of ``survey_lib``.
2. **Hand-curated lists below** (``DST_FIRST_NAMES``, ``DST_LAST_NAMES``): the most common first names and
   surnames in Denmark according to Danmarks Statistik's name statistics (``Navne i hele befolkningen``
   and the most popular names given to newborns). They were written down from knowledge of those
   published tables, not downloaded (there is no network access to dst.dk here), so they are an
   approximation of the top of those tables, not a copy.
3. **Ambiguity**: a name is marked ``ambiguous`` when its lowercase form is an ordinary Danish word, i.e.
   appears (in lowercase) in the Danish word list of Debian's ``wdanish`` package
   (``/usr/share/dict/danish``; ``apt-get install -y wdanish``), or is in ``HAND_AMBIGUOUS`` below
   (ordinary words the word list lacks or that are very frequent: Bo, Per, Hans, Storm, ...).
   ``NOT_AMBIGUOUS`` overrides that for a few first names whose lowercase homograph in the word list is
   archaic or rare and cannot plausibly start an ordinary sentence (Jens, Søren, Mads, ...): treating
   them as ambiguous would leave a sentence-initial "Søren ringede aldrig" unscrubbed.
4. **Exclusions** (``NEVER_NAMES``): pronouns and Danish place names (towns, the pilot's municipalities,
   regions, islands) that must never be treated as personal names, even if a source lists them.

Output
------
A CSV with a ``#`` comment header naming the sources and their versions, then the columns
``name,kind,ambiguous`` (kind = ``first`` | ``last`` | ``both``; ambiguous = 0/1), sorted by name. The
output depends only on the pinned Faker version, the word list and this file, so rerunning it is
deterministic. ``--check`` exits 1 when the committed CSV differs from what would be written.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "survey_lib" / "privacy" / "data" / "names_da.csv"
FAKER_VERSION = "40.54.0"
FAKER_PROVIDER = "faker/providers/person/da_DK/__init__.py"
WORDLIST = Path("/usr/share/dict/danish")

# Most common Danish first names (Danmarks Statistik, whole population and newborns; from knowledge).
DST_FIRST_NAMES = """
Peter Jens Michael Lars Henrik Thomas Søren Jan Christian Martin Niels Anders Morten Jesper Mads
Hans Per Jørgen Ole Rasmus Mikkel Kim Frederik Kasper Nikolaj Jakob Jacob Carsten Torben Lasse Mathias
Brian Kristian Erik Daniel Allan Bo Claus Kenneth Poul Emil Tobias Steen Flemming Jonas John Simon
Nicolai Bent Lucas Oliver William Noah Magnus Victor Sebastian Alexander Kristoffer Christoffer Philip
Andreas Jonathan Benjamin Alfred Carl Oscar Valdemar Aksel Arthur August Malthe Elias Johan Karl Otto
Viggo Storm Villads Theo Anton Felix Leo Frej Konrad Aske Bertram Gustav Hugo Liam Milas Vincent
Lauge Marius Mathias Sigurd Svend Knud Erling Preben Arne Leif Finn Kurt Kaj Verner Aage Børge Holger
Henning Ib Uffe Kjeld Keld Jeppe Troels Rune Stig Bjarne Palle Ove Mogens Gert Jimmi Dennis René
Thor Tor Ulrik Ebbe Esben Asger Bjørn Sune Søs Dan Sten Mark Tom Tommy Johnny Jimmy Ali Mohammad
Mohamed Ahmad Ahmed Hassan Hussein Omar Mustafa Ibrahim Yusuf Emir Adam Elliot Louis Walter Ludvig
Harald Eigil Egon Ejner Helmer Poul-Erik Hans-Henrik Jens-Peter Per-Ole Karl-Erik Bo-Erik
Anne Kirsten Mette Hanne Anna Helle Susanne Lene Maria Marianne Lone Camilla Pia Louise Charlotte
Inge Bente Tina Gitte Karen Jette Birgitte Ida Julie Katrine Emma Sofie Maja Laura Freja Clara Ella
Alma Agnes Karla Ellen Josefine Mathilde Caroline Cecilie Sara Signe Line Rikke Trine Malene Nanna
Dorthe Dorte Jane Annette Heidi Vibeke Lise Ulla Grethe Else Inger Ruth Birthe Eva Karina Tanja Stine
Christina Christine Marie Amalie Sofia Olivia Lærke Liv Lykke Nora Asta Astrid Esther Vigga Isabella
Emily Alberte Frida Johanne Luna Ronja Merete Pernille Jytte Lisbeth Annie Kamilla Lotte Susan Tove
Winnie Lis Mona Ingrid Gerda Edith Elisabeth Margrethe Hannah Aya Fatima Zainab Maryam Amina Leila
Yasmin Sarah Sanne Stina Tine Mie Iben Lea Malou Naja Mille Cille Sille Ditte Kathrine Nadia Tenna
Anne-Marie Anne-Mette Anne-Grethe Marie-Louise Mette-Marie Karin Kira Victoria Silje Dagmar Thyra
Wilma Vilma Ellie Molly Lily Mynte Aura Filippa Andrea Nicoline Alexandra Rebekka Emilie Signe
"""

# Most common Danish surnames (Danmarks Statistik, whole population; from knowledge).
DST_LAST_NAMES = """
Nielsen Jensen Hansen Andersen Pedersen Christensen Larsen Sørensen Rasmussen Jørgensen Petersen
Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen Møller Mortensen Knudsen Jakobsen
Jacobsen Mikkelsen Olesen Frederiksen Laursen Henriksen Lund Schmidt Holm Eriksen Kristiansen Clausen
Simonsen Svendsen Andreasen Iversen Østergaard Jeppesen Vestergaard Nissen Lauridsen Kjær Jespersen
Mogensen Nørgaard Jepsen Frandsen Søndergaard Bertelsen Carlsen Kjeldsen Lassen Dahl Johnsen Thygesen
Friis Bach Berg Mathiesen Bech Krogh Hermansen Lauritsen Nygaard Danielsen Abildgaard Kirkegaard
Damgaard Bjerregaard Kjærgaard Dalgaard Hedegaard Mølgaard Vinther Winther Toft Andresen Brandt Skov
Dam Ravn Holst Lind Bruun Juhl Hjorth Schou Kragh Bang Buch Overgaard Lindberg Lindholm Lykke Storm
Fischer Koch Hald Ibsen Enevoldsen Graversen Gregersen Hvid Riis Bak Bonde Munk Søgaard Kristoffersen
Pallesen Sloth Poulsen Steffensen Stephensen Michelsen Nikolajsen Ahmed Ali Hussein Khan Mohammed
Nguyen Yilmaz Kaya Demir Jessen Madsen Bisgaard Brødsgaard Ebbesen Esbensen Gade Husted Jakobsen
Kofoed Krog Kruse Lorenzen Lorentzen Lyngby Mathiasen Nørregaard Pihl Rask Rohde Rosenberg Schultz
Sommer Stokholm Svensson Thorsen Tofte Truelsen Villadsen Vogel Vad Wulff Ørum Aagaard Aabye
"""

# Names whose lowercase form is an ordinary (or very frequent) Danish word although the word list may
# lack it: marked ambiguous in addition to the word-list test.
HAND_AMBIGUOUS = """
Bo Per Hans Mark Kim Liv Lykke Storm Dan Sten Holm Lund Skov Dam Berg Bjørn Ravn Falk Sol Vita Birk
Ask Maj Gry Tage Sine Alle Ulf Bang Bonde Munk Bak Hvid Krog Gade Sommer Vogel Vad Rask Sloth Kruse
Vinther Winther Storm Toft Tofte Dahl Bach Kjær Lind Juhl Pihl Riis Friis Bruun Brandt Holst Hald
"""

# Overrides: names whose lowercase homograph in the word list is archaic or rare, so a capitalised
# sentence-initial occurrence is far more likely the name than the word.
NOT_AMBIGUOUS = """
Jens Søren Mads Helle Lotte Trine Signe Tove Palle Bodil Benjamin David Henry Oscar Mille Maren
Jasmin Bitten Ebbe Frede Iver Jarl Kåre Lærke Åse Maya Rosa Rune Søs Tilde Viola Arne Aksel Alf
Bøje Ester Lassen Nissen Møller
"""

# Never personal names here: pronouns and other capitalised function words, Danish place names (the
# pilot's 13 municipalities, big towns, regions and islands) and common institution words.
NEVER_NAMES = """
I De Dem Deres Han Hun Den Det Jeg Vi Man Min Mit Mine Din Dit Dine Sin Sit Hr Fru Dr Prof
Danmark Jylland Fyn Sjælland Bornholm Lolland Falster Møn Amager
Faaborg Midtfyn Faaborg-Midtfyn Gladsaxe Guldborgsund Høje Taastrup Høje-Taastrup Ishøj Mariagerfjord
Odder Odense Silkeborg Syddjurs Tårnby Vejle Aalborg Aarhus Århus København Esbjerg Randers Kolding
Horsens Roskilde Herning Næstved Fredericia Viborg Køge Holstebro Slagelse Hillerød Svendborg
Sønderborg Hjørring Holbæk Frederikshavn Ringsted Haderslev Skive Nyborg Grenaa Skagen Thisted Hobro
Lemvig Ribe Tønder Varde Vejen Brande Skanderborg Hedensted Ikast Struer Aabenraa Middelfart Assens
Kerteminde Nakskov Nykøbing Kalundborg Frederikssund Helsingør Lyngby Ballerup Glostrup Brøndby
Hvidovre Albertslund Greve Solrød Rødovre Herlev Gentofte Furesø Allerød Fredensborg Gribskov Halsnæs
Hovedstaden Midtjylland Nordjylland Syddanmark Region
Jobcenter Jobnet MitID NemID Borger Kommune Ydelsesservice Udbetaling
"""

_PROVIDER_TUPLES = ("first_names_male", "first_names_female", "last_names")


def _words(block: str) -> list[str]:
    return block.split()


def fetch_faker_wheel(dest: Path) -> Path:
    """Download the pinned Faker wheel from PyPI (no dependencies, not installed) into ``dest``."""
    subprocess.run([sys.executable, "-m", "pip", "download", f"faker=={FAKER_VERSION}", "--no-deps",
                    "--only-binary=:all:", "-d", str(dest), "--quiet"], check=True)
    wheels = sorted(dest.glob(f"faker-{FAKER_VERSION}-*.whl")) + sorted(dest.glob(f"Faker-{FAKER_VERSION}-*.whl"))
    if not wheels:
        raise SystemExit(f"no Faker {FAKER_VERSION} wheel in {dest}")
    return wheels[0]


def faker_names(wheel: Path) -> tuple[set[str], set[str]]:
    """First names and surnames of Faker's ``da_DK`` person provider, read from the wheel as text."""
    with zipfile.ZipFile(wheel) as zf:
        source = zf.read(FAKER_PROVIDER).decode("utf-8")
    tuples: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in _PROVIDER_TUPLES and isinstance(node.value, ast.Tuple)):
            tuples[node.targets[0].id] = [e.value for e in node.value.elts
                                          if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    missing = [t for t in _PROVIDER_TUPLES if t not in tuples]
    if missing:
        raise SystemExit(f"{FAKER_PROVIDER} in {wheel.name} lacks {missing}")
    first = set(tuples["first_names_male"]) | set(tuples["first_names_female"])
    return first, set(tuples["last_names"])


def wordlist_lowercase(path: Path) -> set[str]:
    """The all-lowercase entries of the word list (capitalised entries are proper nouns there)."""
    if not path.exists():
        raise SystemExit(f"{path} not found: install Debian's word list with `apt-get install -y wdanish`")
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        w = line.strip()
        if w and w == w.lower():
            words.add(w)
    return words


def wdanish_version() -> str:
    """The installed version of Debian's ``wdanish`` package (``unknown`` when dpkg cannot tell)."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "wdanish"], capture_output=True,
                             text=True, check=True)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _valid(name: str) -> bool:
    parts = name.split("-")
    return all(len(p) >= 2 and p[0].isupper() and p[1:].islower() and p.isalpha() for p in parts)


def build_rows(faker_first: set[str], faker_last: set[str], words: set[str]) -> list[tuple[str, str, int]]:
    """Merge the sources into sorted ``(name, kind, ambiguous)`` rows."""
    never = set(_words(NEVER_NAMES))
    first = (faker_first | set(_words(DST_FIRST_NAMES))) - never
    last = (faker_last | set(_words(DST_LAST_NAMES))) - never
    hand_amb = set(_words(HAND_AMBIGUOUS))
    not_amb = set(_words(NOT_AMBIGUOUS))
    rows = []
    for name in sorted(first | last):
        if not _valid(name):
            continue
        kind = "both" if name in first and name in last else ("first" if name in first else "last")
        # hyphenated names (Anne-Marie) are never ambiguous: the compound itself is no ordinary word
        amb = "-" not in name and (name.lower() in words or name in hand_amb) and name not in not_amb
        rows.append((name, kind, int(amb)))
    return rows


def render(rows: list[tuple[str, str, int]], wd_version: str) -> str:
    """The CSV text: a comment header with the sources, then the rows."""
    buf = io.StringIO()
    buf.write("# Danish personal names for survey_lib.privacy.scrub; generated by scripts/build_name_list.py,\n")
    buf.write("# do not edit by hand (change the script and rerun it).\n")
    buf.write(f"# Sources: Faker {FAKER_VERSION} (MIT), {FAKER_PROVIDER} (first_names_male,\n")
    buf.write("#   first_names_female, last_names); hand-curated most common first names and surnames after\n")
    buf.write("#   Danmarks Statistik's name statistics (written from knowledge, see the script).\n")
    buf.write(f"# ambiguous = lowercase form is in Debian wdanish {wd_version} (/usr/share/dict/danish) or in\n")
    buf.write("#   the script's HAND_AMBIGUOUS list, minus its NOT_AMBIGUOUS overrides.\n")
    buf.write(f"# {len(rows)} names; kind = first|last|both.\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["name", "kind", "ambiguous"])
    writer.writerows(rows)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faker-wheel", type=Path, help="use this Faker wheel instead of downloading it")
    parser.add_argument("--wordlist", type=Path, default=WORDLIST, help="Danish word list (wdanish)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if --out differs instead of writing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.faker_wheel or fetch_faker_wheel(Path(tmp))
        faker_first, faker_last = faker_names(wheel)
    text = render(build_rows(faker_first, faker_last, wordlist_lowercase(args.wordlist)), wdanish_version())
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: rerun scripts/build_name_list.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
