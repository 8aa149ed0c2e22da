"""The `data:` of a Server-Sent Event (the frame's `id:` is the event id, its `event:` the event type)."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from db.events import EventType


class StreamEventResponse(BaseModel):
    event_type: EventType
    workflow_id: uuid.UUID | None
    data: dict[str, Any]
    timestamp: datetime
