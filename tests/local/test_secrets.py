import stat

import pytest
import yaml

from local import secrets


def test_generated_once_then_reused(tmp_path):
    path = tmp_path / "secrets.yml"
    assert sorted(secrets.ensure(path)) == sorted(secrets.GENERATORS)
    first = yaml.safe_load(path.read_text())
    assert secrets.ensure(path) == []
    assert yaml.safe_load(path.read_text()) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_values_are_distinct_and_long(tmp_path):
    path = tmp_path / "secrets.yml"
    secrets.ensure(path)
    values = list(yaml.safe_load(path.read_text()).values())
    assert len(set(values)) == len(values)
    assert all(len(v) >= 20 for v in values)


def test_missing_names_are_added_existing_kept(tmp_path):
    path = tmp_path / "secrets.yml"
    path.write_text("secret_db_password_mlflow: keep-me-as-it-is-please\n")
    added = secrets.ensure(path)
    assert "secret_db_password_mlflow" not in added
    assert (
        yaml.safe_load(path.read_text())["secret_db_password_mlflow"] == "keep-me-as-it-is-please"
    )


@pytest.mark.parametrize("content", ["- a list\n", "key: [unclosed\n", "key: ''\n"])
def test_malformed_file_is_refused_and_left_alone(tmp_path, content):
    path = tmp_path / "secrets.yml"
    path.write_text(content)
    with pytest.raises(SystemExit, match=r"secrets\.yml"):
        secrets.ensure(path)
    assert path.read_text() == content
