"""Measure how hard the simulated sets are: a pixel baseline versus a small CNN (numbers for data/README.md).

    python tools/simulated_baselines.py          # prints JSON, about 1-2 min on 2 cores

2D (simlesion2d): logistic regression on pixels vs the article's CNN (inputs / 255, 10 epochs, batch 64, adam).
3D (simlesion3d): logistic regression on voxels vs a small 3D CNN (10 epochs, batch 32).
"""
from __future__ import annotations

import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score

from helpers import data
from helpers.models import article_cnn
from helpers.setup import start


def main() -> dict:
    start(seed=0)
    import keras
    from keras import layers

    out = {}
    t0 = time.perf_counter()
    sets = {"simlesion2d": (data.load("simlesion2d", "train"), data.load("simlesion2d", "test"))}
    out["simlesion2d_generation_and_load_s"] = round(time.perf_counter() - t0, 1)
    sets["simlesion3d"] = (data.load("simlesion3d", "train"), data.load("simlesion3d", "test"))
    for name, (tr, te) in sets.items():
        x, xt = tr.x.astype("float32") / 255, te.x.astype("float32") / 255
        lr = LogisticRegression(max_iter=3000).fit(x.reshape(len(x), -1), tr.y)
        p_lr = lr.predict_proba(xt.reshape(len(xt), -1))[:, 1]
        keras.utils.set_random_seed(0)
        if x.ndim == 3:
            model = article_cnn((28, 28, 1), 2)
            fit_kw = dict(epochs=10, batch_size=64)
        else:
            model = keras.Sequential([
                keras.Input((28, 28, 28, 1)),
                layers.Conv3D(16, 3, activation="relu"), layers.MaxPooling3D(2),
                layers.Conv3D(32, 3, activation="relu"), layers.MaxPooling3D(2),
                layers.GlobalMaxPooling3D(), layers.Dense(32, activation="relu"),
                layers.Dense(2, activation="softmax")])
            model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
            fit_kw = dict(epochs=10, batch_size=32)
        t0 = time.perf_counter()
        model.fit(x[..., None], tr.y, verbose=0, **fit_kw)
        p_cnn = model.predict(xt[..., None], verbose=0)[:, 1]
        out[name] = {
            "logistic_regression_auc": round(roc_auc_score(te.y, p_lr), 3),
            "logistic_regression_acc": round(accuracy_score(te.y, p_lr > 0.5), 3),
            "cnn_auc": round(roc_auc_score(te.y, p_cnn), 3),
            "cnn_acc": round(accuracy_score(te.y, p_cnn > 0.5), 3),
            "cnn_train_s": round(time.perf_counter() - t0, 1),
        }
    print(json.dumps(out, indent=1))
    write_card(out)
    return out


def write_card(out: dict) -> None:
    """Put the measured numbers into data/README.md, below the `<!-- baselines -->` marker."""
    from datetime import date
    from pathlib import Path

    card = Path(__file__).resolve().parent.parent / "data" / "README.md"
    rows = ["| set (test split) | logistic regression on pixels: AUC / ACC | small CNN: AUC / ACC | CNN training |",
            "|---|---|---|---|"]
    for name, model in (("simlesion2d", "the article's CNN, 10 epochs"), ("simlesion3d", "a small 3D CNN, 10 epochs")):
        r = out[name]
        rows.append(f"| `{name}` | {r['logistic_regression_auc']:.3f} / {r['logistic_regression_acc']:.3f} | "
                    f"{r['cnn_auc']:.3f} / {r['cnn_acc']:.3f} ({model}) | {r['cnn_train_s']:.0f} s |")
    rows.append("")
    rows.append(f"Measured by `python tools/simulated_baselines.py` on {date.today().isoformat()} "
                f"({os.cpu_count()} cores). Generating and loading `simlesion2d` the first time took "
                f"{out['simlesion2d_generation_and_load_s']:.1f} s. "
                "A pixel baseline stays at chance; a small CNN finds the lesions, leaving room for better recipes.")
    text = card.read_text(encoding="utf-8")
    head = text.split("<!-- baselines -->")[0]
    card.write_text(head + "<!-- baselines -->\n" + "\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
