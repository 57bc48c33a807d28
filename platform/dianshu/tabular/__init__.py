"""Tables people open in Excel: downloads as CSV (UTF-8 with a BOM, so Excel on Chinese Windows
reads it as UTF-8) and XLSX, with Chinese column headers by default and English on request; and
spreadsheet imports (CSV or XLSX) read into rows that keep their row numbers for per-row errors.

One home for both, so every download of the platform has the same headers, number formats and
formula guard (csvcells), and every import the same size limits and header rules."""
