"""Make docs/overview.png, the picture at the top of the README: real modalities and the simulated lesion set."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from helpers import data, imaging
from helpers.setup import style_figures


def main() -> None:
    style_figures()
    gallery = imaging.modality_gallery()[:6]
    sim = data.load("simlesion2d", "train")
    pid = sim.extras["patients"]
    patients = [p for p in np.unique(pid[sim.y == 1])][:12:2]
    pos = [int(np.nonzero((pid == p) & (sim.y == 1))[0][3]) for p in patients]
    fig, axes = plt.subplots(2, 6, figsize=(13, 4.6))
    for ax, (title, img, _) in zip(axes[0], gallery):
        ax.imshow(img, cmap=None if img.ndim == 3 else "gray")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    for ax, i in zip(axes[1], pos):
        ax.imshow(sim.x[i], cmap="gray", vmin=0, vmax=255)
        (r, c), rad = sim.extras["lesion_centers"][i], sim.extras["lesion_radii"][i]
        ax.add_patch(plt.Circle((c, r), rad + 1.5, fill=False, color="#E69F00", lw=1.5))
        ax.set_title(f"simulated lesion, patient {sim.extras['patients'][i]}", fontsize=9)
        ax.axis("off")
    fig.suptitle("Top: real images shipped with Python packages. "
                 "Bottom: SIMULATED lesions on real MRI anatomy (ring = truth)")
    fig.tight_layout()
    out = Path(__file__).resolve().parent.parent / "docs" / "overview.png"
    fig.savefig(out, dpi=80)
    print(out)


if __name__ == "__main__":
    main()
