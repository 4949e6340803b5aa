from local import __main__ as main
from local.config import Replica, parse_scale


def test_urls_name_the_first_host_of_each_group(capsys):
    """Scaled out, the direct URLs are the first host's (app, not app-2), as on one host."""
    replica = Replica(name="x", subnet="10.89.70.0/24", scale=parse_scale("app=2 mlflow=2"))
    main.urls(replica)
    printed = capsys.readouterr().out
    assert "Dashboard                  http://10.89.70.13:8501" in printed
    assert "http://10.89.70.11:5000" in printed
    assert "10.89.70.32" not in printed
    assert "10.89.70.52" not in printed
