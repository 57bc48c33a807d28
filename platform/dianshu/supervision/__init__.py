"""Supervision (智能监管, SPEC section 9): rules and findings, hospital signals, the anomaly ranking."""
