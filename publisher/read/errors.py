"""Errors the read API answers with: each knows its HTTP status, code and the parameter it names."""

from __future__ import annotations


class ApiError(Exception):
    """An error that becomes a JSON response; `parameter` names the input it is about, if any."""

    status = 400

    def __init__(self, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.parameter = parameter

    def document(self) -> dict[str, object]:
        return {"error": {"code": self.code, "parameter": self.parameter, "message": self.message}}


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class Unavailable(ApiError):
    status = 503
