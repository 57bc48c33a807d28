"""Hospital evaluation (医院考核评价, SPEC section 8): the indicator catalogue, indicator values
computed from the data or entered, peer-relative scoring and published evaluation runs."""
