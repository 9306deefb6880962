"""The read-only results API, ``/api/v1/``: lines, attempts and results, for staff tokens.

Each token belongs to a staff user and sees what that user may view in the admin.
"""
