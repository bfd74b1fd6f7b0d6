"""Errors the read API answers with: each knows its HTTP status, code and the parameter it names."""

from __future__ import annotations

from typing import Any

from publisher.core.answers import error_document


class ApiError(Exception):
    """An error that becomes a JSON response; `parameter` names the input it is about, if any."""

    status = 400
    # Bad input is deterministic, so a CDN may keep the answer briefly. An answer that depends on
    # the snapshot (a name not published yet, an ambiguity, a version not reached) must not be
    # cached, or it would outlive the publish that changes it.
    cacheable = True
    retry_after: int | None = None

    def __init__(self, code: str, message: str, parameter: str | None = None,
                 candidates: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.parameter = parameter
        self.candidates = candidates

    def document(self) -> dict[str, Any]:
        return error_document(self.code, self.message, self.parameter, self.candidates)


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class NameNotFound(NotFound):
    """No model or provider by that name in the snapshot answered from (a later one may have it)."""

    cacheable = False


class Ambiguous(ApiError):
    """300 Multiple Choices: a case-insensitive or slug lookup that matches several names."""

    status = 300
    cacheable = False


class MethodNotAllowed(ApiError):
    status = 405


class Unavailable(ApiError):
    status = 503
    cacheable = False


class NotYet(ApiError):
    """409: min_version is newer than any snapshot this server can read yet (retry, or it never existed)."""

    status = 409
    cacheable = False
    retry_after = 1


class Gone(ApiError):
    """410: what was asked for is no longer retained (a `since` before the kept log of versions)."""

    status = 410
