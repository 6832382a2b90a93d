"""Checks for CI: declared expectations against recorded values, links and images of a site."""

from __future__ import annotations

from pathlib import Path

import pytest

from catdog import results, stats
from sitegen.checks import check_claims, check_expectations, check_site, parse_expectation


@pytest.mark.parametrize("condition,parsed", [
    (">= 0.90", (">=", 0.9)), ("> 1", (">", 1.0)), ("<=0.5", ("<=", 0.5)), ("< 2e-3", ("<", 0.002)),
    ("== 3", ("==", 3.0)), ("!= 0", ("!=", 0.0)), (0.75, ("==", 0.75)), ("0.75", ("==", 0.75))])
def test_parse_expectation(condition, parsed):
    assert parse_expectation(condition) == parsed


@pytest.mark.parametrize("condition", ["about 0.9", ">= high", "=> 0.9", True, None, [0.9]])
def test_unreadable_expectation_is_a_value_error(condition):
    with pytest.raises(ValueError, match="Received"):
        parse_expectation(condition)


def test_met_expectations_give_no_problems():
    expect = {"test_accuracy": ">= 0.90", "epochs": 3, "test_loss": "< 0.2"}
    assert check_expectations(expect, {"test_accuracy": 0.93, "epochs": 3, "test_loss": 0.1}) == []


def test_unmet_and_missing_values_are_listed():
    expect = {"test_accuracy": ">= 0.90", "val_accuracy": "> 0.5", "epochs": "== 3"}
    problems = check_expectations(expect, {"test_accuracy": 0.85, "epochs": "three"})
    assert problems == ["expected epochs == 3, but the run recorded 'three'",
                        "expected test_accuracy >= 0.9, got 0.85",
                        "expected val_accuracy > 0.5, but the run recorded no val_accuracy"]


@pytest.fixture(autouse=True)
def fresh_record(monkeypatch):
    """Each test starts with nothing recorded, as a new kernel does."""
    monkeypatch.setattr(results, "_record", {"values": {}, "data": [], "environment": {}})


def recorded_findings(**comparisons) -> dict:
    """The values a post records with `results.finding(name, ...)`, one per comparison."""
    for name, comparison in comparisons.items():
        results.finding(name, f"{name}?", comparison)
    return results.current()["values"]


def test_a_claim_the_recorded_verdict_supports_passes():
    gain = stats.paired_comparison([1] * 60, [1] * 40 + [0] * 20, names=("fine-tuned", "frozen"))
    values = recorded_findings(fine_tuning_helps=gain)
    assert check_claims({"fine_tuning_helps": ("better",)}, values) == []
    assert check_claims({"fine_tuning_helps": ("better", "too_few")}, values) == []


def test_a_claim_the_data_does_not_support_names_claim_and_verdict():
    two_photos = stats.paired_comparison([1] * 10, [1] * 8 + [0] * 2, names=("fine-tuned", "frozen"))
    problems = check_claims({"fine_tuning_helps": ("better",)},
                            recorded_findings(fine_tuning_helps=two_photos))
    assert problems == ["claim fine_tuning_helps: better is not what the run shows; its verdict "
                        "is too_few: " + stats.verdict_text(two_photos)]


def test_a_claim_about_a_finding_never_recorded_lists_the_recorded_ones():
    tie = stats.paired_comparison([1, 0], [0, 1])
    assert check_claims({"typo": ("better",)}, recorded_findings(real=tie)) == [
        "claim 'typo': the run recorded no finding of that name (recorded: real)"]


def make_site(root: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root


def test_good_site_has_no_problems(tmp_path):
    site = make_site(tmp_path, {
        "index.html": '<h1 id="posts">Posts</h1><a href="2024/01/05/a.html">a</a> <a href="tags/">'
                      't</a> <a href="#top"></a> <a href="#posts">p</a> <a href="https://example.com/'
                      'x">x</a> <a href="mailto:a@b.c">m</a> <a name="old"></a>',
        "tags/index.html": '<a href="../index.html?x=1#posts">home</a> <a href="/about">about</a>'
                           ' <a href="../#old">old</a> <a href="../style.css#x">css</a>',
        "about.html": "", "style.css": "",
        "2024/01/05/a.html": '<link rel="stylesheet" href="../../../style.css">'
                             '<img src="a/fig%201.png"> <img src="data:image/png;base64,AAAA">',
        "2024/01/05/a/fig 1.png": "png"})
    assert check_site(site) == []


def test_broken_links_and_missing_images_are_listed(tmp_path):
    site = make_site(tmp_path, {
        "index.html": '<a href="nowhere.html">x</a><img src="gone.png"><a href="../../etc/passwd">'})
    assert check_site(site) == ["index.html: broken link nowhere.html",
                                "index.html: missing image gone.png",
                                "index.html: broken link ../../etc/passwd"]


def test_absolute_links_honour_baseurl(tmp_path):
    site = make_site(tmp_path, {"index.html": '<img src="/catdog/cat.png"><a href="/cat.png">',
                                "cat.png": "png"})
    assert check_site(site, baseurl="/catdog") == ["index.html: broken link /cat.png"]
    assert check_site(site) == ["index.html: missing image /catdog/cat.png"]


def test_anchors_that_name_no_id_are_listed(tmp_path):
    site = make_site(tmp_path, {
        "index.html": '<h2 id="results">Results</h2><a href="#results">ok</a>'
                      '<a href="#no-such-anchor">x</a><a href="a.html#results">y</a>',
        "a.html": '<p id="intro"></p><a href="index.html#results">back</a>'})
    assert check_site(site) == [
        'index.html: missing anchor #no-such-anchor (no id "no-such-anchor" on index.html)',
        'index.html: missing anchor a.html#results (no id "results" on a.html)']
