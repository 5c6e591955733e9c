"""`python -m docsgap` runs the CLI."""

from docsgap.cli import main

main()
