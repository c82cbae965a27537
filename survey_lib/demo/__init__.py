"""The synthetic twin of the 2023 pilot (demo data): generation and writing."""

from .generate import DemoData, generate
from .write import write_dataset

__all__ = ["DemoData", "generate", "write_dataset"]
