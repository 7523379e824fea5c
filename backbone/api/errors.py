"""Error bodies and the translation of Django's exceptions into API responses.

Every error is `{"detail": ...}`: a sentence for 401/403/404, and for 422 a list of
`{"loc": [...], "msg": ...}` items in django-ninja's own style (a body field is at
`["body", "payload", field]`), so a client handles a service's ValidationError exactly
like a malformed body.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError


class Error(Schema):
    detail: str


class ErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str = "value_error"


class ValidationErrors(Schema):
    detail: list[ErrorItem]


ERRORS = {401: Error, 403: Error, 404: Error, 422: ValidationErrors}
BODY = ("body", "payload")  # where django-ninja puts the fields of the request body


def invalid(field: str, msg: str) -> NinjaValidationError:
    """A 422 for one body field."""
    return NinjaValidationError([{"loc": [*BODY, field], "msg": msg, "type": "value_error"}])


@contextmanager
def field_errors(
    names: dict[str, str | tuple] | None = None, prefix: Sequence[str | int] = BODY
) -> Iterator[None]:
    """Turn a service's Django ValidationError into a 422 naming the API's fields.

    NAMES maps a model field to the body field that carries it (e.g. "life_stage" →
    "life_stage_id", or a path such as ("membership", "status")); errors not tied to a
    field point at PREFIX itself.
    """
    try:
        yield
    except DjangoValidationError as exc:
        raise NinjaValidationError(django_error_items(exc, names or {}, list(prefix))) from exc


def django_error_items(exc: DjangoValidationError, names: dict, prefix: list) -> list[dict]:
    if not hasattr(exc, "error_dict"):
        return [{"loc": prefix, "msg": msg, "type": "value_error"} for msg in exc.messages]
    items = []
    for field, messages in exc.message_dict.items():
        target = names.get(field, field)
        path = target if isinstance(target, tuple) else (target,)
        loc = prefix if field == NON_FIELD_ERRORS else [*prefix, *path]
        items.extend({"loc": loc, "msg": msg, "type": "value_error"} for msg in messages)
    return items


def install(api: NinjaAPI) -> None:
    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        detail = str(exc) or "Your role may not do this."
        return api.create_response(request, {"detail": detail}, status=403)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request, exc):
        detail = exc.message if exc.message != "Unauthorized" else "Authentication required."
        response = api.create_response(request, {"detail": detail}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(DjangoValidationError)
    def invalid_data(request, exc):
        return api.create_response(request, {"detail": django_error_items(exc, {}, [])}, status=422)
