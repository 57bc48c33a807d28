"""A synthetic pilot city whose data looks like a real one: for the demo, tests and benchmarks."""
