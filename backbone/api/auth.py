"""Who is calling, and may their role do this operation in the network of the path?

Each operation declares `**secured(Model, action, row)`: django-ninja auth callbacks
(a personal access token, the browser session, and for public reads the anonymous
public). The first callback that recognizes the caller also resolves the caller's
`Access` to the network named in the path, checks the role may do ACTION on MODEL at
all, and runs ROW, which looks up the row named in the path. The `Access` becomes
`request.auth`; the operation then fetches the row again to use it.

Checking here, before django-ninja reads the body, means an outsider gets 404 and a
member without the right gets 403 whatever they send, so a malformed body reveals nothing.

- Anonymous callers: 401, except reads of a public network's public data.
- Authenticated outsiders (and any unknown slug): 404.
- Members whose role lacks the right: 403.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.http import Http404
from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from backbone.api.schemas import MAX_ID
from backbone.core.access import PUBLIC, Access, access_or_404, policy_for
from backbone.core.middleware import needs_mfa
from backbone.core.models import AccessToken
from backbone.core.models.users import hash_token

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,120}")
TOKEN_TOUCH_INTERVAL = datetime.timedelta(minutes=1)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Rule:
    """The checks of one operation. MODEL None: not inside a network.

    ROW, when given, looks up the row(s) named by the path, raising 404 or 403.
    """

    model: type[models.Model] | None
    action: str = "view"
    row: Callable[[Access, dict], object] | None = None

    def authorize(self, request, user) -> Access | object:
        if self.model is None:
            return user
        anonymous = not user.is_authenticated
        path = request.resolver_match.kwargs if request.resolver_match else {}
        slug = path.get("network", "")
        try:
            if not SLUG.fullmatch(slug):
                raise Http404("No network found.")
            access = access_or_404(user, slug)
            access.require_allowed(self.model, self.action)
            if self.row is not None:
                self.row(access, path)
        except Http404:
            if anonymous:
                # Signing in might help; say so without revealing whether it exists.
                raise AuthenticationError() from None
            raise
        return access


class BearerToken(HttpBearer):
    """A personal access token: `Authorization: Bearer bbk_…` (see /tokens/ on the site)."""

    def __init__(self, rule: Rule):
        self.rule = rule
        super().__init__()

    def authenticate(self, request, token: str):
        user = token_user(token)
        request.user = user
        return self.rule.authorize(request, user)


class SessionCookie(SessionAuth):
    """The browser's Django session; unsafe methods need the CSRF token."""

    def __init__(self, rule: Rule):
        self.rule = rule
        super().__init__(csrf=True)

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request):
            raise HttpError(403, "CSRF check failed.")
        if settings.BACKBONE_REQUIRE_ADMIN_MFA and needs_mfa(user):
            # The site sends such users to set up TOTP first; the API must not be a way round.
            raise HttpError(403, "Set up two-factor authentication before using the API.")
        return self.rule.authorize(request, user)


class Anonymous:
    """Lets reads through without credentials; the rule decides what the public sees."""

    def __init__(self, rule: Rule):
        self.rule = rule

    def __call__(self, request):
        return self.rule.authorize(request, AnonymousUser())


def path_id(value: str | None) -> int | None:
    """An id from the path, or None when malformed (django-ninja then answers 422)."""
    if value and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    return None


def token_user(raw: str):
    token = AccessToken.objects.select_related("user").filter(token_hash=hash_token(raw)).first()
    if token is None or not token.is_active or not token.user.is_active:
        raise AuthenticationError(401, "The token is invalid, revoked or expired.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        # At most one write a minute per token, however busy the client.
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def secured(
    model: type[models.Model] | None,
    action: str = "view",
    row: Callable[[Access, dict], object] | None = None,
) -> dict:
    """The `auth` (and OpenAPI security) of an operation that does ACTION on MODEL.

    Use as `@router.get(path, **secured(Area), ...)`. ROW(access, path parameters) looks
    up the row the path names, e.g. `Resource.row_check`; path values that are malformed
    are left to django-ninja's 422.
    """
    rule = Rule(model, action, row)
    callbacks = [BearerToken(rule), SessionCookie(rule)]
    if action != "view" or (model is not None and PUBLIC not in policy_for(model).rules["view"]):
        return {"auth": callbacks}
    # The public may read this without credentials: an empty security requirement.
    return {"auth": [*callbacks, Anonymous(rule)], "openapi_extra": {"security": [{}]}}
