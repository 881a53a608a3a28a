"""Tools for the project's developers, run from the Makefile."""
