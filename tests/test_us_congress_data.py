"""The US Congress data: shipped with its provenance, loaded, and refreshed only by a release that passes the checks."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import lzma
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from django.core.management import CommandError, call_command

from clicktocall.models import CongressDataset, CongressMember, CongressOffice, ZipDistrict
from clicktocall.targets.us_congress import loader

from .us_congress import LYNCH, MARKEY

pytestmark = pytest.mark.django_db


def shipped(name: str) -> bytes:
    return lzma.decompress((loader.PACKAGE_DATA / f"{name}.xz").read_bytes())


@pytest.fixture
def release(tmp_path):
    """A copy of the shipped release as plain files, and functions that change it."""
    folder = tmp_path / "release"
    folder.mkdir()
    for name in loader.FILES:
        (folder / name).write_bytes(shipped(name))

    class Release:
        path = folder

        def members(self, change):
            data = yaml.safe_load((folder / loader.MEMBERS).read_text())
            (folder / loader.MEMBERS).write_text(yaml.safe_dump(change(data) or data))

        def zccd(self, change):
            text = (folder / loader.ZCCD).read_text()
            (folder / loader.ZCCD).write_text(change(text))

    return Release()


def run(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("clicktocall_us_data", *args, stdout=out, stderr=err)
    except CommandError as exc:
        raise AssertionError(err.getvalue()) from exc
    return out.getvalue() + err.getvalue()


def refused(*args) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="left as it was") as exc:
        call_command("clicktocall_us_data", *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue() + str(exc.value)


def test_the_shipped_data_matches_its_manifest():
    manifest = json.loads((loader.PACKAGE_DATA / loader.MANIFEST).read_text())
    for name in loader.FILES:
        info = manifest["files"][name]
        assert hashlib.sha256(shipped(name)).hexdigest() == info["sha256"]
        assert len(info["commit"]) == 40 and info["date"] and info["source"].startswith("https://github.com/")
    assert manifest["files"]["zccd.csv"]["sha256_source"] == manifest["files"]["zccd.csv"]["sha256"]
    assert sum(p.stat().st_size for p in loader.PACKAGE_DATA.iterdir()) < 200_000


def test_the_shipped_data_is_loaded_on_first_use(us_data):
    assert us_data.released.isoformat() == "2026-06-15" and us_data.vacant == ["CA-14", "FL-20", "GA-13", "TX-23"]
    assert CongressMember.objects.filter(chamber="senate").count() == 100
    assert CongressMember.objects.filter(chamber="house").count() == 431 + 6
    assert ZipDistrict.objects.values("zcta").distinct().count() == 33774
    assert ZipDistrict.objects.count() == 42033
    assert CongressOffice.objects.count() > 1000
    assert set(us_data.commits.values()) == {
        "1335b61ff36b6835a25fc63c754070a6148110e7",
        "dfa9622263dd4c8d08636926e498f1845704d7eb",
    }
    CongressDataset.objects.all().delete()
    again = loader.current()
    assert again.version == us_data.version and CongressDataset.objects.count() == 1


def test_a_newer_release_replaces_the_data_and_says_what_changed(us_data, release):
    def replace_lynch(members):
        for member in members:
            if member["id"]["bioguide"] == LYNCH:
                member["id"]["bioguide"] = "Z000999"
                member["name"] = {"first": "Jane", "last": "Doe", "official_full": "Jane Doe"}
                member["terms"][-1]["phone"] = "202-225-0199"

    release.members(replace_lynch)
    release.zccd(lambda text: text.replace("25,MA,02113,8", "25,MA,02113,7"))
    output = run("--from", str(release.path))

    assert "in: Representative Jane Doe (MA-08, Z000999)" in output
    assert "out: Representative Stephen F. Lynch (MA-08, L000562)" in output
    assert "districts moved for 1 ZIP code areas, e.g. 02113 MA-08 → MA-07" in output
    assert not CongressMember.objects.filter(pk=LYNCH).exists()
    assert CongressMember.objects.get(pk="Z000999").phone_number == "+12022250199"
    assert list(ZipDistrict.objects.filter(zcta="02113").values_list("state", "district")) == [("MA", 7)]
    dataset = CongressDataset.objects.get()
    assert dataset.version != us_data.version and dataset.source == str(release.path)
    assert dataset.vacant == us_data.vacant  # known vacancies carry over while the seats stay empty


def test_a_release_from_a_url(us_data, release):
    release.members(lambda members: [m for m in members if m["id"]["bioguide"] != LYNCH])
    handler = functools.partial(_Quiet, directory=str(release.path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert "MA-08 of the ZIP file has no member" in refused("--from", url)
        output = run("--from", url, "--vacant", "MA-08")
    finally:
        server.shutdown()
        server.server_close()
    assert "out: Representative Stephen F. Lynch" in output
    assert "MA-08" in CongressDataset.objects.get().vacant


def assert_untouched(dataset):
    assert CongressDataset.objects.get().version == dataset.version
    assert CongressMember.objects.filter(pk__in=[LYNCH, MARKEY]).count() == 2
    assert ZipDistrict.objects.count() == 42033


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda ms: [m for m in ms if m["id"]["bioguide"] != MARKEY], "MA has 1 senators (2 seats)"),
        (lambda ms: ms + [ms[0]], "is listed 2 times"),
        (lambda ms: [m for m in ms if m["terms"][-1]["state"] != "GU"], "GU has no delegate"),
        (lambda ms: ms[0]["terms"][-1].update(phone="555-01") or ms, "is not valid"),
        (lambda ms: ms[0].pop("id") and ms, "no bioguide id"),
    ],
)
def test_a_broken_release_is_refused_and_the_data_left_intact(us_data, release, change, problem):
    release.members(change)
    assert problem in refused("--from", str(release.path))
    assert_untouched(us_data)


def test_a_zip_file_naming_an_unknown_district_is_refused(us_data, release):
    release.zccd(lambda text: text + "25,MA,02999,12\n")
    assert "MA-12 of the ZIP file has no member" in refused("--from", str(release.path))
    assert_untouched(us_data)


def test_unreadable_sources_are_refused(us_data, release, tmp_path):
    assert "not a folder" in refused("--from", str(tmp_path / "nowhere"))
    (release.path / loader.OFFICES).unlink()
    assert "legislators-district-offices.yaml is missing" in refused("--from", str(release.path))
    (release.path / loader.OFFICES).write_text("- [unclosed")
    assert "cannot be parsed" in refused("--from", str(release.path))
    assert_untouched(us_data)


def test_check_only_changes_nothing(us_data, release):
    release.members(lambda ms: [m for m in ms if m["id"]["bioguide"] != LYNCH])
    output = run("--check", "--from", str(release.path), "--vacant", "MA-08")
    assert "passes every check" in output and "out: Representative Stephen F. Lynch" in output
    assert_untouched(us_data)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


def test_without_a_source_the_shipped_data_is_loaded_only_when_none_is(us_data, release):
    assert "is loaded from" in run()  # nothing replaced
    release.members(lambda ms: [m for m in ms if m["id"]["bioguide"] != LYNCH])
    run("--from", str(release.path), "--vacant", "MA-08")
    newer = CongressDataset.objects.get().version
    assert "is loaded from" in run() and CongressDataset.objects.get().version == newer
    CongressDataset.objects.all().delete()
    assert "Loaded US Congress data" in run() and CongressDataset.objects.get().version == us_data.version


def test_the_first_look_up_of_a_fresh_install_loads_the_data(us_data):
    from clicktocall import targets

    from .us_congress import congress_line

    for model in (CongressDataset, ZipDistrict, CongressOffice, CongressMember):
        model.objects.all().delete()
    found = targets.resolve(congress_line(), {"zip": "02113"}).targets
    assert [t.member_id for t in found] == ["W000817", MARKEY, LYNCH]
    assert CongressDataset.objects.get().version == us_data.version
