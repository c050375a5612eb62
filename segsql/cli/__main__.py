"""`python -m segsql.cli`."""

from . import main

main()
