"""Error pages. A normal request gets the whole page; an htmx request (an action or a load
inside a page) gets only a short message, swapped out of band into the page's message area,
never a second header and bell inside the list."""

from __future__ import annotations

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404
from django.views import defaults

__all__ = ["bad_request", "page_not_found", "permission_denied", "server_error"]


def from_htmx(request) -> bool:
    """Read the header itself: a failure in the middleware must not hide it."""
    return request.headers.get("HX-Request") == "true"


def said(exception, *kinds) -> str:
    """The exception's message, only when it is a sentence written for people."""
    if isinstance(exception, kinds) and not isinstance(exception, Resolver404) and exception.args:
        message = exception.args[0]
        if isinstance(message, str):
            return message
    return ""


def error_page(request, status: int, heading: str, message: str) -> HttpResponse:
    template = "error.html#htmx" if from_htmx(request) else "error.html"
    context = {"status": status, "heading": heading, "message": message}
    return render(request, template, context, status=status)


def bad_request(request, exception=None):
    message = said(exception, BadRequest) or "This request could not be handled."
    return error_page(request, 400, "Bad request", message)


def permission_denied(request, exception=None):
    message = said(exception, PermissionDenied) or "You are not allowed to do that."
    return error_page(request, 403, "Not allowed", message)


def page_not_found(request, exception=None):
    message = said(exception, Http404) or "There is nothing here."
    return error_page(request, 404, "Not found", message)


def server_error(request):
    """Rendered without the request's context (its processors may be what failed)."""
    if not from_htmx(request):
        return defaults.server_error(request)
    context = {"message": "Something went wrong on the server. Please try again."}
    return HttpResponseServerError(render_to_string("error.html#htmx", context))
