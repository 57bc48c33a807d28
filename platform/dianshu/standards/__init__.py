"""DRG standards: grouping schemes (CHS-DRG 1.1, ZJ-DRG 2022) as tables, their versions in the
database, and the city's payment standard (per-DRG average cost, base points, flags)."""
