"""The tenant registry (the city and its pooling regions) and the hospitals of each region."""
