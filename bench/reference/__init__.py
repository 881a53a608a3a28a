"""The reference apps: each the least a FastAPI app does for the same answer as the service.

Servers import them as top-level modules (`bench/reference` is their PYTHONPATH);
the bench itself imports only `queries`, which needs nothing but Python.
"""
