"""Survey waves: a wave's parameters (an overlay on the shared ``params/``), the question crosswalk
between waves, the later waves' synthetic twins and the change tables (docs/waves.md)."""

from .crosswalk import Crosswalk, CrosswalkEntry, load_crosswalk
from .params import WAVES_DIR, Wave, list_waves, load_wave

__all__ = ["WAVES_DIR", "Wave", "list_waves", "load_wave", "Crosswalk", "CrosswalkEntry", "load_crosswalk"]
