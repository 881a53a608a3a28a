"""Benchmarks of the generated service against small reference apps; run `python -m bench`."""
