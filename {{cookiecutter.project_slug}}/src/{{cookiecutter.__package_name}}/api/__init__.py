"""The HTTP API."""

# Every resource router carries the full prefix itself, so the route templates
# seen by metrics and logs are complete (`/api/v1/items/{item_id}`).
API_V1 = "/api/v1"
# Paths machines call every few seconds (probes, scrapes): never throttled nor counted.
PROBE_PATHS = frozenset({"/health", "/ready", "/metrics"})
