"""The public ``/outgoing`` endpoint: parameters, rendering and the view."""
