"""The one error the parser raises."""


class NoticeFormatError(ValueError):
    """The input is not a readable notice of this family; says where and what was expected."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}" if line is not None else message)
