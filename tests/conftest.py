import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from builders import PARAMS_DIR  # noqa: E402


@pytest.fixture(scope="session")
def params():
    from survey_lib.params import load_params

    return load_params(PARAMS_DIR)
