"""What an install of the project holds: setuptools lists the packages by
name, so a new subpackage left off the list would work in a checkout and
be missing from a wheel."""

import pytest

from common import ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later


def test_every_package_is_listed_for_setuptools():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = config["tool"]["setuptools"]["packages"]
    found = sorted(
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "autograd_cli").rglob("__init__.py")
    )
    assert "autograd_cli.golden" in found
    assert sorted(listed) == found
