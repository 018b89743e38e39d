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

Segmentation masks (notebook 06), made without touching the images or their random numbers:
:func:`lesion_masks` (exact, from the stored centres and radii) and :func:`tissue_masks` (the template's
brain mask and grey/white-matter maps, warped by each image's own transform; cached like the images).
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from .data import SPLITS


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
    # Two sets of one seed must not share patients: give each set its own random stream and its own ids.
    stream: int = 0                 # 0: the seed's own stream; k > 0: NumPy's independent child stream k of it
    first_patient_id: int = 0       # patient ids are first_patient_id, first_patient_id + 1, ...

    def cache_key(self) -> str:
        """A short, stable name for the cache file of this configuration.

        ``stream`` and ``first_patient_id`` (added later) enter the key only when they differ from 0, so the
        sets made before them keep their names while a set that sets them gets a new one.
        """
        import hashlib
        import json

        fields = asdict(self)
        for k in ("stream", "first_patient_id"):
            if fields[k] == 0:
                del fields[k]
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:10]

    def rng(self) -> np.random.Generator:
        """A fresh generator of this set's stream: ``SeedSequence(seed)``, or its child ``spawn_key=(stream,)``.

        Children of a seed sequence are independent streams by construction (NumPy's recommended way to
        give parallel jobs, here two sets, their own random numbers from one seed).
        """
        if self.stream < 0 or self.first_patient_id < 0:
            raise ValueError(f"stream and first_patient_id must be ≥ 0; got {self.stream} and {self.first_patient_id}.")
        key = (self.stream,) if self.stream else ()
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))


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


def _rotation(angle: float) -> np.ndarray:
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


