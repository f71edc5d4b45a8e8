"""A feed's digest options from the command line, OPML folders and the config file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from feedbrief.app import App
from feedbrief.cli import app as cli
from feedbrief.settings import load_settings
from storage import Storage

runner = CliRunner()

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    "<item><guid>a</guid><title>One</title><link>/a</link><description>x</description></item>"
    "</channel></rss>"
)

FOLDERS = """<?xml version="1.0"?>
<opml version="2.0"><body>
  <outline text="World">
    <outline type="rss" text="A" xmlUrl="http://a.example/rss" weight="3"/>
    <outline type="rss" text="B" xmlUrl="http://b.example/rss"/>
  </outline>
  <outline text="Sport"><outline type="rss" text="C" xmlUrl="http://c.example/rss"/></outline>
  <outline type="rss" text="D" xmlUrl="http://d.example/rss"/>
</body></opml>
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.setenv("FEEDBRIEF_DATABASE_URL", url)
    monkeypatch.setenv("FEEDBRIEF_DIGEST_DIR", str(tmp_path / "digests"))
    return url


def feeds(url: str) -> dict[str, tuple[str | None, float, str | None, str | None]]:
    storage = Storage.open(url)
    try:
        return {s.url: (s.category, s.weight, s.block, s.keep) for s in storage.sources("feed")}
    finally:
        storage.close()


def test_feeds_add_sets_category_weight_and_rules(database: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(RSS, content_type="application/xml")
    url = httpserver.url_for("/feed.xml")

    args = ["feeds", "add", url, "--category", "World", "--weight", "2", "--block", "sport"]
    result = runner.invoke(cli, args)

    assert result.exit_code == 0, result.output
    assert feeds(database)[url] == ("World", 2.0, "sport", None)
    listed = runner.invoke(cli, ["feeds", "list"]).stdout
    assert f"{url}\t\tWorld" in listed
    status = runner.invoke(cli, ["status"], terminal_width=250).stdout
    assert "category" in status and "World" in status


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--block", "sport(s", "not a valid regular expression"),
        ("--keep", "[", "not a valid regular expression"),
        ("--weight", "0", "a weight must be a positive finite number"),
        ("--weight", "inf", "a weight must be a positive finite number"),
    ],
)
def test_feeds_add_refuses_a_bad_rule_or_weight(
    database: str, httpserver: HTTPServer, option: str, value: str, message: str
) -> None:
    url = httpserver.url_for("/feed.xml")

    result = runner.invoke(cli, ["feeds", "add", url, option, value])

    assert result.exit_code == 2
    assert message in result.output
    assert feeds(database) == {}


def test_opml_folders_become_categories_and_a_second_import_changes_nothing(
    database: str, tmp_path: Path
) -> None:
    path = tmp_path / "subs.opml"
    path.write_text(FOLDERS)

    first = runner.invoke(cli, ["feeds", "import", str(path)])
    after_first = feeds(database)
    second = runner.invoke(cli, ["feeds", "import", str(path)])

    assert "4 added, 0 already subscribed" in first.stdout
    assert "0 added, 4 already subscribed" in second.stdout
    assert (
        feeds(database)
        == after_first
        == {
            "http://a.example/rss": ("World", 3.0, None, None),
            "http://b.example/rss": ("World", 1.0, None, None),
            "http://c.example/rss": ("Sport", 1.0, None, None),
            "http://d.example/rss": (None, 1.0, None, None),
        }
    )


def test_export_writes_categories_back_as_folders(database: str, tmp_path: Path) -> None:
    path = tmp_path / "subs.opml"
    path.write_text(FOLDERS)
    runner.invoke(cli, ["feeds", "import", str(path)])

    exported = runner.invoke(cli, ["feeds", "export"]).stdout
    again = tmp_path / "again.opml"
    again.write_text(exported)
    runner.invoke(cli, ["feeds", "remove", "http://a.example/rss"])
    runner.invoke(cli, ["feeds", "import", str(again)])

    assert '<outline text="World" title="World">' in exported
    assert feeds(database)["http://a.example/rss"] == ("World", 3.0, None, None)


def test_config_subscriptions_carry_their_options(tmp_path: Path) -> None:
    config = tmp_path / "feedbrief.toml"
    config.write_text(
        f"[database]\nurl = 'sqlite:///{tmp_path / 'db.sqlite'}'\n"
        "[[feeds.subscriptions]]\nurl = 'http://a.example/rss'\ncategory = 'Science'\n"
        "weight = 1.5\nkeep = 'space|climate'\n"
    )
    application = App(load_settings(config, environ={}))
    try:
        application.sync_subscriptions()
        state = application.storage.source("http://a.example/rss")
    finally:
        application.close()

    assert state is not None
    assert (state.category, state.weight, state.keep) == ("Science", 1.5, "space|climate")
