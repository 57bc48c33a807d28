"""The append-only audit log: who did what, when, to what, in which tenant."""