def _sample_coordinates(cfg: SimulationConfig, rng: np.random.Generator,
                        mask: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Draw the patients and every image's view of the template; return ``(patients, patient_of, coords)``.

    ``coords`` (3, n_images * n_pixels) are the template voxel coordinates (x, y, z) of every pixel of
    every image: crop centre, rotation, flip, the patient's brain size and smooth deformation. It draws
    from ``rng`` in a fixed order, so a fresh generator with the same seed gives the same transform
    (:func:`warped_template_maps` relies on it to warp tissue maps exactly like the images).
    """
    pat = _patients(cfg, rng)
    n = cfg.n_patients * cfg.images_per_patient
    patient_of = np.repeat(np.arange(cfg.n_patients), cfg.images_per_patient)
    grid = _grid(cfg)

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
        xyz = centres[i][:, None] + pat["scale"][p] * (_rotation(angles[i]) @ g)
        phase = 2 * np.pi * (pat["warp_freq"][p] @ xyz) + pat["warp_phase"][p][:, None]
        coords[:, i] = xyz + pat["warp_amp"][p] * np.sin(phase)
    return pat, patient_of, coords.reshape(3, -1)


def generate(cfg: SimulationConfig = SimulationConfig()) -> dict[str, np.ndarray]:
    """Generate a simulated lesion set; returns MedMNIST-style arrays plus metadata (see module doc)."""
    from scipy import ndimage

    if cfg.ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, not {cfg.ndim!r}.")
    if cfg.size < 16:
        raise ValueError(f"size must be at least 16 pixels, not {cfg.size!r}.")
    t1, mask = load_template()
    rng = cfg.rng()
    pat, patient_of, flat = _sample_coordinates(cfg, rng, mask)
    n = cfg.n_patients * cfg.images_per_patient
    spacing = cfg.field_of_view_mm / cfg.size
    shape = (cfg.size,) * cfg.ndim
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
        out[f"{split}_patients"] = (patient_of[sel] + cfg.first_patient_id).astype(np.int32)
        out[f"{split}_lesion_centers"] = centers[sel]
        out[f"{split}_lesion_radii"] = radii[sel]
        out[f"{split}_lesion_contrasts"] = contrasts[sel]
    return out


# ---------------------------------------------------------------- segmentation masks (notebook 06)
TISSUE_NAMES = ("background or CSF", "grey matter", "white matter")
_TISSUE_FORMAT = "tissue-v1"  # bump when the tissue arrays change, so cached files are made again


def lesion_masks(centers: np.ndarray, radii: np.ndarray, size: int = 28) -> np.ndarray:
    """Exact lesion masks from the stored lesion metadata: ``True`` where the inserted disc exceeds 1/2.

    The lesion profile of :func:`generate` is ``1 / (1 + exp((d - r) / 0.5))`` at distance ``d`` from the
    centre, so it exceeds its half height exactly where ``d < r``: that set of pixels is the mask. It is
    computed the same way as the profile (same grid, same float32 arithmetic), from the stored centre and
    radius, at the image's resolution; no random number is drawn, so the images are untouched. (The stored
    values are the generator's rounded to float32: a pixel could only disagree with the inserted disc if it
    lay within about 1e-6 px of the edge.)

    centers: (N, 2) (row, col) or (N, 3) (slice, row, col) in pixels, NaN for images without a lesion;
    radii: (N,) in pixels (0 for images without a lesion). Returns bool (N, size, size[, size]).
    """
    c = np.asarray(centers, dtype=np.float32)
    r = np.asarray(radii, dtype=np.float32)
    if c.ndim != 2 or c.shape[1] not in (2, 3) or r.shape != (len(c),):
        raise ValueError(f"need centers (N, 2) or (N, 3) and radii (N,); got {c.shape} and {r.shape}.")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive number of pixels; got {size!r}.")
    if (r < 0).any() or not np.isfinite(r).all():
        raise ValueError("radii must be finite and ≥ 0.")
    ndim = c.shape[1]
    cfg = SimulationConfig(ndim=ndim, size=int(size))
    out = np.zeros((len(c),) + (int(size),) * ndim, dtype=bool)
    for i in np.flatnonzero(np.isfinite(c).all(axis=1) & (r > 0)):
        out[i] = _disc(cfg, c[i], float(r[i])) > 0.5
    return out


def split_indices(cfg: SimulationConfig, patients: np.ndarray) -> np.ndarray:
    """Positions in :func:`generate`'s full image list of a split's images, from the split's ``patients``."""
    pid = np.asarray(patients)
    patient_of = np.repeat(np.arange(cfg.n_patients), cfg.images_per_patient) + cfg.first_patient_id
    idx = np.flatnonzero(np.isin(patient_of, np.unique(pid)))
    if len(idx) != len(pid) or not np.array_equal(patient_of[idx], pid):
        raise ValueError("these patient ids are not a split of this configuration (other seed, size or set?).")
    return idx


