"""Click-to-Call: a reusable Django app that phones a website visitor for a campaign."""

__version__ = "0.1.0"
