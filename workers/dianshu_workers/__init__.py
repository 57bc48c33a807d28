"""Dramatiq workers: the broker, its middleware, and one actor module per domain job.

Importing `dianshu_workers.actors` configures the broker from the settings and declares every
actor; `dianshu worker` runs them."""
