"""Use cases. Services change the database and return data; they never render or redirect."""


class ServiceError(ValueError):
    """A request the service refuses; ``field`` names the input at fault, if one is."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class NotFound(ServiceError):
    """The record does not exist in this workspace (another workspace's ids look the same)."""

    def __init__(self, what: str = "record") -> None:
        super().__init__(f"No such {what} in this workspace.", status=404)
