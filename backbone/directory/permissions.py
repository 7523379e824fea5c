"""Access policies for the directory app (see backbone.core.access).

The directory is a public resource directory: everyone who may see the network,
including the public of a public network, may read it; network admins write it.
Partners editing their own listings comes later.
"""

from backbone.core.access import ADMINS, EVERYONE, Policy, register
from backbone.directory.models import DIRECTORY_MODELS


class DirectoryPolicy(Policy):
    rules = {"view": EVERYONE, "add": ADMINS, "change": ADMINS, "delete": ADMINS, "import": ADMINS}


for _model in DIRECTORY_MODELS:
    register(type(f"{_model.__name__}Policy", (DirectoryPolicy,), {"model": _model}))
