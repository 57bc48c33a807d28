"""Hospital-level signals in the manner of CMS's PEPPER: per hospital, target area and year, the
hospital's share, its percentile among peers of its level, a flag at the policy's high or low
percentile, the trend over the run's years, and an audit queue ranked by how unusual times how many
cases (service.py; the SQL is set-wise, one statement per run)."""
