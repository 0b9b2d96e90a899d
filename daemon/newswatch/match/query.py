"""Placeholder: the watch query language parser is being written (issue 4)."""


class QuerySyntaxError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column + 1}")
        self.message = message
        self.column = column


def parse_query(text: str) -> object:
    if text.count("(") != text.count(")"):
        raise QuerySyntaxError("unbalanced parentheses", len(text))
    return text
