"""Simulated lesion datasets on real anatomy (the course's offline training data).

Every image is cut from the real MNI152 T1 brain template that nilearn ships,
seen through a simulated "patient" (own smooth deformation, brain size,
intensity curve, bias field and noise texture). Half of the patients are
*diagnosed*: every image of theirs carries one synthetic lesion, a smooth disc
(2D) or ball (3D), bright or dark, at a known position. Ground truth is exact,
so later notebooks can score Grad-CAM maps, measure detection versus lesion
size and contrast, and show what a split by image instead of by patient does.

**These datasets are simulated.** The anatomy is real; the patients, the
lesions and the labels are not. Use them to learn and to test methods, never
to make claims about real patients.

The arrays are stored in MedMNIST's format (``train_images``, ``train_labels``,
``val_...``, ``test_...``; images uint8, labels ``(N, 1)``), plus per-sample
metadata (``{split}_patients``, ``{split}_lesion_centers``,
``{split}_lesion_radii``, ``{split}_lesion_contrasts``).
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class SimulationConfig:
    """Parameters of a simulated lesion set. Change them to make it easier or harder.

    Sizes are in millimetres of the template (1 mm voxels) unless they say ``px``.
    """

    ndim: int = 2                   # 2: axial slices, 3: cubes (read as 28 slices)
    size: int = 28                  # output side in pixels
    n_patients: int = 200
    images_per_patient: int = 30
    field_of_view_mm: float = 56.0  # side of the crop, so 2 mm per pixel at 28 px
    lesion_radius_mm: tuple[float, float] = (2.5, 6.0)
    lesion_contrast: tuple[float, float] = (0.3, 0.65)  # |change| on a 0..1 intensity scale
    dark_lesion_share: float = 0.3
    max_rotation_deg: float = 15.0
    split_shares: tuple[float, float, float] = (0.7, 0.1, 0.2)
    seed: int = 0

    def cache_key(self) -> str:
        """A short, stable name for the cache file of this configuration."""
        import hashlib
        import json

        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:10]


@functools.lru_cache(maxsize=1)
def load_template() -> tuple[np.ndarray, np.ndarray]:
    """The MNI152 T1 template (1 mm, scaled to 0..1, lightly smoothed against aliasing) and its brain mask."""
    from nilearn import datasets
    from scipy import ndimage

    t1 = np.asarray(datasets.load_mni152_template(resolution=1).get_fdata(), dtype=np.float32)
    mask = np.asarray(datasets.load_mni152_brain_mask(resolution=1).get_fdata()) > 0.5
    t1 = ndimage.gaussian_filter(t1, sigma=0.7)
    # white matter at about 0.7, so bright lesions have headroom below 1
    t1 = 0.7 * (t1 - t1.min()) / (np.percentile(t1[mask], 99) - t1.min())
    return t1.astype(np.float32), mask


def _patients(cfg: SimulationConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-patient properties: diagnosis, anatomy variation, scanner variation."""
    p = cfg.n_patients
    labels = np.zeros(p, dtype=np.uint8)
    labels[rng.permutation(p)[: p // 2]] = 1
    return {
        "label": labels,
        "scale": rng.uniform(0.9, 1.1, p),                    # brain size
        "warp_amp": rng.uniform(1.0, 3.0, p),                 # mm, smooth deformation
        "warp_freq": rng.uniform(0.01, 0.03, (p, 3, 3)),      # cycles per mm
        "warp_phase": rng.uniform(0, 2 * np.pi, (p, 3)),
        "gamma": np.exp(rng.uniform(np.log(0.7), np.log(1.4), p)),
        "bias": rng.uniform(-0.15, 0.15, (p, cfg.ndim)),      # linear bias field across the crop
        "noise_std": rng.uniform(0.02, 0.07, p),
        "noise_smooth": rng.uniform(0.0, 1.0, p),             # px
        "lesion_radius": rng.uniform(*cfg.lesion_radius_mm, p),
        "lesion_dark": rng.random(p) < cfg.dark_lesion_share,
    }


def _rotation(ndim: int, angle: float) -> np.ndarray:
    """Rotation by ``angle`` radians in the axial (x, y) plane, as a 3x3 matrix."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _grid(cfg: SimulationConfig) -> np.ndarray:
    """Pixel offsets from the crop centre in mm, shape (3, n_pixels), axes (x, y, z)."""
    spacing = cfg.field_of_view_mm / cfg.size
    r = (np.arange(cfg.size) - (cfg.size - 1) / 2) * spacing
    if cfg.ndim == 2:
        rows, cols = np.meshgrid(r, r, indexing="ij")
        # image row runs anterior -> posterior (y decreasing), column left -> right (x)
        return np.stack([cols.ravel(), -rows.ravel(), np.zeros(rows.size)])
    sl, rows, cols = np.meshgrid(r, r, r, indexing="ij")
    # volume axis 0 runs inferior -> superior (z), so slices are axial images
    return np.stack([cols.ravel(), -rows.ravel(), sl.ravel()])


def _disc(cfg: SimulationConfig, center: np.ndarray, radius: float) -> np.ndarray:
    """A lesion profile in 0..1 with a soft edge (half a pixel wide), centred at ``center`` (pixels)."""
    axes = np.indices((cfg.size,) * cfg.ndim, dtype=np.float32)
    dist = np.sqrt(sum((a - c) ** 2 for a, c in zip(axes, center)))
    return 1.0 / (1.0 + np.exp((dist - radius) / 0.5))


def generate(cfg: SimulationConfig = SimulationConfig()) -> dict[str, np.ndarray]:
    """Generate a simulated lesion set; returns MedMNIST-style arrays plus metadata (see module doc)."""
    from scipy import ndimage

    if cfg.ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, not {cfg.ndim!r}.")
    if cfg.size < 16:
        raise ValueError(f"size must be at least 16 pixels, not {cfg.size!r}.")
    t1, mask = load_template()
    rng = np.random.default_rng(cfg.seed)
    pat = _patients(cfg, rng)
    n = cfg.n_patients * cfg.images_per_patient
    patient_of = np.repeat(np.arange(cfg.n_patients), cfg.images_per_patient)
    grid = _grid(cfg)
    spacing = cfg.field_of_view_mm / cfg.size
    shape = (cfg.size,) * cfg.ndim

    # crop centres: random brain voxels, away from the top and bottom of the brain
    zs = np.nonzero(mask.any(axis=(0, 1)))[0]
    z_lo, z_hi = zs[0] + 0.3 * (zs[-1] - zs[0]), zs[0] + 0.85 * (zs[-1] - zs[0])
    brain = np.argwhere(mask)
    brain = brain[(brain[:, 2] >= z_lo) & (brain[:, 2] <= z_hi)]
    centres = brain[rng.integers(0, len(brain), n)].astype(np.float64)
    angles = np.deg2rad(rng.uniform(-cfg.max_rotation_deg, cfg.max_rotation_deg, n))
    flips = rng.random(n) < 0.5

    coords = np.empty((3, n, grid.shape[1]))
    for i in range(n):
        p = patient_of[i]
        g = grid.copy()
        if flips[i]:
            g[0] = -g[0]
        xyz = centres[i][:, None] + pat["scale"][p] * (_rotation(cfg.ndim, angles[i]) @ g)
        phase = 2 * np.pi * (pat["warp_freq"][p] @ xyz) + pat["warp_phase"][p][:, None]
        coords[:, i] = xyz + pat["warp_amp"][p] * np.sin(phase)
    flat = coords.reshape(3, -1)
    images = ndimage.map_coordinates(t1, flat, order=1, mode="constant").reshape((n, *shape))
    brain_px = ndimage.map_coordinates(mask.astype(np.float32), flat, order=1).reshape((n, *shape)) > 0.5

    labels = pat["label"][patient_of]
    centers = np.full((n, cfg.ndim), np.nan, dtype=np.float32)
    radii = np.zeros(n, dtype=np.float32)
    contrasts = np.zeros(n, dtype=np.float32)
    idx = np.indices(shape).reshape(cfg.ndim, -1).T
    for i in np.nonzero(labels)[0]:
        p = patient_of[i]
        radius = float(np.clip(pat["lesion_radius"][p] * rng.uniform(0.8, 1.25), *cfg.lesion_radius_mm)) / spacing
        margin = int(np.ceil(radius)) + 1
        inside = brain_px[i].reshape(-1) & np.all((idx >= margin) & (idx < cfg.size - margin), axis=1)
        candidates = idx[inside] if inside.any() else idx[np.all((idx >= margin) & (idx < cfg.size - margin), axis=1)]
        center = candidates[rng.integers(len(candidates))] + rng.uniform(-0.5, 0.5, cfg.ndim)
        contrast = rng.uniform(*cfg.lesion_contrast) * (-1 if pat["lesion_dark"][p] else 1)
        images[i] = images[i] + contrast * _disc(cfg, center, radius)
        centers[i], radii[i], contrasts[i] = center, radius, contrast

    # the scanner: intensity curve, bias field, noise with the patient's texture
    np.clip(images, 0, 1, out=images)
    ramp = np.stack(np.meshgrid(*([np.linspace(-1, 1, cfg.size)] * cfg.ndim), indexing="ij"))
    for i in range(n):
        p = patient_of[i]
        bias = 1 + np.tensordot(pat["bias"][p], ramp, axes=1)
        noise = rng.normal(0, 1, shape)
        if pat["noise_smooth"][p] > 0.05:
            noise = ndimage.gaussian_filter(noise, pat["noise_smooth"][p])
            noise /= noise.std()
        images[i] = images[i] ** pat["gamma"][p] * bias + pat["noise_std"][p] * noise
    images = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)

    # split by patient, so no patient is in two splits
    order = rng.permutation(cfg.n_patients)
    cut = np.cumsum(np.round(np.array(cfg.split_shares) * cfg.n_patients).astype(int))[:2]
    groups = dict(zip(SPLITS, np.split(order, cut)))
    out: dict[str, np.ndarray] = {}
    for split in SPLITS:
        sel = np.nonzero(np.isin(patient_of, groups[split]))[0]
        out[f"{split}_images"] = images[sel]
        out[f"{split}_labels"] = labels[sel].reshape(-1, 1).astype(np.uint8)
        out[f"{split}_patients"] = patient_of[sel].astype(np.int32)
        out[f"{split}_lesion_centers"] = centers[sel]
        out[f"{split}_lesion_radii"] = radii[sel]
        out[f"{split}_lesion_contrasts"] = contrasts[sel]
    return out
