import pytest

from backbone.core.access import access_for
from backbone.directory.hsds.schema import hsds_dir


@pytest.fixture
def hsds():
    """The official HSDS 3.0 material in shared/fixtures (never copied into the project)."""
    root = hsds_dir()
    if not (root / "datapackage.json").exists():
        pytest.skip(f"HSDS 3.0 fixtures not found in {root} (set BACKBONE_SHARED)")
    return root


@pytest.fixture
def admin_access(world):
    return access_for(world.users["network_admin"], world.network)
