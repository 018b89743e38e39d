"""The simulated lesion sets: shapes, determinism, split by patient, and that the labels tell the truth."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import data
from helpers.simulate import SPLITS, SimulationConfig, generate

SMALL = SimulationConfig(n_patients=20, images_per_patient=10, seed=3)


@pytest.fixture(scope="module")
def small():
    return generate(SMALL)


def test_medmnist_format(small):
    for split in SPLITS:
        x, y = small[f"{split}_images"], small[f"{split}_labels"]
        assert x.dtype == np.uint8 and x.shape[1:] == (28, 28)
        assert y.shape == (len(x), 1) and set(np.unique(y)) <= {0, 1}
    assert sum(len(small[f"{s}_images"]) for s in SPLITS) == 200


def test_deterministic_from_seed(small):
    again = generate(SMALL)
    for k in small:
        np.testing.assert_array_equal(small[k], again[k])
    other = generate(SimulationConfig(n_patients=20, images_per_patient=10, seed=4))
    assert not np.array_equal(other["train_images"][:5], small["train_images"][:5])


def test_split_by_patient_and_one_diagnosis_per_patient(small):
    seen = [set(small[f"{s}_patients"].tolist()) for s in SPLITS]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    for s in SPLITS:
        pid, y = small[f"{s}_patients"], small[f"{s}_labels"].ravel()
        for p in np.unique(pid):
            assert len(np.unique(y[pid == p])) == 1


def test_metadata_agrees_with_labels(small):
    for s in SPLITS:
        y = small[f"{s}_labels"].ravel()
        centers, radii = small[f"{s}_lesion_centers"], small[f"{s}_lesion_radii"]
        contrast = small[f"{s}_lesion_contrasts"]
        assert np.isnan(centers[y == 0]).all() and (radii[y == 0] == 0).all() and (contrast[y == 0] == 0).all()
        assert np.isfinite(centers[y == 1]).all() and (radii[y == 1] > 0).all()
        assert ((centers[y == 1] >= 0) & (centers[y == 1] <= 27)).all()
        assert (np.abs(contrast[y == 1]) >= 0.3).all()


def test_every_lesion_is_where_the_metadata_says():
    """Inside the stated disc the image differs from a thin ring around it, in the stated direction."""
    cfg = SimulationConfig(n_patients=20, images_per_patient=10, seed=5, lesion_contrast=(0.5, 0.6))
    d = generate(cfg)
    x, y = d["train_images"].astype(float), d["train_labels"].ravel()
    rows, cols = np.indices((28, 28))
    agree = []
    for i in np.nonzero(y)[0]:
        (r, c), rad, con = d["train_lesion_centers"][i], d["train_lesion_radii"][i], d["train_lesion_contrasts"][i]
        dist = np.hypot(rows - r, cols - c)
        inside, ring = x[i][dist <= rad * 0.7], x[i][(dist > rad + 1) & (dist <= rad + 2.5)]
        agree.append(np.sign(inside.mean() - ring.mean()) == np.sign(con))
    assert np.mean(agree) >= 0.9, f"only {np.mean(agree):.0%} of lesions found where the metadata says"


def test_3d_set_shapes():
    d = generate(SimulationConfig(ndim=3, n_patients=10, images_per_patient=2, seed=1))
    assert d["train_images"].shape[1:] == (28, 28, 28)
    assert d["train_lesion_centers"].shape[1] == 3


def test_bad_config():
    with pytest.raises(ValueError, match="ndim must be 2 or 3"):
        generate(SimulationConfig(ndim=4))
    with pytest.raises(ValueError, match="at least 16"):
        generate(SimulationConfig(size=8))


def test_load_caches_and_names_it_simulated(data_dir):
    ds = data.load("simlesion2d", "val")
    assert ds.info.simulated and "SIMULATED" in repr(ds)
    assert ds.x.shape == (600, 28, 28)
    assert set(ds.extras) == {"patients", "lesion_centers", "lesion_radii", "lesion_contrasts"}
    cached = list((data_dir / "simulated").glob("simlesion2d_28_seed0_*.npz"))
    assert len(cached) == 1
    again = data.load("simlesion2d", "val")
    np.testing.assert_array_equal(ds.x, again.x)


# ---------------------------------------------------------------- simlesion3d has its own patients
def _registry_config(name: str) -> SimulationConfig:
    return SimulationConfig(size=28, seed=0, **data._entry(name)["config"])


def test_3d_set_shares_no_patient_with_the_2d_set():
    """Notebook 02 trains on simlesion2d and tests on simlesion3d: no patient may be in both, by id or by draws."""
    from helpers import simulate as sim

    cfg2, cfg3 = _registry_config("simlesion2d"), _registry_config("simlesion3d")
    d2, d3 = generate(cfg2), generate(cfg3)
    ids2 = np.unique(np.concatenate([d2[f"{s}_patients"] for s in SPLITS]))
    ids3 = np.unique(np.concatenate([d3[f"{s}_patients"] for s in SPLITS]))
    assert len(ids2) == cfg2.n_patients and len(ids3) == cfg3.n_patients
    assert not set(ids3.tolist()) & set(ids2.tolist()), "a simlesion3d patient id is also a simlesion2d patient id"
    # the patients themselves differ: every per-patient draw comes from another random stream
    pat2, pat3 = sim._patients(cfg2, cfg2.rng()), sim._patients(cfg3, cfg3.rng())
    for k in ("scale", "warp_amp", "gamma", "noise_std", "lesion_radius"):
        assert not np.isin(pat3[k], pat2[k]).any(), f"a simlesion3d patient repeats a simlesion2d draw of {k}"
    assert not np.array_equal(pat3["label"], pat2["label"])
    # the patients drawn before the streams were separated: the 3D set then reused the 2D set's first draws
    old = sim._patients(SimulationConfig(ndim=3, n_patients=200, images_per_patient=5, seed=0),
                        np.random.default_rng(0))
    np.testing.assert_array_equal(old["scale"], pat2["scale"])  # (what this test guards against)
    # the cache file of the 3D set changed name (an old cache is not reused); the 2D set's did not
    assert cfg3.cache_key() != "f47fe01ab2" and cfg2.cache_key() == "356dd8f0bf"


def test_stream_and_first_patient_id():
    base = SimulationConfig(ndim=3, n_patients=10, images_per_patient=2, seed=1)
    moved = SimulationConfig(ndim=3, n_patients=10, images_per_patient=2, seed=1, stream=1, first_patient_id=500)
    a, b = generate(base), generate(moved)
    assert set(np.concatenate([b[f"{s}_patients"] for s in SPLITS]).tolist()) == set(range(500, 510))
    assert not np.array_equal(a["train_images"][:2], b["train_images"][:2])
    # split_indices understands the offset ids
    from helpers import simulate as sim

    idx = sim.split_indices(moved, b["test_patients"])
    assert np.array_equal(np.repeat(np.arange(10), 2)[idx] + 500, b["test_patients"])
    assert base.cache_key() != moved.cache_key()
    with pytest.raises(ValueError, match="≥ 0"):
        SimulationConfig(stream=-1).rng()
