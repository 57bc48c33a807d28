"""Supervision (智能监管, SPEC section 9): rules over a region's cases producing findings with evidence,
a severity and a state (open → confirmed / dismissed; confirming writes the case violation that
settlement reads), hospital signals in the manner of PEPPER, and the anomaly ranking."""
