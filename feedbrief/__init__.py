"""feedbrief: news feeds and seed documents in, a daily digest out.

This package is the thin composition layer (settings, CLI, service loop) that wires
``ingest`` -> ``storage`` -> ``summarise``; the stages themselves live in those packages.
"""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/feedbrief/feedbrief"
USER_AGENT = f"feedbrief/{__version__} (+{PROJECT_URL})"
