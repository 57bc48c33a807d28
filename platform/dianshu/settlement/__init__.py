"""Points and money, in three layers that the folders show:

- arithmetic/ pure: case points, annual clearing, monthly pre-settlement, the year engine, the
  policy, rounding, decimals read from input, the simulation scenario. Plain values in, figures out;
  no database (a test keeps sqlalchemy and dianshu.db out).
- runs/ the database: the points run, monthly and annual settlement runs, publishing, and what they
  read or store (the year's inputs, budgets, policy versions, regional entries, the comparison with a
  published run, the simulation job).
- reports/ presentation: a hospital's statement and the city's overview as CSV or printable HTML
  with an inline SVG chart, from figures the runs read.

models.py holds the tables."""
