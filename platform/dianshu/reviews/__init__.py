"""Special case review (特病单议, SPEC section 7)."""
