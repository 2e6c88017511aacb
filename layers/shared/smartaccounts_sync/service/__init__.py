"""Use cases: each module is one concept of the help page, orchestrating the domain core and the ports."""
