"""The interview timer from the command line: `deskalert interview start` / `stop`.

The hub holds the session; these only ask it to start one, or to close this desk's open ones.
"""

from __future__ import annotations

from deskalert.client.api import HubClient
from deskalert.models import InterviewSession


async def start_interview(client: HubClient, room: str, minutes: float) -> InterviewSession:
    """Start a session on the hub for the calling desk."""
    return await client.start_session(room, minutes)


async def stop_interviews(client: HubClient, desk_id: str) -> list[InterviewSession]:
    """Close every open session of `desk_id` (normally one); the closed sessions."""
    sessions = [s for s in await client.sessions() if s.desk == desk_id]
    return [await client.close_session(s.id) for s in sessions]
