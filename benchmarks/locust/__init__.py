"""Locust files (run by benchmarks.common.run_locust in their own process, not imported here)."""
