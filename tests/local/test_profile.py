"""What is read off a playbook run: the recap's changed counts, task time per role."""

from __future__ import annotations

from local import profile

OUTPUT = """
PLAY RECAP *********************************************************************
airflow                    : ok=120  changed=0    unreachable=0    failed=0    skipped=30
app                        : ok=88   changed=2    unreachable=0    failed=0    skipped=12
"""


def test_recap_reads_changed_per_host() -> None:
    assert profile.recap(OUTPUT) == {"airflow": 0, "app": 2}
    assert profile.recap("no recap") == {}


def test_task_time_is_summed_per_role_longest_first() -> None:
    records = [
        {"host": "app", "task": "a", "role": "common", "seconds": 1.5},
        {"host": "mlflow", "task": "a", "role": "common", "seconds": 2.0},
        {"host": "app", "task": "b", "role": "model_api", "seconds": 9.25},
        {"host": "app", "task": "Gathering Facts", "role": None, "seconds": 0.5},
    ]
    assert list(profile.by_role(records).items()) == [
        ("model_api", 9.2),
        ("common", 3.5),
        ("(playbook)", 0.5),
    ]
