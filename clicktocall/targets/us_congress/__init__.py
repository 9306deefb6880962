"""US Congress as a source of targets: the caller's senators and representative, from their ZIP code.

The data (ZIP code areas → districts, members, offices) ships in ``data/`` with its
provenance and is loaded into tables on first use or by ``manage.py clicktocall_us_data``.
"""
