"""The errors a method answers with (ApiError, Telegram's wording) and a client that went away."""

from __future__ import annotations


class ApiError(Exception):
    """A Bot API error response."""

    def __init__(
        self, error_code: int, description: str, *, retry_after: int | None = None, migrate_to_chat_id: int | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


def bad_request(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


class _Abandoned(Exception):
    """The client went away before its request was answered."""
