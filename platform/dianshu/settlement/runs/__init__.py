"""Settlement in the database: the points run and the monthly and annual settlement runs (versioned,
frozen when published), and the inputs they read or store: the year's cases and standard, budgets,
policy versions, a region's alliances, scores and violations; the comparison of a published clearing
with changed parameters; the simulation as a job. The arithmetic is arithmetic/'s."""
