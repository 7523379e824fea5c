"""Web plumbing shared by every app: resolving the network access of a request."""

from __future__ import annotations

import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from backbone.core.access import access_or_404


def network_view(view):
    """Resolve `network_slug` into `access` (404 to outsiders) before the view runs.

    Anonymous visitors of a network that is not public are sent to the login page
    (for any slug, so a redirect does not reveal whether the network exists).
    """

    @functools.wraps(view)
    def wrapper(request, network_slug: str, *args, **kwargs):
        try:
            access = access_or_404(request.user, network_slug)
        except Http404:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise
        request.access = access
        try:
            return view(request, access, *args, **kwargs)
        except PermissionDenied:
            # The public of a public network is asked to sign in rather than refused.
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise

    wrapper.network_view = True
    return wrapper


def members_only(view):
    """For pages that the anonymous public never sees, even in a public network."""

    @functools.wraps(view)
    def wrapper(request, access, *args, **kwargs):
        if not access.is_member:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise Http404("No page found.")
        return view(request, access, *args, **kwargs)

    return wrapper
