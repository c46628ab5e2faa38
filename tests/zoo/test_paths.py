"""New directories: a missing or empty one is used, anything else is refused untouched."""

from __future__ import annotations

import pytest

from zoo.errors import ZooError
from zoo.files.paths import plan_new_directory


def test_a_missing_or_empty_directory_is_used_and_not_created(tmp_path):
    assert plan_new_directory(tmp_path / "new", "run directory") == tmp_path / "new"
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    assert plan_new_directory(str(tmp_path / "empty"), "run directory") == tmp_path / "empty"


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_anything_else_is_refused_naming_it(tmp_path, kind):
    target = tmp_path / "taken"
    if kind == "directory":
        target.mkdir()
        (target / "keep.txt").write_text("mine")
    else:
        target.write_text("mine")
    with pytest.raises(ZooError) as error:
        plan_new_directory(target, "export directory")
    assert str(error.value) == (f"export directory {str(target)!r} already exists and is not "
                                "empty; choose another --out or remove it")
