"""Observability: metrics.py (every Prometheus metric's name, one home, and their exposition),
tracing.py (OpenTelemetry, off unless an OTLP endpoint is configured). Structured logs: dianshu.logs."""
