"""DRF settings hooks: pagination and the structured error format. Kept apart from api.py
because DRF imports these while building its generic views."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _code_for(exc) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    if isinstance(exc, Http404):
        return "not_found"
    return getattr(exc, "default_code", None) or "error"


def exception_handler(exc, context):
    """Every error is {"error": {"code", "message", "details"}} with the right status."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handler (JSON for the API) takes it
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        message = "The request has invalid fields." if isinstance(data, dict) else "; ".join(map(str, data))
        details = data if isinstance(data, dict) else {"non_field_errors": data}
    else:
        message = str(data.get("detail", exc)) if isinstance(data, dict) else str(exc)
        details = {}
    response.data = {"error": {"code": _code_for(exc), "message": message, "details": details}}
    return response
