"""survey_lib: reproducible analyses of KL's citizen survey on employment services.

Start with :func:`survey_lib.params.load_params`, :func:`survey_lib.load.load_survey`,
:func:`survey_lib.design.build_design` and :func:`survey_lib.tables.build_tables`, or the
``survey-report`` command line (``survey_lib.cli``).
"""

__version__ = "0.1.0"
