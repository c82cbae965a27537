"""The one place where the project's paths are built.

Library functions take paths as arguments; only the CLI and the notebooks call these helpers to find
the defaults. Nothing here reads the current working directory: the project root is found from the
location of this package (an editable install), or given explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProjectPaths", "project_root", "TABLES_DIR", "NONRESPONSE_DIR", "FREE_TEXT_DIR", "tables_present"]

# A scope's precomputed tables (written by the batch, read by the notebooks through ``tables_dir``):
TABLES_DIR = "tabeller"          # <scope>/tabeller: tables.csv, tests.csv, ..., tabeller.xlsx
NONRESPONSE_DIR = "frafald"      # <tables_dir>/frafald: the non-response tables
FREE_TEXT_DIR = "fritekst"       # <tables_dir>/fritekst: the free-text tables
TREND_DIR = "udvikling"          # <out>/<wave>/udvikling: the trend tables against the earlier waves


def tables_present(tables_dir: Path | str) -> bool:
    """Whether ``tables_dir`` holds a complete precomputed set (its last file of each part)."""
    folder = Path(tables_dir)
    return ((folder / "tables.csv").is_file() and (folder / NONRESPONSE_DIR / "response_rates.csv").is_file()
            and (folder / FREE_TEXT_DIR / "themes.csv").is_file())

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """Return the root of the project checkout (the folder holding ``params/``)."""
    return _PACKAGE_DIR.parent


@dataclass(frozen=True)
class ProjectPaths:
    """Paths of one project checkout.

    Parameters
    ----------
    root
        The project root; defaults to :func:`project_root`.
    """

    root: Path = project_root()

    @property
    def params(self) -> Path:
        """Folder of the YAML parameter files."""
        return self.root / "params"

    @property
    def data(self) -> Path:
        """Folder of generated and local data (git-ignored)."""
        return self.root / "data"

    @property
    def demo_data(self) -> Path:
        """Where the synthetic demo data is generated."""
        return self.data / "demo"

    @property
    def outputs(self) -> Path:
        """Root of all outputs (git-ignored)."""
        return self.root / "outputs"

    def wave_outputs(self, wave: str) -> Path:
        """Output folder of one wave."""
        return self.outputs / wave

    @property
    def notebooks(self) -> Path:
        """Folder of the parameterized notebooks."""
        return self.root / "notebooks"
