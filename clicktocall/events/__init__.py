"""Events out: signed webhooks to the campaign's CRM or automation tool.

- ``models``: the endpoints staff register, and one delivery per event and endpoint;
- ``payloads``: what each event carries;
- ``signing``: the Standard Webhooks signature;
- ``transport``: the POST, to public addresses only (SSRF);
- ``delivery``: the tasks that fan an event out and deliver it, with retries;
- ``receivers``: the signal receivers that enqueue events, only when an endpoint wants them.
"""
