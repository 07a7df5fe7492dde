"""Domain errors, mapped once to French pages and JSON API answers."""


class DomainError(Exception):
    """Base of every error a use case may raise on purpose."""

    http_status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, choices: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the input field at fault, named in the API's ``fields``
        self.choices = choices or []  # (value, label): what the person may have meant, offered to pick from


class InvalidInput(DomainError):
    http_status = 422
    code = "invalid_input"


class NotFound(DomainError):
    http_status = 404
    code = "not_found"


class Forbidden(DomainError):
    http_status = 403
    code = "forbidden"


class Conflict(DomainError):
    http_status = 409
    code = "conflict"
