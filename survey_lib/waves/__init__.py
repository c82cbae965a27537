"""Survey waves: a wave's parameters (an overlay on the shared ``params/``), the question crosswalk
between waves, the later waves' synthetic twins and the change tables (docs/waves.md)."""

from __future__ import annotations

from pathlib import Path

from .crosswalk import CROSSWALK_FILE, Crosswalk, CrosswalkEntry, load_crosswalk
from .params import WAVES_DIR, Wave, list_waves, load_wave

__all__ = ["WAVES_DIR", "Wave", "list_waves", "load_wave", "load_waves", "Crosswalk", "CrosswalkEntry",
           "load_crosswalk"]


def load_waves(params_dir: Path | str | None = None) -> tuple[dict[str, Wave], Crosswalk]:
    """Every wave under ``params_dir/waves`` (default: the project's params folder) and the
    validated crosswalk."""
    from ..paths import ProjectPaths

    params_dir = Path(params_dir or ProjectPaths().params)
    waves = {w: load_wave(w, params_dir) for w in list_waves(params_dir)}
    cw = load_crosswalk(params_dir / WAVES_DIR / CROSSWALK_FILE, {w: x.params for w, x in waves.items()})
    return waves, cw
