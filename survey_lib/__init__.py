"""survey_lib: reproducible analyses of KL's citizen survey on employment services.

Start with :func:`survey_lib.params.load_params`, :func:`survey_lib.load.load_survey`,
:func:`survey_lib.design.build_design` and :func:`survey_lib.tables.build_tables`, or the
``survey-report`` command line (``survey_lib.cli``).
"""

import sys as _sys

__version__ = "0.1.0"

# jsonschema (imported by nbformat, so by papermill and nbconvert) registers the 'iri' string
# formats when the optional package rfc3987_syntax is installed (here it comes with JupyterLab's
# server), and that package compiles 38 Lark grammars on import: 3-5 s in every process that
# imports papermill, more than the batch's notebooks take. No schema survey_lib validates (the
# notebook format's) uses those formats, so the package is marked absent, which jsonschema handles
# as documented (the formats are then not checked). Not done when jsonschema is already imported.
if "jsonschema" not in _sys.modules:
    _sys.modules.setdefault("rfc3987_syntax", None)
del _sys
