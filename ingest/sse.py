"""A server-sent events parser (the wire format of the Mastodon streaming API), free of I/O."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SSEMessage:
    event: str
    data: str
    id: str | None = None


@dataclass(slots=True)
class SSEParser:
    """Feed it lines (without their line break); it returns a message at each blank line.

    Comment lines (starting with ':') are the server's heartbeats and are ignored.
    """

    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _id: str | None = None

    def feed_line(self, line: str) -> SSEMessage | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None

    def _dispatch(self) -> SSEMessage | None:
        if not self._data and not self._event:
            return None
        message = SSEMessage(event=self._event or "message", data="\n".join(self._data), id=self._id)
        self._event, self._data = "", []
        return message
