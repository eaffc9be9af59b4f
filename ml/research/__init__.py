"""Research tooling, apart from what the portal runs: reference databases, AAMI scoring,
whole-pipeline evaluation and synthetic signals (as wfdb-python keeps `io` apart from
`processing`). The portal imports from here only for its reference library and demo data."""
