"""Answers from the store: one session's report (:mod:`.report`), per-session figures
(:mod:`.sessionstats`), the analysis across a creator's sessions (:mod:`.analytics`, with its
:mod:`.drivers`, :mod:`.gifters`, :mod:`.advice` and :mod:`.stats`) and the agency roll-up
(:mod:`.roster`).
"""
