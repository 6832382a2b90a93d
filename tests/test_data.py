"""Tests for catdog.data: each test is a small example of the API, on tiny data made on the fly."""

import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from catdog import data, images, results, sources

TINY = (16, 16)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Keeps caches and downloads under tmp_path, and the results record empty."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    for name in ("CATDOG_DATA", "CATDOG_MORE_DATA", "CATDOG_SCENES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(results, "_record", {"values": {}, "data": [], "environment": {}})


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A tiny extracted `cats_and_dogs_filtered` folder: 10 images per class and split."""
    return data.synthetic(tmp_path / "src" / "cats_and_dogs_filtered", per_class=10,
                          image_size=TINY)


@pytest.fixture
def dataset_zip(dataset, tmp_path) -> Path:
    """The tiny data set zipped like the official file: members under cats_and_dogs_filtered/."""
    return zip_folder(dataset, tmp_path / "cats_and_dogs_filtered.zip")


def zip_folder(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            zipped.write(path, path.relative_to(folder.parent).as_posix())
    return archive


def load(source=None, **kwargs) -> data.Splits:
    """cats_and_dogs at the tiny size, batches of 2: 20 validation images are 10 batches."""
    return data.cats_and_dogs(source, **{"image_size": TINY, "batch_size": 2, **kwargs})


def count_decodes(monkeypatch) -> list:
    calls = []
    decode = images.decode_image

    def counting(*args):
        calls.append(1)
        return decode(*args)

    monkeypatch.setattr(images, "decode_image", counting)
    return calls


# --- synthetic ------------------------------------------------------------------------


def test_synthetic_writes_one_folder_per_split_and_class(tmp_path):
    root = data.synthetic(tmp_path / "pets", classes=("cats", "dogs", "birds"), per_class=3,
                          image_size=TINY)
    assert sorted(p.name for p in (root / "train").iterdir()) == ["birds", "cats", "dogs"]
    assert len(list((root / "validation" / "birds").glob("*.jpg"))) == 3


def test_synthetic_is_deterministic_for_a_seed(tmp_path):
    first = data.synthetic(tmp_path / "a", per_class=3, image_size=TINY, seed=7)
    second = data.synthetic(tmp_path / "b", per_class=3, image_size=TINY, seed=7)
    other = data.synthetic(tmp_path / "c", per_class=3, image_size=TINY, seed=8)
    files = sorted(p.relative_to(first) for p in first.rglob("*.jpg"))
    assert [(first / f).read_bytes() for f in files] == [(second / f).read_bytes() for f in files]
    assert (first / files[0]).read_bytes() != (other / files[0]).read_bytes()


def test_synthetic_classes_are_learnable_from_their_colours(dataset):
    splits = load(dataset)
    mean_colour = lambda split: split.images.reshape(len(split), -1, 3).mean(axis=1)
    train = mean_colour(splits.train)
    centroids = np.stack([train[splits.train.labels == c].mean(axis=0) for c in (0, 1)])
    validation = mean_colour(splits.validation)
    guesses = np.linalg.norm(validation[:, None] - centroids, axis=2).argmin(axis=1)
    assert (guesses == splits.validation.labels).mean() >= 0.9


def test_synthetic_rejects_a_single_class(tmp_path):
    with pytest.raises(ValueError, match=r"two or more distinct classes.*Received: classes="):
        data.synthetic(tmp_path, classes=("cats",))


# --- cats_and_dogs: where the data comes from ------------------------------------------


def test_cats_and_dogs_from_a_zip(dataset_zip):
    splits = load(dataset_zip)
    assert splits.summary() == {"data_source": "cats_and_dogs_filtered.zip (local)",
                                "image_count": 40, "train": 20, "validation": 16, "test": 4,
                                "classes": ["cats", "dogs"]}
    assert splits.train.images.shape == (20, *TINY, 3)
    assert splits.train.images.dtype == np.uint8 and splits.train.labels.dtype == np.int32
    assert splits.image_size == TINY


def test_cats_and_dogs_extracts_a_zip_once_into_the_cache(dataset_zip, tmp_path):
    load(dataset_zip)
    extracted = list((tmp_path / "keras_home" / "catdog_cache" / "extracted").iterdir())
    load(dataset_zip)
    assert list((tmp_path / "keras_home" / "catdog_cache" / "extracted").iterdir()) == extracted
    assert len(extracted) == 1


@pytest.mark.parametrize("level, source", [("dataset_folder", "cats_and_dogs_filtered (local)"),
                                           ("parent_folder", "src (local)")])
def test_cats_and_dogs_from_an_extracted_folder(dataset, level, source):
    splits = load(dataset if level == "dataset_folder" else dataset.parent)
    assert splits.source == source
    assert len(splits.train) == 20


def test_cats_and_dogs_reads_the_CATDOG_DATA_variable(dataset_zip, monkeypatch):
    monkeypatch.setenv("CATDOG_DATA", str(dataset_zip))
    assert load().source == "cats_and_dogs_filtered.zip (local)"


def test_cats_and_dogs_downloads_a_url_with_get_file(dataset_zip, tmp_path):
    splits = load(dataset_zip.as_uri())
    assert (tmp_path / "keras_home" / "datasets" / "cats_and_dogs_filtered.zip").is_file()
    assert splits.source.startswith("cats_and_dogs_filtered.zip (downloaded from file://")
    assert len(splits.train) == 20


def test_cats_and_dogs_downloads_DATA_URL_once_when_no_source_is_given(dataset_zip, monkeypatch):
    monkeypatch.setattr(data, "DATA_URL", dataset_zip.as_uri())
    load()

    def no_download(*args):
        raise AssertionError("downloaded twice")

    monkeypatch.setattr(sources, "_get_file", no_download)
    assert len(load().train) == 20


def test_quick_run_uses_synthetic_data_at_the_requested_size():
    splits = data.cats_and_dogs(quick=True, image_size=(32, 32))
    assert splits.source == "synthetic (quick run)"
    assert splits.train.images.shape == (80, 32, 32, 3)
    assert len(splits.test) > 0


# --- splits -----------------------------------------------------------------------------


def test_test_split_is_the_first_fifth_of_the_validation_batches(dataset):
    splits = load(dataset, batch_size=2)  # 20 validation images: 10 batches, test 10 // 5 = 2
    assert (len(splits.validation), len(splits.test)) == (16, 4)
    held_out = set(splits.validation.files) | set(splits.test.files)
    assert not set(splits.validation.files) & set(splits.test.files)
    assert held_out == {p.relative_to(dataset).as_posix()
                        for p in (dataset / "validation").rglob("*.jpg")}


def test_small_validation_sets_still_get_one_test_batch(dataset):
    splits = load(dataset, batch_size=8)  # 20 images: 3 batches, 3 // 5 = 0, so one batch
    assert (len(splits.validation), len(splits.test)) == (12, 8)


def test_same_seed_gives_the_same_splits(dataset):
    first, second, other = load(dataset, seed=1), load(dataset, seed=1), load(dataset, seed=2)
    assert first.test.files == second.test.files and first.train.files == second.train.files
    np.testing.assert_array_equal(first.test.images, second.test.images)
    assert first.train.files != other.train.files


def test_labels_match_the_class_folder_of_each_file(dataset):
    split = load(dataset).train
    assert [split.class_names[label] for label in split.labels] == [
        f.split("/")[1] for f in split.files]


# --- decode once, skip what is unreadable ----------------------------------------------


def test_a_second_call_decodes_no_image(dataset_zip, monkeypatch):
    decodes = count_decodes(monkeypatch)
    first = load(dataset_zip)
    assert len(decodes) == 40
    second = load(dataset_zip)
    assert len(decodes) == 40
    np.testing.assert_array_equal(first.train.images, second.train.images)


def test_changed_files_are_decoded_again(dataset, monkeypatch):
    load(dataset)
    (dataset / "train" / "cats" / "extra.jpg").write_bytes(
        (dataset / "train" / "cats" / "cats.0000.jpg").read_bytes())
    decodes = count_decodes(monkeypatch)
    assert len(load(dataset).train) == 21
    assert len(decodes) == 21  # Only the changed folder; validation comes from the cache.


def test_unreadable_files_are_skipped_with_one_warning(dataset, caplog):
    cats = dataset / "train" / "cats"
    (cats / "notes.txt").write_text("not an image")
    (cats / "truncated.jpg").write_bytes((cats / "cats.0000.jpg").read_bytes()[:200])
    (dataset / "validation" / "dogs" / "empty.jpg").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="catdog.data"):
        splits = load(dataset)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Skipped 3 file(s)" in warnings[0].getMessage()
    assert "train/cats/notes.txt" in warnings[0].getMessage()
    assert len(splits.train) == 20 and len(splits.validation) + len(splits.test) == 20


# --- errors say what was expected and how to supply data offline ------------------------


def test_a_missing_class_folder_is_an_error(dataset):
    for path in (dataset / "validation" / "dogs").iterdir():
        path.unlink()
    (dataset / "validation" / "dogs").rmdir()
    with pytest.raises(FileNotFoundError,
                       match=r"Missing class folder .*validation/dogs.*CATDOG_DATA"):
        load(dataset)


def test_an_empty_class_folder_is_an_error(dataset):
    for path in (dataset / "train" / "cats").iterdir():
        path.write_text("not an image")
    with pytest.raises(ValueError, match=r"train/cats.* has no readable images"):
        load(dataset)


def test_a_folder_without_train_and_validation_is_a_layout_error(tmp_path):
    (tmp_path / "photos" / "cats").mkdir(parents=True)
    with pytest.raises(ValueError,
                       match=r"Wrong layout.*train,validation.*Received: source=.*CATDOG_DATA="):
        load(tmp_path / "photos")


def test_a_missing_source_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"does not exist.*CATDOG_DATA="):
        load(tmp_path / "nowhere.zip")


def test_a_file_that_is_not_a_zip_is_an_error(tmp_path):
    (tmp_path / "data.zip").write_text("not a zip")
    with pytest.raises(ValueError, match=r"not a readable zip.*Received: source=.*data.zip"):
        load(tmp_path / "data.zip")


def test_a_zip_of_something_else_is_an_error(tmp_path):
    (tmp_path / "other" / "pictures").mkdir(parents=True)
    (tmp_path / "other" / "pictures" / "a.txt").write_text("hello")
    archive = zip_folder(tmp_path / "other", tmp_path / "other.zip")
    with pytest.raises(ValueError, match=r"zip is not the cats-vs-dogs data.*CATDOG_DATA="):
        load(archive)


@pytest.mark.parametrize("url", ["file:///nonexistent/cats_and_dogs_filtered.zip",
                                 "http://127.0.0.1:9/cats_and_dogs_filtered.zip"],
                         ids=["missing_file_url", "refused_http_url"])
def test_an_unreachable_url_is_an_error(url, monkeypatch):
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setattr(data, "DATA_URL", url)
    with pytest.raises(FileNotFoundError, match=r"Could not download.*CATDOG_DATA=.*zip"):
        load()


@pytest.mark.parametrize("image_size", [(0, 16), (16,), "big"], ids=["zero", "one_number", "text"])
def test_a_bad_image_size_is_an_error(dataset, image_size):
    with pytest.raises(ValueError, match=r"Received: image_size="):
        load(dataset, image_size=image_size)


# --- the test split: the seed rule, or a larger share ---------------------------------


def test_the_seed_rule_holds_out_a_fifth_of_the_validation_batches(dataset):
    splits = load(dataset)  # 20 validation images in batches of 2: 10 batches, 2 of them test
    assert (len(splits.validation), len(splits.test)) == (16, 4)


def test_test_fraction_holds_out_that_share_of_the_validation_photos(dataset):
    splits = load(dataset, test_fraction=0.5)
    assert (len(splits.validation), len(splits.test)) == (10, 10)
    assert not set(splits.test.files) & set(splits.validation.files)
    assert all(f.startswith("validation/") for f in splits.test.files)


def test_test_fraction_must_be_a_fraction(dataset):
    with pytest.raises(ValueError, match=r"test_fraction.*Received: test_fraction=1.5"):
        load(dataset, test_fraction=1.5)


# --- several training sources ----------------------------------------------------------


@pytest.fixture
def more_zip(tmp_path) -> Path:
    """A tiny `dogs_vs_cats_more.zip`: members dogs_vs_cats_more/{cats,dogs}/*.jpg, 6 per class."""
    root = data.synthetic(tmp_path / "more_src", per_class=6, image_size=TINY, seed=5,
                          splits=("dogs_vs_cats_more",)) / "dogs_vs_cats_more"
    return zip_folder(root, tmp_path / "dogs_vs_cats_more.zip")


def test_extra_sources_add_training_photos_only(dataset_zip, more_zip):
    splits = load(dataset_zip, extra=[more_zip], test_fraction=0.5)
    assert splits.train_sources == {"cats_and_dogs_filtered.zip": 20, "dogs_vs_cats_more.zip": 12}
    assert len(splits.train) == 32 and splits.train.label_counts() == {"cats": 16, "dogs": 16}
    assert (len(splits.validation), len(splits.test)) == (10, 10)
    assert sum(f.startswith("dogs_vs_cats_more.zip/") for f in splits.train.files) == 12
    assert splits.summary()["train_sources"] == splits.train_sources


def test_every_source_is_recorded_by_content_with_its_name_and_variable(dataset_zip, more_zip,
                                                                         monkeypatch):
    monkeypatch.setenv("CATDOG_MORE_DATA", str(more_zip))
    load(dataset_zip, extra=[data.MORE_PHOTOS])
    entries = {entry["name"]: entry for entry in results.current()["data"]}
    assert entries["cats_and_dogs_filtered.zip"]["url"] == data.DATA_URL
    assert entries["cats_and_dogs_filtered.zip"]["env"] == "CATDOG_DATA"
    more = entries["dogs_vs_cats_more.zip"]
    assert (more["url"], more["env"], more["files"], more["kind"]) == (None, "CATDOG_MORE_DATA",
                                                                       12, "file")
    assert more["fingerprint"] == results.fingerprint(more_zip)


def test_more_photos_without_the_variable_says_how_to_set_it(dataset_zip):
    with pytest.raises(FileNotFoundError, match=r"CATDOG_MORE_DATA unset.*dogs_vs_cats_more.zip"):
        load(dataset_zip, extra=[data.MORE_PHOTOS])


def test_a_quick_run_with_extra_sources_merges_synthetic_photos():
    splits = data.cats_and_dogs(quick=True, extra=[data.MORE_PHOTOS], image_size=TINY)
    assert splits.train_sources["extra0"] == 40 and len(splits.train) == 120


# --- the scenes ----------------------------------------------------------------------------


@pytest.fixture
def scenes_zip(tmp_path) -> Path:
    """A tiny `intel_scenes_small.zip` in the collection's layout: 4 train, 3 test photos a class."""
    root = tmp_path / "scenes_src" / "intel_scenes"
    data.synthetic(root, classes=data.SCENE_CLASSES, per_class=4, image_size=TINY,
                   splits=("seg_train",))
    data.synthetic(root, classes=data.SCENE_CLASSES, per_class=3, image_size=TINY, seed=1,
                   splits=("seg_test",))
    return zip_folder(root, tmp_path / "intel_scenes_small.zip")


def test_scenes_keep_seg_test_whole_as_the_test_split(scenes_zip):
    splits = data.scenes(scenes_zip, image_size=TINY, validation_split=0.25)
    assert splits.class_names == list(data.SCENE_CLASSES)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (18, 6, 18)
    assert all(f.startswith("seg_test/") for f in splits.test.files)
    assert all(f.startswith("seg_train/") for f in splits.train.files + splits.validation.files)
    assert splits.test.label_counts() == dict.fromkeys(data.SCENE_CLASSES, 3)
    assert splits.source == "intel_scenes_small.zip (local)"


def test_scenes_come_from_the_variable_and_are_recorded_by_content(scenes_zip, monkeypatch):
    monkeypatch.setenv("CATDOG_SCENES", str(scenes_zip))
    data.scenes(image_size=TINY)
    [entry] = results.current()["data"]
    assert (entry["name"], entry["env"], entry["url"]) == ("intel_scenes_small.zip",
                                                           "CATDOG_SCENES", None)
    assert entry["files"] == 42 and entry["fingerprint"] == results.fingerprint(scenes_zip)


def test_scenes_read_the_extracted_folder_too(scenes_zip, tmp_path):
    by_zip = data.scenes(scenes_zip, image_size=TINY)
    by_folder = data.scenes(tmp_path / "scenes_src", image_size=TINY)
    assert by_zip.test.files == by_folder.test.files
    assert np.array_equal(by_zip.train.images, by_folder.train.images)


def test_scenes_without_a_source_say_how_to_give_one():
    with pytest.raises(FileNotFoundError, match=r"CATDOG_SCENES unset.*scenes\(quick=True\)"):
        data.scenes()


def test_scenes_reject_a_zip_of_something_else(dataset_zip):
    with pytest.raises(ValueError, match=r"not the scene photos.*seg_train"):
        data.scenes(dataset_zip)


def test_quick_scenes_have_six_synthetic_classes():
    splits = data.scenes(quick=True, image_size=TINY)
    assert splits.class_names == list(data.SCENE_CLASSES) and splits.source == data.QUICK_SOURCE


def test_take_gives_the_first_photos_of_a_split(dataset):
    train = load(dataset).train
    assert train.take(5).files == train.files[:5]
    with pytest.raises(ValueError, match="Received: count=0"):
        train.take(0)


# --- other folders --------------------------------------------------------------------


@pytest.fixture
def scenes(tmp_path) -> Path:
    """A three-class folder-per-class tree with 4, 4 and 2 images."""
    root = data.synthetic(tmp_path / "scenes", classes=("forest", "glacier", "sea"),
                          per_class=4, image_size=TINY, splits=("train",)) / "train"
    for path in sorted((root / "sea").iterdir())[:2]:
        path.unlink()
    return root


def test_from_directory_reads_any_number_of_classes(scenes):
    split = data.from_directory(scenes, image_size=TINY, batch_size=2)
    assert split.class_names == ["forest", "glacier", "sea"]
    assert split.label_counts() == {"forest": 4, "glacier": 4, "sea": 2}
    assert split.baseline_accuracy() == 0.4
    assert len(split) == 10 and split.batch_size == 2


def test_from_directory_with_a_validation_split_returns_three_splits(scenes):
    splits = data.from_directory(scenes, image_size=TINY, batch_size=1, validation_split=0.5)
    assert [len(splits.train), len(splits.validation), len(splits.test)] == [5, 4, 1]
    assert splits.summary()["classes"] == ["forest", "glacier", "sea"]
    assert splits.source == "train (local)"


def test_from_directory_needs_two_class_folders(tmp_path):
    (tmp_path / "only" / "cats").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"one subfolder per class, two classes or more"):
        data.from_directory(tmp_path / "only")


def test_own_photos_with_a_test_fraction_hold_that_share_out_first(scenes):
    splits = data.from_directory(scenes, image_size=TINY, batch_size=1, test_fraction=0.2)
    assert [len(splits.train), len(splits.validation), len(splits.test)] == [6, 2, 2]
    everything = splits.train.files + splits.validation.files + splits.test.files
    assert sorted(everything) == sorted(data.from_directory(scenes, image_size=TINY).files)


def test_a_quick_run_of_own_photos_needs_no_photos_and_keeps_the_class_names(scenes, tmp_path):
    quick = data.from_directory(scenes, quick=True, test_fraction=0.25, image_size=TINY)
    assert quick.class_names == ["forest", "glacier", "sea"]
    assert "quick synthetic" in quick.source
    elsewhere = data.from_directory(tmp_path / "not here", quick=True, test_fraction=0.2)
    assert len(elsewhere.class_names) == 3  # made-up classes: the smoke run still runs


def test_a_relative_path_is_found_from_the_posts_folder(scenes, tmp_path, monkeypatch):
    # The kernel runs in an empty working folder; the author wrote the path from the post's.
    posts = tmp_path / "blog" / "posts"
    posts.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "blog")
    (tmp_path / "blog" / "run").mkdir()
    monkeypatch.chdir(tmp_path / "blog" / "run")
    monkeypatch.setenv("CATDOG_POST_DIR", str(posts))
    relative = Path("..", "..", scenes.relative_to(tmp_path))
    assert data.from_directory(relative, image_size=TINY).class_names == ["forest", "glacier", "sea"]


def test_a_missing_relative_path_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATDOG_POST_DIR", str(tmp_path / "posts"))
    with pytest.raises(FileNotFoundError) as error:
        data.from_directory("../photos/my_trip")
    message = str(error.value)
    assert str(tmp_path.parent / "photos" / "my_trip") in message  # from the working folder
    assert str(tmp_path / "photos" / "my_trip") in message  # from the post's folder
    assert f"the post runs in {tmp_path}" in message


def test_class_folders_that_look_wrong_get_a_warning(tmp_path, caplog):
    root = data.synthetic(tmp_path / "trip", classes=("glacier", "sea"), per_class=2,
                          image_size=TINY)  # train/ and validation/: one folder too high
    with caplog.at_level(logging.WARNING, logger="catdog.data"):
        splits = data.from_directory(root, image_size=TINY)
    assert splits.class_names == ["train", "validation"]
    assert "named like splits (train, validation)" in caplog.text
    assert "holds folders (glacier, sea)" in caplog.text


def test_unlabeled_lists_numbered_files_in_number_order(tmp_path):
    for number in (10, 2, 1):
        data.synthetic(tmp_path / "x", per_class=1, image_size=TINY, splits=("t",))
        (tmp_path / "x" / "t" / "cats" / "cats.0000.jpg").rename(tmp_path / f"{number}.jpg")
    assert data.unlabeled(tmp_path, image_size=TINY)[1][:3] == ["1.jpg", "2.jpg", "10.jpg"]


def test_unlabeled_reads_a_folder_of_images_in_sorted_order(dataset):
    images, files = data.unlabeled(dataset / "validation", image_size=(8, 12))
    assert images.shape == (20, 8, 12, 3)
    assert files[0] == "cats/cats.0000.jpg" and files[-1] == "dogs/dogs.0009.jpg"


def test_unlabeled_needs_images(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No images found in `path`"):
        data.unlabeled(tmp_path)


def test_label_counts_and_majority_baseline(dataset):
    split = load(dataset).train
    assert split.label_counts() == {"cats": 10, "dogs": 10}
    assert split.baseline_accuracy() == 0.5


# --- the results record ----------------------------------------------------------------


def test_a_zip_is_recorded_with_its_sha256(dataset_zip):
    import hashlib

    load(dataset_zip)
    [entry] = results.current()["data"]
    assert entry["path"] == str(dataset_zip) and entry["kind"] == "file"
    assert entry["fingerprint"] == "sha256:" + hashlib.sha256(dataset_zip.read_bytes()).hexdigest()
    assert entry["files"] == 40 and entry["bytes"] == dataset_zip.stat().st_size


def test_a_folder_is_recorded_with_a_content_fingerprint(dataset):
    load(dataset)
    first = results.current()["data"][0]
    image = dataset / "train" / "dogs" / "dogs.0001.jpg"
    image.write_bytes(image.read_bytes()[:-1] + b"\0")
    load(dataset)
    second = results.current()["data"][0]
    assert first["kind"] == "folder" and first["files"] == 40
    assert first["fingerprint"].startswith("sha256:")
    assert first["fingerprint"] != second["fingerprint"]


def test_quick_data_is_recorded_as_synthetic():
    data.cats_and_dogs(quick=True, image_size=TINY)
    assert results.current()["data"][0]["kind"] == "synthetic"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_small_cnn_beats_the_baseline_on_synthetic_data_in_two_epochs(tmp_path, seed):
    from catdog import models, train

    root = data.synthetic(tmp_path / "s", per_class=100, seed=seed, splits=("train",))
    splits = data.from_directory(root / "train", image_size=(32, 32), batch_size=8,
                                 validation_split=0.25, seed=seed)
    train.set_seed(seed)
    model = models.compile_model(models.make_small_cnn((32, 32), filters=(8, 8), dense_units=16))
    train.fit(model, splits.train, splits.validation, epochs=2, seed=seed, verbose=0)
    accuracy = train.evaluate(model, splits.validation)["accuracy"]
    assert accuracy >= splits.validation.baseline_accuracy() + 0.3


def test_data_keeps_no_fingerprint_memo_of_its_own(dataset_zip, tmp_path):
    load(dataset_zip)
    assert not list((tmp_path / "keras_home").rglob("fingerprints.json"))
    assert not hasattr(data, "_file_fingerprint") and not hasattr(data, "_SAVE_LOCK")
