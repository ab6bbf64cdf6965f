"""Zoom's Meetings API for one workspace: ``zoom_for(workspace_id).create_meeting(body)``.

Each call gets a valid access token from the workspace's connection and, when Zoom refuses
it as expired (401/124), refreshes once and retries once inside; callers see only the
result or a :class:`~dashboard.zoom.errors.ZoomError` /
:class:`~dashboard.services.zoom_tokens.NotConnected`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from dashboard.services.zoom_tokens import TokenProvider
from dashboard.zoom.client import ZoomClient
from dashboard.zoom.meetings import ZoomMeeting, read_meeting

T = TypeVar("T")


class ZoomSession:
    """The Zoom API as the workspace's connected user."""

    def __init__(self, workspace_id: int, tokens: TokenProvider | None = None) -> None:
        self.workspace_id = workspace_id
        self.tokens = tokens or TokenProvider()

    def _call(self, request: Callable[[ZoomClient, str], T]) -> T:
        client = self.tokens.client
        return self.tokens.call(self.workspace_id, lambda token: request(client, token))

    def create_meeting(self, body: dict[str, Any]) -> ZoomMeeting:
        return read_meeting(self._call(lambda client, token: client.create_meeting(token, body)))

    def get_meeting(self, meeting_id: int) -> ZoomMeeting:
        return read_meeting(self._call(lambda client, token: client.get_meeting(token,
                                                                                 meeting_id)))

    def update_meeting(self, meeting_id: int, body: dict[str, Any]) -> None:
        self._call(lambda client, token: client.update_meeting(token, meeting_id, body))

    def delete_meeting(self, meeting_id: int) -> None:
        self._call(lambda client, token: client.delete_meeting(token, meeting_id))

    def list_meetings(self, user: str = "me") -> list[dict[str, Any]]:
        """Every upcoming meeting of ``user`` (all pages, read under one token), as Zoom's
        list items (``zoom.meetings.find_marked_meeting`` reads them)."""
        def read(client: ZoomClient, token: str) -> list[dict[str, Any]]:
            pages: Iterator[dict[str, Any]] = client.list_meetings(token, user)
            return list(pages)
        return self._call(read)


def zoom_for(workspace_id: int) -> ZoomSession:
    """The Zoom API as ``workspace_id``'s connected user."""
    return ZoomSession(workspace_id)
