"""Training records (培训, SPEC section 10): courses, sessions, the people trained (pseudonymised
ids, never names or ID numbers), their attendance and assessment scores, and each hospital's
coverage (the share of its coders and physicians trained in the year), which the evaluation's
training indicator F07 reads (evaluation/runs.py)."""
