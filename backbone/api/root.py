"""The REST API at /api/v1: OpenAPI 3.1 at /api/v1/openapi.json, docs at /api/v1/docs.

Every operation is declared with `**secured(Model, action)` (see `backbone.api.auth`);
there is no default auth, so an operation without it fails loudly in the tests.
"""

from ninja import NinjaAPI

from backbone.api import errors, governance, networks, organizations, partners, tenancy
from backbone.measurement import api as measurement_api

api = NinjaAPI(
    title="Backbone API",
    version="1",
    description=(
        "Read and change a collective action network's data with the same permissions as "
        "the web pages. Authenticate with a personal access token "
        "(`Authorization: Bearer <token>`, created under Account → API tokens) or, from "
        "the browser, the signed-in session (send the CSRF token on writes). Anonymous "
        "callers may read the public data of public networks."
    ),
    urls_namespace="api",
)
errors.install(api)

api.add_router("/networks", networks.router)
api.add_router("/networks", tenancy.router)
api.add_router("/networks", organizations.router)
api.add_router("/networks", partners.router)
api.add_router("/networks", governance.router)
api.add_router("/networks", measurement_api.router)
