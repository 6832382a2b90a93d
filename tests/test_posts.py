"""Reading posts: front matter, dates, slugs, permalinks, and a clear error for each mistake."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from sitegen.config import load_config, make_config
from sitegen.exceptions import PostError
from sitegen.cache import Cache
from sitegen.posts import read_post, read_posts

ROOT = Path(__file__).resolve().parents[1]
BODY = "\nSome prose.\n\n```python tags=[\"parameters\"]\nepochs = 3\n```\n"


def write(directory: Path, name: str, front: str, body: str = BODY) -> Path:
    path = directory / name
    path.write_text(f"---\n{front}---\n{body}")
    return path


def test_reads_front_matter_and_cells(tmp_path, site_config):
    path = write(tmp_path, "2024-01-05-cat-or-dog.md",
                 "title: Cat or dog\ntags: [keras, cnn]\ndescription: A CNN.\n"
                 "expect: {test_accuracy: '>= 0.90'}\nsmoke: {epochs: 1}\n")
    post = read_post(path, site_config)
    assert (post.title, post.date, post.slug) == ("Cat or dog", datetime.date(2024, 1, 5),
                                                  "cat-or-dog")
    assert post.tags == ("keras", "cnn") and post.layout == "post" and not post.draft
    assert post.expect == {"test_accuracy": ">= 0.90"} and post.smoke == {"epochs": 1}
    assert post.url == "/2024/01/05/cat-or-dog.html"
    assert post.output_path == "2024/01/05/cat-or-dog.html"
    assert post.asset_dir == "2024/01/05/cat-or-dog"


def test_front_matter_is_not_a_cell(tmp_path, site_config):
    post = read_post(write(tmp_path, "2024-01-05-a.md", "title: A\n"), site_config)
    assert [c.cell_type for c in post.notebook.cells] == ["markdown", "code"]
    assert post.notebook.cells[1].metadata["tags"] == ["parameters"]
    assert "title" not in post.notebook.cells[0].source


def test_date_key_wins_over_file_name(tmp_path, site_config):
    post = read_post(write(tmp_path, "cat.md", "title: A\ndate: 2023-12-31 10:00:00\n"), site_config)
    assert post.date == datetime.date(2023, 12, 31) and post.url == "/2023/12/31/cat.html"


@pytest.mark.parametrize("style,url", [
    ("date", "/2024/01/05/cat.html"), ("pretty", "/2024/01/05/cat/"), ("none", "/cat.html"),
    ("/blog/:year/:title.html", "/blog/2024/cat.html")])
def test_permalink_styles(tmp_path, style, url):
    post = read_post(write(tmp_path, "2024-01-05-cat.md", "title: A\n"),
                     make_config({"permalink": style}, ROOT))
    assert post.url == url
    if style == "pretty":
        assert post.output_path == "2024/01/05/cat/index.html"
        assert post.asset_dir == "2024/01/05/cat"


def test_loads_the_repository_config():
    site_config = load_config(ROOT)
    assert site_config.title == "catdog blog" and site_config.baseurl == ""
    assert site_config.permalink == "/:year/:month/:day/:title.html" and site_config.smoke["epochs"] == 1


@pytest.mark.parametrize("front,line,words", [
    ("title: A\ntags: [a, b\n", 3, "bad front matter"),
    ("description: no title\n", 1, "missing title"),
    ("title: A\ndate: 2024-13-45\n", 3, "bad date"),
    ("title: A\nlayout: gallery\n", 3, "unknown layout"),
    ("title: A\nslug: ../../etc/passwd\n", 3, "bad slug"),
    ("title: A\npermalink: /../../outside.html\n", 3, "bad permalink"),
    ("title: A\ntags: {a: 1}\n", 3, "tags must be"),
    ("title: A\nexpect: {test_accuracy: 'about 0.9'}\n", 3, "expect.test_accuracy"),
    ("title: A\nresources: {GPU: yes}\n", 3, "`resources` must map resource names"),
], ids=["yaml-syntax", "missing-title", "bad-date", "unknown-layout", "traversal-slug",
        "traversal-permalink", "bad-tags", "bad-expectation", "bad-resources"])
def test_bad_front_matter_names_file_and_line(tmp_path, site_config, front, line, words):
    path = write(tmp_path, "2024-01-05-post.md", front)
    with pytest.raises(PostError) as caught:
        read_post(path, site_config)
    assert caught.value.line == line and words in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_a_colon_in_an_unquoted_title_says_to_quote_it(tmp_path, site_config):
    path = write(tmp_path, "2024-01-05-post.md", "title: Cats: a study\n")
    with pytest.raises(PostError) as caught:
        read_post(path, site_config)
    assert str(caught.value) == (f"{path}:2: bad front matter: mapping values are not allowed "
                                 "here; quote a value that holds ': ', e.g. "
                                 "title: \"Cats: a study\"")


@pytest.mark.parametrize("fence", ["py", "python3", "ipython", "ipython3", "py3", "Python"])
def test_python_fences_by_any_name_are_code_cells(tmp_path, site_config, fence):
    body = f"\nProse.\n\n```{fence} tags=[\"parameters\"]\nepochs = 3\n```\n\n" \
           "````markdown\n```py\nquoted, not run\n```\n````\n"
    post = read_post(write(tmp_path, "2024-01-05-post.md", "title: A\n", body), site_config)
    code = [cell for cell in post.notebook.cells if cell.cell_type == "code"]
    assert code[0].source == "epochs = 3" and code[0].metadata["tags"] == ["parameters"]
    assert any("```py\nquoted, not run" in cell.source for cell in post.notebook.cells)


def test_no_date_anywhere_is_an_error(tmp_path, site_config):
    with pytest.raises(PostError, match="no date"):
        read_post(write(tmp_path, "undated.md", "title: A\n"), site_config)


def test_missing_front_matter_is_an_error(tmp_path, site_config):
    path = tmp_path / "2024-01-05-x.md"
    path.write_text("# Just markdown\n")
    with pytest.raises(PostError, match="no front matter"):
        read_post(path, site_config)


def read_all(root: Path, *, drafts: bool = False) -> tuple[list, list[PostError]]:
    """Every post under `root/posts` as a build reads them, and the errors it collected."""
    errors: list[PostError] = []
    posts = read_posts(make_config({}, root), Cache(root / "_freeze"), drafts,
                                   errors)
    return posts, errors


def test_posts_are_sorted_newest_first_and_drafts_left_out(tmp_path):
    (tmp_path / "posts").mkdir()
    write(tmp_path / "posts", "2024-01-05-b.md", "title: B\n")
    write(tmp_path / "posts", "2024-03-01-c.md", "title: C\n")
    write(tmp_path / "posts", "2023-07-01-a.md", "title: A\n")
    write(tmp_path / "posts", "2024-04-01-d.md", "title: D\ndraft: true\n")
    assert [p.title for p in read_all(tmp_path)[0]] == ["C", "B", "A"]
    assert len(read_all(tmp_path, drafts=True)[0]) == 4


def test_duplicate_permalink_is_an_error_for_the_second_post(tmp_path):
    (tmp_path / "posts").mkdir()
    write(tmp_path / "posts", "2024-01-05-cat.md", "title: A\n")
    write(tmp_path / "posts", "other.md", "title: B\ndate: 2024-01-05\nslug: cat\n")
    posts, [error] = read_all(tmp_path)
    assert [p.title for p in posts] == ["A"]
    assert "duplicate permalink /2024/01/05/cat.html" in str(error) and "other.md" in str(error)


def test_a_bad_post_is_collected_and_the_others_are_read(tmp_path):
    (tmp_path / "posts").mkdir()
    write(tmp_path / "posts", "2024-01-05-good.md", "title: Good\n")
    write(tmp_path / "posts", "2024-01-06-bad.md", "tags: [x]\n")
    posts, [error] = read_all(tmp_path)
    assert [p.title for p in posts] == ["Good"]
    assert "missing title" in str(error)


def test_odd_file_names_give_safe_slugs(tmp_path, site_config):
    post = read_post(write(tmp_path, "2024-01-05-Ünïcode & <b>.md", "title: A\n"), site_config)
    assert post.slug == "Ünïcode-b" and post.output_path == "2024/01/05/Ünïcode-b.html"


@pytest.mark.parametrize("text,slug", [
    ("chats-été", "chats-été"), ("Keras CNN", "keras-cnn"), ("猫 と 犬", "猫-と-犬"),
    ("हिन्दी", "हिन्दी"), ("C++ / C#", "c-c"), ("🐱 cats 🐶", "cats"), ("e\u0301te\u0301", "été"),
    ("  --a__b--  ", "a-b")],
    ids=["accents", "ascii", "cjk", "devanagari-marks", "punctuation", "emoji", "nfd", "dashes"])
def test_slugify_keeps_letters_of_any_script_as_jekyll_does(text, slug):
    from sitegen.urls import slugify

    assert slugify(text) == slug


def test_accented_file_name_keeps_its_letters_in_the_url(tmp_path, site_config):
    post = read_post(write(tmp_path, "2024-08-04-chats-été.md", "title: Chats\n"), site_config)
    assert post.slug == "chats-été" and post.url == "/2024/08/04/chats-été.html"


def test_decomposed_file_name_gives_the_composed_slug(tmp_path, site_config):
    post = read_post(write(tmp_path, "2024-08-04-e\u0301te\u0301.md", "title: Été\n"), site_config)
    assert post.slug == "été"  # NFC, as a macOS file name (NFD) must give the same URL


def test_unicode_tags_are_accepted(tmp_path, site_config):
    post = read_post(write(tmp_path, "2024-08-04-chats.md", "title: A\ntags: [été, 猫]\n"), site_config)
    assert post.tags == ("été", "猫")


@pytest.mark.parametrize("front,words", [
    ("title: A\ntags: [Keras CNN, keras-cnn]\n", "'Keras CNN' and 'keras-cnn' both make the page tags/keras-cnn.html"),
    ("title: A\ntags: [🐱]\n", "each tag needs a letter or digit"),
    ("title: A\nslug: a/b\n", "bad slug 'a/b'"),
    ("title: A\npermalink: /a b/\n", "bad permalink '/a b/'")],
    ids=["tag-clash", "emoji-tag", "slug-with-slash", "permalink-with-space"])
def test_unsafe_or_clashing_names_are_errors_on_their_line(tmp_path, site_config, front, words):
    with pytest.raises(PostError, match="A.md") as caught:
        read_post(write(tmp_path, "2024-08-04-A.md", front), site_config)
    assert words in str(caught.value) and caught.value.line == 3


def test_unicode_slug_and_permalink_in_front_matter(tmp_path, site_config):
    post = read_post(write(tmp_path, "x.md", "title: A\ndate: 2024-08-04\nslug: été\n"), site_config)
    assert post.url == "/2024/08/04/été.html"
    post = read_post(write(tmp_path, "2024-08-04-y.md", "title: A\npermalink: /猫/\n"), site_config)
    assert post.output_path == "猫/index.html"


def test_output_and_contents_settings_are_checked():
    from sitegen.config import OUTPUT_DEFAULTS

    assert make_config({}).outputs == OUTPUT_DEFAULTS
    assert make_config({"outputs": {"head_lines": 5}}).outputs["tail_lines"] == 20
    for bad in ({"outputs": {"head": 5}}, {"outputs": {"tail_lines": -1}},
                {"outputs": {"max_bytes": 0}}, {"toc_min_headings": "many"}):
        with pytest.raises(ValueError, match="outputs|toc_min_headings"):
            make_config(bad)


def test_the_cluster_setting_is_a_scheduler_address():
    assert make_config({}).cluster == ""
    assert make_config({"cluster": "tcp://gpu-box:8786"}).cluster == "tcp://gpu-box:8786"
    with pytest.raises(ValueError, match="`cluster` must be a Dask scheduler's address"):
        make_config({"cluster": 8786})
    assert make_config({}).cluster_retries == 0  # a dead worker fails its post, unless asked
    with pytest.raises(ValueError, match="`cluster_retries` must be a whole number >= 0"):
        make_config({"cluster_retries": -1})


def test_a_plain_body_is_read_as_markdown_without_guessing_its_format():
    from sitegen.posts import jupytext_format

    assert jupytext_format(BODY) == "md:markdown"
    assert jupytext_format("```{code-cell} ipython3\n1 + 1\n```\n") == "md"  # MyST: guessed
    assert jupytext_format("::: note\nA Pandoc div\n:::\n") == "md"


def test_a_myst_body_is_still_read_as_myst(tmp_path, site_config):
    post = read_post(write(tmp_path, "2024-01-05-myst.md", "title: MyST\n",
                           "\n```{code-cell} ipython3\nx = 1\n```\n"), site_config)
    assert [cell.cell_type for cell in post.notebook.cells] == ["code"]