def warped_template_maps(cfg: SimulationConfig, indices: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The MNI152 brain mask and grey/white-matter probability maps, seen exactly as the images see the T1.

    Every image of :func:`generate` samples the T1 template through its own transform (crop, rotation, flip,
    the patient's size and smooth deformation). This function redraws the same transforms (a fresh generator
    with the same seed, the same draws in the same order) and samples the tissue maps that nilearn ships with
    the template through them, at the image's resolution. Nothing else is drawn and the images are not
    touched. ``indices``: positions in the full image list (see :func:`split_indices`); all when ``None``.

    Returns float32 arrays ``brain`` (the brain mask sampled linearly, 0..1), ``gm`` and ``wm``
    (probabilities, 0..1), each (N, size, size[, size]).
    """
    from nilearn import datasets
    from scipy import ndimage

    if cfg.ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 or 3, not {cfg.ndim!r}.")
    _, mask = load_template()
    _, _, flat = _sample_coordinates(cfg, cfg.rng(), mask)
    n_px = cfg.size ** cfg.ndim
    n = cfg.n_patients * cfg.images_per_patient
    idx = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.ndim != 1 or (len(idx) and (idx.min() < 0 or idx.max() >= n)):
        raise ValueError(f"indices must be positions 0..{n - 1} of the full image list.")
    pts = flat.reshape(3, n, n_px)[:, idx].reshape(3, -1)
    shape = (len(idx),) + (cfg.size,) * cfg.ndim
    volumes = {
        "brain": mask.astype(np.float32),
        "gm": np.asarray(datasets.load_mni152_gm_template(resolution=1).get_fdata(), dtype=np.float32),
        "wm": np.asarray(datasets.load_mni152_wm_template(resolution=1).get_fdata(), dtype=np.float32),
    }
    return {k: np.clip(ndimage.map_coordinates(v, pts, order=1, mode="constant"),
                       0, 1).reshape(shape).astype(np.float32)
            for k, v in volumes.items()}


def tissue_labels(gm: np.ndarray, wm: np.ndarray) -> np.ndarray:
    """Hard tissue labels from probabilities: 0 background or CSF, 1 grey matter, 2 white matter (the largest wins)."""
    gm, wm = np.asarray(gm, dtype=np.float32), np.asarray(wm, dtype=np.float32)
    if gm.shape != wm.shape:
        raise ValueError(f"gm and wm must have the same shape; got {gm.shape} and {wm.shape}.")
    rest = np.clip(1 - gm - wm, 0, 1)
    return np.argmax(np.stack([rest, gm, wm]), axis=0).astype(np.uint8)


def tissue_masks(name: str = "simlesion2d", split: str = "train", size: int = 28,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """Brain mask and grey/white-matter maps for every image of a split of a simulated set, cached.

    The maps follow each image's deformation exactly (see :func:`warped_template_maps`); they are cached next
    to the images in the data folder (``simulated/<name>_<size>_seed<seed>_<key>_tissue-v1.npz``; the version
    suffix changes whenever these arrays do).
    Returns ``brain`` (bool: the warped brain mask > 1/2), ``gm`` and ``wm`` (float32 probabilities) and
    ``tissue`` (uint8 labels of :data:`TISSUE_NAMES`, from :func:`tissue_labels`), each (N, size, size[, size]),
    in the order of ``data.load(name, split, size=size, seed=seed)``.
    """
    from . import data

    e = data._entry(name)
    if e["kind"] != "simulated":
        raise ValueError(f"{name} is not a simulated set; tissue masks exist for the simulated sets only.")
    ds = data.load(name, split, size=size, seed=seed)
    cfg = SimulationConfig(size=size, seed=seed, **e["config"])
    fname = f"{name}_{size}_seed{seed}_{cfg.cache_key()}_{_TISSUE_FORMAT}.npz"
    # the same places as the images: an instructor's (possibly read-only) data folder first, then this user's
    try:
        readable = data._folders_to_read() if hasattr(data, "_folders_to_read") else [data.cache_dir()]
    except OSError:
        readable = []
    found = [f / "simulated" / fname for f in readable if (f / "simulated" / fname).is_file()]
    if found:
        target = found[0]
    else:
        if hasattr(data, "_folder_to_write"):
            folder = data._folder_to_write("simulated")
        else:
            folder = data.cache_dir() / "simulated"
            folder.mkdir(exist_ok=True)
        target = folder / fname
    if not target.exists():
        arrays = {}
        maps = warped_template_maps(cfg)  # all images at once: one pass over the transforms
        for s in SPLITS:
            idx = split_indices(cfg, data.load(name, s, size=size, seed=seed).extras["patients"])
            arrays[f"{s}_brain"] = maps["brain"][idx] > 0.5
            # probabilities stored as uint8 (1/255 steps): a quarter of the size, ample for masks
            arrays[f"{s}_gm"] = np.round(maps["gm"][idx] * 255).astype(np.uint8)
            arrays[f"{s}_wm"] = np.round(maps["wm"][idx] * 255).astype(np.uint8)
        data.save_npz(target, arrays, compressed=True)
    got = data.read_npz(target, [f"{split}_{k}" for k in ("brain", "gm", "wm")])
    gm = got[f"{split}_gm"].astype(np.float32) / 255
    wm = got[f"{split}_wm"].astype(np.float32) / 255
    brain = got[f"{split}_brain"].astype(bool)
    if len(brain) != len(ds.x):
        raise data.CorruptFileError(f"{target} holds {len(brain)} {split} masks for {len(ds.x)} images; "
                                    "delete it and load again.")
    return {"brain": brain, "gm": gm, "wm": wm, "tissue": tissue_labels(gm, wm)}
