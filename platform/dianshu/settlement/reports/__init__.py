"""Settlement reports: a hospital's statement and the city's overview as CSV or a printable HTML page
with an inline SVG chart. They format figures the runs read; they neither read nor compute."""
