"""The one version shared by the Python package, the service API and the lab extension."""

__version__ = "0.1.0"
