"""Integrator service accounts: named credentials of third-party technical teams."""
