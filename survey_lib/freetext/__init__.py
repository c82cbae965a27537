"""Free-text analysis: tokens and stems, word frequencies, the theme dictionary, the weighted
log-odds ratio of words between satisfied and dissatisfied citizens, and the reading sample.

Comments arrive scrubbed (:func:`survey_lib.load.scrub_free_text`); markers such as ``[NAVN]`` are
left out of the word counts.
"""
