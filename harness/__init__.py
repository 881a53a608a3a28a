"""What the template's tests and benchmark share: the option space, generated projects and the
services they run against. `tests/` holds only tests and their fixtures; this package holds
everything a pipeline, a benchmark or a person at a prompt may reuse.
"""
