"""Points and money: case points, budgets, monthly pre-settlement, annual clearing, simulation."""
