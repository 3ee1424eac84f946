"""One router per page group; each page sits beside its JSON twin under ``/api``, so that the two
render the same result."""
