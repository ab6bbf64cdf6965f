"""The Zoom boundary: the only package that calls Zoom or knows its URLs, headers, error
codes, status words and event names. It imports nothing of the database or the pages.

- ``client``: OAuth (consent URL, code exchange, refresh, revoke) and the Meetings API.
- ``errors``: what Zoom's failures mean, as exceptions callers branch on.
- ``meetings``: the meeting request body, Zoom's status words and times, our marker.
- ``webhooks``: a webhook request verified and read into typed events.
- ``webhook_signature``: the signing scheme itself.
- ``extension``: the app's one client, built from its settings.

The sandbox (``dashboard/sandbox``) deliberately shares no code with this package: it
stands in for Zoom, so it keeps its own copy of Zoom's rules (signing, shapes, errors),
written from Zoom's documentation, and a mistake here cannot hide itself there.
"""
