"""Validation-only search of the better recipe's hyper-parameters (issue 14, item 3).

Trains the better recipe with some options changed and prints one JSON line per (dataset, variant,
seed) with the **validation** AUC and accuracy (at 0.5 and at the threshold chosen on validation),
the epochs and the seconds. The test split is never loaded here: the recipe is chosen on validation,
then ``python -m helpers.train FLAG`` scores the test split once.

    python tools/recipe_search.py pneumoniamnist breastmnist --variant '{}' --variant '{"label_smoothing": 0}'
    python tools/recipe_search.py breastmnist --variant '{"samples": 30000}' --seeds 0 1

Run it with oneDNN off (``helpers.setup.start`` sets it) and, on a shared machine, ``nice``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--variant", action="append", default=None,
                        help="JSON object of options overriding helpers.train.BETTER (repeatable)")
    parser.add_argument("--recipe", default="better")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--log", default=None, help="append the JSON lines to this file too")
    args = parser.parse_args(argv)
    from helpers.setup import start

    start(seed=0)
    import numpy as np

    from helpers import data, metrics, train

    variants = [json.loads(v) for v in (args.variant or ["{}"])]
    for name in args.datasets:
        splits = {s: (data.load(name, s).x, data.load(name, s).y) for s in ("train", "val")}  # no test here
        y_val = data.as_labels(splits["val"][1])
        x_val = data.as_images(splits["val"][0])
        for variant in variants:
            for seed in args.seeds:
                model, hist = train.fit(args.recipe, *splits["train"], *splits["val"], epochs=args.epochs,
                                        dataset=name, seed=seed, **variant)
                p = train._predict(model, x_val)
                row = {"data": name, "variant": variant, "seed": seed,
                       "val_auc": round(metrics.auc_acc(y_val, p)["auc"], 4),
                       "val_acc_0.5": round(float(np.mean(p.argmax(1) == y_val)), 4),
                       "val_acc_thr": round(float(np.mean(train.decide(p, hist.threshold) == y_val)), 4),
                       "val_loss": round(hist.history["val_loss"][-1], 4) if "val_loss" in hist.history else None,
                       "val_auc_by_epoch": [round(v, 3) for v in hist.history.get("val_auc", [])][-8:],
                       "threshold": hist.threshold, "epochs": hist.info["epochs"],
                       "seconds": hist.info["train_seconds"], "cpu_seconds": hist.info["cpu_seconds"],
                       "parameters": hist.info["parameters"],
                       "load": round(os.getloadavg()[0], 2)}
                line = json.dumps(row)
                print(line, flush=True)
                if args.log:
                    with open(args.log, "a", encoding="utf-8") as f:
                        f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
