"""Results as pages: the static HTML of one session's report (:mod:`.report_html`) and of a
creator's analysis (:mod:`.analysis_html`), shared by the CLI's ``--html`` and the web.
"""
