import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builders import PARAMS_DIR  # noqa: E402


@pytest.fixture(scope="session")
def params():
    from survey_lib.params import load_params

    return load_params(PARAMS_DIR)


@pytest.fixture(scope="session")
def twin_dir(tmp_path_factory, params):
    """The synthetic twin of the pilot (seed 2023), written once per test session (per xdist
    worker). Read-only: a test that changes input files writes its own copy."""
    from survey_lib.demo import generate, write_dataset

    folder = tmp_path_factory.mktemp("twin")
    write_dataset(generate(params, seed=2023), folder)
    return folder
