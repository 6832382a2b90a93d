"""`build.py new "Title"`: a new post from a small template that runs as it is.

The template is a complete post: parameters, data (made-up shapes until the author points
`photos` at a folder of their own), a small CNN, its curves and a recorded test score quoted
in prose, with `expect:` and `smoke:`; so `build.py --smoke SLUG` publishes it in a minute,
and the author changes one thing at a time from something that works.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from sitegen.exceptions import BuildError
from sitegen.urls import slugify

TEMPLATE = '''\
---
title: {title}
description: One sentence for the index and the feed.
tags: [notes]
expect:          # checked by `build.py --check`; a quick run checks only that it is recorded
  test_accuracy: ">= 0.6"
smoke:           # what `build.py --smoke` injects: a fast run, to try the post as you write it
  quick: true
  epochs: 1
---

Say what this post asks. A sentence before every cell helps the reader follow.

```python tags=["parameters"]
quick = False  # a quick run (--smoke): tiny made-up photos of your classes, numbers meaningless
photos = None  # your photos: a folder with one subfolder per class, e.g. "../../photos/my_trip"
image_size = (96, 96)
epochs = 10
seed = 0
```

Until `photos` names a folder, the post draws three classes of made-up shapes, so it runs
as it is. A relative `photos` is found from this post's folder or from where you launch
`build.py` (the README's "Your own photos" says how). A fifth of the photos are held out as
the test set, never used to train or to choose anything.

```python
from catdog import data, models, plots, results, train

train.set_seed(seed)
if photos is None:
    photos = data.synthetic("synthetic", classes=("circles", "squares", "triangles"),
                            per_class=40, image_size=image_size,
                            splits=("made-up shapes",)) / "made-up shapes"
splits = data.from_directory(photos, image_size=image_size, test_fraction=0.2, quick=quick,
                             batch_size=16, seed=seed)
summary = splits.summary()
results.record(data_source=summary["data_source"], image_count=summary["image_count"],
               train_images=len(splits.train), validation_images=len(splits.validation),
               test_images=len(splits.test), quick=quick)
plots.sample_grid(splits.train, per_class=3);
```

A small CNN, trained for {{{{ results.epochs }}}} epochs:

```python
model = models.compile_model(models.make_small_cnn(
    image_size, len(splits.class_names), filters=(16, 32), dense_units=32))
run = train.fit(model, splits.train, splits.validation, epochs=epochs)
plots.training_curves(run);
```

```python
score = train.evaluate(model, splits.test)
predictions = train.predict(model, splits.test)
results.record(test_score=score, test_accuracy=score["accuracy"], test_interval=score["interval"],
               test_count=score["count"], test_loss=score["loss"], epochs=run.epochs_run,
               train_seconds=run.train_seconds, device=run.device,
               training=train.training_total())
plots.confusion_matrix(splits.test.labels, predictions.predicted, splits.class_names);
```

It classifies {{{{ results.test_score | accuracy_ci }}}} of the {{{{ results.test_count }}}} test
photos correctly (the 95 % interval in brackets).
'''


def new_post(posts_dir: Path, title: str, date: datetime.date | None = None) -> Path:
    """Writes `posts_dir/<date>-<slug>.md` from the template; never overwrites a post."""
    date = date or datetime.date.today()
    slug = slugify(title)
    if not slug:
        raise BuildError(None, f"new: the title needs a letter or digit to make a file name "
                               f"from. Received: {title!r}")
    path = posts_dir / f"{date.isoformat()}-{slug}.md"
    if path.exists():
        raise BuildError(path, "new: a post with this name already exists; edit it, or choose "
                               "another title")
    posts_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATE.format(title=json.dumps(title, ensure_ascii=False)),
                    encoding="utf-8")
    return path
