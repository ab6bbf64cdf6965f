"""The Zoom boundary: the only package that calls Zoom or knows its URLs and error codes.

- ``client``: OAuth (consent URL, code exchange, refresh, revoke) and the Meetings API.
- ``errors``: what Zoom's failures mean, as exceptions callers branch on.
- ``webhook_signature``: signing and verifying webhook requests.
"""
