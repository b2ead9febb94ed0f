"""`python -m app` is the `kepu` command."""

from app.cli import cli

cli()
