"""Background jobs: a `job` row written with its intent, a message sent after commit, an
idempotent execution whose effect commits together with the job's completion."""
