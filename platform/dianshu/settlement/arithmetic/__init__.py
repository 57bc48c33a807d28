"""Settlement arithmetic, pure: typed values in, points and money out, exact in Decimal. Nothing here
reads or writes the database, so every rule is testable with hand-computed figures."""
