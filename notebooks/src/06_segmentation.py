# %% [markdown]
# # 06 · Segmentation: a small U-Net outlines lesions and brain tissue, scored against exact masks
#
# The source article names segmentation (图像分割) twice: as a data-processing step, and as one of the three
# task types (classification, detection, segmentation: 分类、检测、分割) that decide which model to choose.
# It is the most common task in medical image analysis: outline a tumour to measure its volume, a
# structure to plan radiotherapy, grey and white matter to measure atrophy. Notebooks 03 and 05 localised
# lesions only indirectly (an autoencoder's error map, Grad-CAM). Here a network is trained to draw the
# outline itself, and is scored against **exact** masks, which the simulation knows and real data rarely has.
#
# **Learning objectives.** After this notebook you can
# 1. make a pixel mask from the simulated ground truth, and say why it is exact;
# 2. compute Dice and IoU (Jaccard) in NumPy, check them against scikit-learn and Keras, and convert one
#    into the other; explain why pixel accuracy is useless for small lesions, and what soft Dice does;
# 3. build and train a small U-Net in Keras, and read its probability map and threshold;
# 4. report a segmentation properly: Dice with a patient-level bootstrap confidence interval, per-lesion
#    sensitivity and false positives per image, a boundary distance (Hausdorff), and failures by lesion size
#    and contrast;
# 5. train the same network on a real-anatomy task (grey and white matter);
# 6. compare what pixel labels, image labels and no labels buy for localisation (U-Net, Grad-CAM, autoencoder).
#
# **Prerequisites.** Notebook 01 (convolutions, Keras training), notebook 03 (autoencoder error maps),
# notebook 04 (bootstrap confidence intervals, sensitivity) and notebook 05 (Grad-CAM, saliency and the
# pointing game). This notebook comes after 05 because step 6 compares with Grad-CAM, which 05 teaches.
#
# **Measured runtime:** 97 s, peak memory 1.4 GiB (offline, 2-core CPU with AVX-512, TF_ENABLE_ONEDNN_OPTS=0, TF_NUM_INTRAOP_THREADS=2, empty cache; `python tools/benchmark.py`, 2026-11-27)
#
# Terms in Chinese and English: [glossary](../docs/GLOSSARY.md).
#
# All lesion images here come from the course's **simulated** set `simlesion2d`: real MNI152 brain anatomy
# seen through simulated patients, with synthetic lesions (discs) inserted at known positions. The tissue
# masks are the real MNI152 grey- and white-matter maps, warped exactly as each simulated image was.

# %% [markdown]
# ## Set-up
# `start(seed=0)` fixes every seed and makes TensorFlow deterministic, so the numbers below are the same in
# every fresh run on this kind of CPU (on other CPUs they differ in the last digits).
# It prints the library versions, the seed and the data folder. Each hand-written training states its number of
# epochs as `n_epochs(10)`: that is 10, or 1 when the course's short-training setting is on (only the browser tests
# turn it on, `COURSE_SHORT_TRAINING=1`, to run every notebook quickly; see `helpers/setup.py`); the training
# helpers (`train.fit`, `train.cached_fit`) read the same setting themselves.

# %%
from helpers.setup import n_epochs, start

start(seed=0)

import keras
import matplotlib.pyplot as plt
import numpy as np

from helpers import autoencoders as ae
from helpers import data, explain, metrics, models, plots
from helpers import simulate as sim
from helpers import train as recipes  # `train` names the training split below

# %% [markdown]
# ## Step 1 · Exact masks
# Every simulated lesion is a disc added to the image with a soft edge half a pixel wide. At distance $d$
# from its centre, with radius $r$, the lesion's profile is
#
# $$f(d) = \frac{1}{1 + e^{(d - r)/0.5}}, \qquad f(d) > \tfrac12 \iff d < r .$$
#
# So the lesion's mask, the pixels where the disc exceeds half its height, is exactly the set of pixels
# closer to the centre than the radius. The simulation stores each lesion's centre and radius, so
# `sim.lesion_masks` rebuilds every mask at the image's resolution without drawing a single random number:
# the images are the same as in notebooks 01-05. The cell loads the three splits and their masks.

# %%
# CHECK_OUTPUT
train, val, test = (data.load("simlesion2d", s) for s in ("train", "val", "test"))


def masks_of(ds):
    """Exact lesion masks (N, 28, 28) of a simulated split, from its stored centres and radii."""
    return sim.lesion_masks(ds.extras["lesion_centers"], ds.extras["lesion_radii"], size=ds.x.shape[1])


m_train, m_val, m_test = masks_of(train), masks_of(val), masks_of(test)
for name, ds, m in (("train", train, m_train), ("val", val, m_val), ("test", test, m_test)):
    print(f"{name:5s}: images {ds.x.shape}, masks {m.shape} {m.dtype}, {ds.y.sum()} with a lesion, "
          f"{len(np.unique(ds.extras['patients']))} patients")
print("SIMULATED:", test.info.simulated)
print(f"lesion pixels: {m_test.mean():.2%} of all test pixels, {m_test[test.y == 1].mean():.2%} of the pixels "
      f"of images with a lesion; lesion area {m_test[test.y == 1].sum(axis=(1, 2)).min()} to "
      f"{m_test[test.y == 1].sum(axis=(1, 2)).max()} pixels")

# %% [markdown]
# The check: the profile formula, computed here from scratch for every test lesion, exceeds 1/2 exactly on
# the mask, and images without a lesion have empty masks.

# %%
# CHECK_OUTPUT
rows, cols = np.indices((28, 28), dtype=np.float32)
mismatch = 0
for i in np.flatnonzero(test.y):
    (r0, c0), rad = test.extras["lesion_centers"][i], test.extras["lesion_radii"][i]
    d = np.sqrt((rows - r0) ** 2 + (cols - c0) ** 2)
    f = 1.0 / (1.0 + np.exp((d - rad) / 0.5))
    mismatch += int(np.sum((f > 0.5) != m_test[i]))
assert mismatch == 0 and not m_test[test.y == 0].any()
print(f"OK: f(d) > 1/2 exactly on the mask for all {test.y.sum()} test lesions; 0 pixels differ; "
      "lesion-free images have empty masks")

# %% [markdown]
# The figure shows eight simulated test images with a lesion (top row), the sky-blue outline of each exact
# mask drawn on the image, and the masks themselves (bottom row, white = lesion). Notice how small and faint
# some lesions are.

# %%
# extra code – outline over the image (top) and the mask (bottom) of eight lesions
show = np.flatnonzero(test.y)[:8]
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for k, i in enumerate(show):
    plots.mask_overlay(axes[0, k], test.x[i], m_test[i], title=f"r = {test.extras['lesion_radii'][i]:.1f} px")
    axes[1, k].imshow(m_test[i], cmap="gray", vmin=0, vmax=1)
    axes[1, k].set_xticks([]), axes[1, k].set_yticks([])
axes[0, 0].set_ylabel("image + outline", fontsize=8)
axes[1, 0].set_ylabel("mask", fontsize=8)
fig.suptitle("Simulated lesions and their exact masks (test split)")
fig.tight_layout()

# %% [markdown]
# ### A real-anatomy task: grey and white matter
# nilearn ships the MNI152 template with a brain mask and grey- (GM) and white-matter (WM) probability maps,
# made from real brains. Each simulated image looked at the template through its own transform (crop,
# rotation, flip, the patient's brain size and smooth deformation). `sim.tissue_masks` redraws exactly those
# transforms and samples the tissue maps through them, so the masks are deformed exactly like the images
# (cached in the data folder, like the images). A pixel's label is the most probable of
# 0 = background or CSF, 1 = grey matter, 2 = white matter.
#
# The check that the masks follow the deformation: on each lesion-free test image, the correlation between
# the image and the warped tissue map (WM is brightest on a T1 image, then GM) should be high, and should
# vanish when every image is paired with another image's map.

# %%
# CHECK_OUTPUT
tis_train, tis_test = sim.tissue_masks("simlesion2d", "train"), sim.tissue_masks("simlesion2d", "test")


def row_correlation(a, b):
    a = a.reshape(len(a), -1) - a.reshape(len(a), -1).mean(1, keepdims=True)
    b = b.reshape(len(b), -1) - b.reshape(len(b), -1).mean(1, keepdims=True)
    return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))


free = test.y == 0
t1_like = tis_test["gm"][free] + 2 * tis_test["wm"][free]
r_same = np.median(row_correlation(test.x[free].astype(float), t1_like))
r_other = np.median(row_correlation(test.x[free].astype(float), np.roll(t1_like, 1, axis=0)))
assert r_same > 0.8 and abs(r_other) < 0.2
shares = np.bincount(tis_test["tissue"].ravel()) / tis_test["tissue"].size
print({k: (v.shape, str(v.dtype)) for k, v in tis_test.items()})
print("label shares in test:", ", ".join(f"{n} {s:.3f}" for n, s in zip(sim.TISSUE_NAMES, shares)))
print(f"OK: median correlation image vs its own warped tissue map {r_same:.3f}; vs another image's map {r_other:.3f}")

# %% [markdown]
# Six lesion-free simulated test images (top), their grey-matter (middle) and white-matter (bottom)
# probability maps from the warped template; brighter = more probable.

# %%
idx6 = np.flatnonzero(free)[:6]
fig, _ = plots.image_grid(np.concatenate([test.x[idx6] / 255, tis_test["gm"][idx6], tis_test["wm"][idx6]]),
                          titles=["simulated image"] * 6 + ["grey matter"] * 6 + ["white matter"] * 6,
                          ncols=6, vmin=0, vmax=1, size=1.5,
                          suptitle="Tissue maps warped with each simulated image (test split)")

# %% [markdown]
# ## Step 2 · Scoring a mask: Dice and IoU, formulas next to code
# For a true mask $A$ and a predicted mask $B$ (sets of pixels), with true positives $TP=|A\cap B|$, false
# positives $FP = |B\setminus A|$ and false negatives $FN = |A\setminus B|$:
#
# $$\text{Dice} = \frac{2|A\cap B|}{|A|+|B|} = \frac{2TP}{2TP+FP+FN}, \qquad
#   \text{IoU} = \frac{|A\cap B|}{|A\cup B|} = \frac{TP}{TP+FP+FN}, \qquad
#   \text{Dice} = \frac{2\,\text{IoU}}{1+\text{IoU}} .$$
#
# Dice (Dice, 1945) is the F1 score of the pixels; IoU is the Jaccard index. Neither counts true negatives,
# which is the point: the background is huge. Both are 0/0 when both masks are empty; we define them as 1
# there (both say "nothing", which is right), and report such images separately.
#
# The check: our NumPy lines against `helpers.metrics`, against scikit-learn (`f1_score`, `jaccard_score`)
# and Keras (`keras.metrics.IoU`), and the two formulas against each other. The "prediction" is each test
# mask shifted one pixel to the right, an imperfect but plausible outline.

# %%
# CHECK_OUTPUT
from sklearn.metrics import f1_score, jaccard_score

truth = m_test[test.y == 1]
guess = np.roll(truth, 1, axis=2)                      # every mask shifted one pixel right


def dice_np(a, b):
    a, b = a.astype(bool), b.astype(bool)
    return 2 * np.sum(a & b) / (a.sum() + b.sum())


def iou_np(a, b):
    a, b = a.astype(bool), b.astype(bool)
    return np.sum(a & b) / np.sum(a | b)


d, j = dice_np(truth, guess), iou_np(truth, guess)
keras_iou = keras.metrics.IoU(num_classes=2, target_class_ids=[1])
keras_iou.update_state(truth.ravel().astype("int32"), guess.ravel().astype("int32"))
np.testing.assert_allclose([d, j], [metrics.dice(truth, guess), metrics.iou(truth, guess)], rtol=1e-6)
np.testing.assert_allclose([d, j], [f1_score(truth.ravel(), guess.ravel()), jaccard_score(truth.ravel(), guess.ravel())], rtol=1e-6)
np.testing.assert_allclose(j, float(keras_iou.result()), rtol=1e-6)
np.testing.assert_allclose(d, 2 * j / (1 + j), rtol=1e-6)
d_img, j_img = metrics.dice(truth, guess, per_image=True), metrics.iou(truth, guess, per_image=True)
np.testing.assert_allclose(d_img, 2 * j_img / (1 + j_img), rtol=1e-6)
print(f"pooled over {len(truth)} test lesions: Dice {d:.3f}, IoU {j:.3f}; mean per image: Dice {d_img.mean():.3f}, IoU {j_img.mean():.3f}")
print("OK: NumPy = helpers.metrics = scikit-learn (f1_score, jaccard_score) = keras.metrics.IoU; Dice = 2 IoU / (1 + IoU)")
empty = np.zeros((28, 28), bool)
print("perfect:", metrics.dice(truth[0], truth[0]), "| disjoint:", metrics.dice(truth[0], np.roll(truth[0], 14, axis=0)),
      "| both empty:", metrics.dice(empty, empty), "| empty prediction:", metrics.dice(truth[0], empty))

# %% [markdown]
# A one-pixel shift costs a lot: small objects are unforgiving, which is why the per-image Dice of lesions
# this small rarely approaches 1 even for a good model.
#
# ### Why plain pixel accuracy is useless here
# A lesion covers about 2 % of the pixels of an image that has one. A "model" that predicts *no lesion
# anywhere* is right on every background pixel. The cell scores that empty prediction on the test images with
# a lesion.

# %%
# CHECK_OUTPUT
nothing = np.zeros_like(truth)
accuracy_nothing = (truth == nothing).mean(axis=(1, 2))
share = truth.mean(axis=(1, 2))
print(f"predict 'no lesion anywhere': pixel accuracy {accuracy_nothing.mean():.3f} "
      f"(lowest {accuracy_nothing.min():.3f}), Dice {metrics.dice(truth, nothing):.3f}, "
      f"lesions found 0 of {len(truth)}")

# %% [markdown]
# The plot shows, for every simulated test lesion, the pixel accuracy of the empty prediction (y) against the
# share of the image the lesion covers (x): all above 0.96, while its Dice (orange line) is 0 for every image.

# %%
# extra code – pixel accuracy and Dice of the empty prediction, per lesion
fig, ax = plt.subplots(figsize=(5.6, 3.4))
ax.scatter(100 * share, accuracy_nothing, s=8, alpha=0.6, label="pixel accuracy of 'no lesion anywhere'")
ax.axhline(0, color="#E69F00", lw=2, label="Dice of 'no lesion anywhere' (0)")
ax.set_xlabel("lesion area (% of the image's pixels)")
ax.set_ylabel("score")
ax.set_ylim(-0.05, 1.05)
ax.set_title("An empty prediction: high accuracy, zero Dice (simulated test lesions)")
ax.legend(fontsize=8, loc="center right")
fig.tight_layout()

# %% [markdown]
# ### Soft Dice loss versus cross-entropy
# Training needs a loss that a gradient can follow. Pixel-wise binary cross-entropy (BCE) averages over all
# pixels, so on a 2 % lesion the background dominates it. The **soft Dice loss** (Milletari et al., V-Net,
# 2016) replaces the masks by the probabilities $p$ and the truth $g$:
#
# $$L_{\text{Dice}} = 1 - \frac{2\sum_i p_i g_i + s}{\sum_i p_i + \sum_i g_i + s},$$
#
# summed over each image's pixels; $s = 1$ keeps it defined on empty images. The cell checks the NumPy formula
# (`metrics.soft_dice`) against the Keras loss used for training (`models.soft_dice_loss`), then scores four
# made-up probability maps for the test lesions with both losses.

# %%
# CHECK_OUTPUT
g = truth.astype("float32")
candidates = {
    "nothing (p = 0.01 everywhere)": np.full_like(g, 0.01),
    "unsure everywhere (p = 0.5)": np.full_like(g, 0.5),
    "lesion found, fuzzy (0.6 in, 0.15 out)": np.where(truth, 0.6, 0.15).astype("float32"),
    "lesion found, sharp (0.9 in, 0.01 out)": np.where(truth, 0.9, 0.01).astype("float32"),
}


def bce(g, p):
    return -np.mean(g * np.log(p) + (1 - g) * np.log(1 - p), axis=(1, 2))


lines = []
for name, p in candidates.items():
    keras_value = models.soft_dice_loss(g[..., None], p[..., None]).numpy()
    np.testing.assert_allclose(metrics.soft_dice(g, p), keras_value, rtol=1e-5, atol=1e-6)
    lines.append(f"{name:40s} BCE {bce(g, p).mean():.3f}   soft Dice loss {metrics.soft_dice(g, p).mean():.3f}")
print("\n".join(lines))
print("OK: metrics.soft_dice (NumPy) = models.soft_dice_loss (Keras)")

# %% [markdown]
# Read the two columns. Cross-entropy rates "nothing" *better* than a fuzzy map that does find the lesion:
# almost every pixel is background, and "nothing" gets the background right. The soft Dice loss ranks the
# four as a radiologist would. In practice the two are added (the U-Net below trains on BCE + soft Dice, as
# nnU-Net does): cross-entropy gives smooth gradients on every pixel, Dice keeps the lesion from drowning.
# One detail: for training, the Dice sums run over the whole batch, not image by image. Half the images have
# no lesion, and on such an image the per-image loss $1 - s/(\sum_i p_i + s)$ punishes any probability at all
# as hard as a missed lesion, which makes the network timid.
#
# ## Step 3 · A small U-Net for the lesions
# A U-Net (Ronneberger et al., 2015) is an encoder, like a classification CNN, followed by a decoder that
# upsamples back to the input's size. **Skip connections** hand the encoder's fine, full-resolution feature
# maps to the decoder at the same scale, so the output can be both well informed (deep features: "this is a
# lesion") and sharp (shallow features: "its edge is here"). The last layer is a 1×1 convolution with a
# sigmoid: one probability per pixel. `models.unet` builds one with three stages (28 → 14 → 7 pixels and back),
# 8, 16 and 32 filters: small enough for a CPU.

# %%
# CHECK_OUTPUT
WIDTHS = (8, 16, 32)
unet = models.unet((28, 28, 1), n_classes=1, widths=WIDTHS)
print(f"{unet.name}: {unet.count_params():,} parameters; input {unet.input_shape} -> output {unet.output_shape}")
print("skip connections:", [layer.name for layer in unet.layers if layer.name.endswith("_skip")])

# %% [markdown]
# Training. All 2,100 training images with a lesion, and 400 of the 2,100 without (a fifth, to save time:
# they teach the network to draw nothing, and the rest would mostly repeat that lesson); the validation split
# gives the learning curves. Adam with a learning rate of 0.002, batches of 64, 8 epochs, loss BCE + soft Dice
# (`models.bce_dice_loss`).

# %%
# CHECK_OUTPUT
rng = np.random.default_rng(0)
keep = np.sort(np.concatenate([np.flatnonzero(train.y == 1), rng.choice(np.flatnonzero(train.y == 0), 400, replace=False)]))
x_fit, m_fit = train.x[keep, ..., None].astype("float32"), m_train[keep, ..., None].astype("float32")
x_val, x_test = val.x[..., None].astype("float32"), test.x[..., None].astype("float32")
EPOCHS = n_epochs(8)
keras.utils.set_random_seed(0)
unet = models.unet((28, 28, 1), n_classes=1, widths=WIDTHS)
unet.compile(optimizer=keras.optimizers.Adam(2e-3), loss=models.bce_dice_loss)
history = unet.fit(x_fit, m_fit, validation_data=(x_val, m_val[..., None].astype("float32")),
                   epochs=EPOCHS, batch_size=64, verbose=0)
print(f"training images: {len(keep)} ({int(train.y[keep].sum())} with a lesion), {EPOCHS} epochs")

# %% [markdown]
# The learning curves: loss (BCE + soft Dice) on the training images and on the validation split,
# per epoch. (The losses are printed in a cell whose output the course's tests do not compare: while the loss
# still falls this fast, its last value moves from one CPU to another by more than the tests' tolerance.)

# %%
print(f"loss after epoch 1: training {history.history['loss'][0]:.3f}, validation {history.history['val_loss'][0]:.3f}")
print(f"loss after epoch {EPOCHS}: training {history.history['loss'][-1]:.3f}, validation {history.history['val_loss'][-1]:.3f}")
fig, axes = plots.training_curves(history, title="U-Net on simulated lesions: BCE + soft Dice loss")

# %% [markdown]
# The validation loss is still falling after 8 epochs: a longer run would do better. Eight epochs keep the
# notebook within its budget of two minutes on a laptop CPU.
#
# ### The probability map and the threshold
# The network outputs a probability per pixel; a mask needs a threshold. The figure shows six simulated test
# lesions: top, the image with the true outline (sky blue) and the predicted outline at threshold 0.5 (orange,
# dashed); bottom, the probability map (bright = likely lesion) with the true outline.

# %%
p_val = unet.predict(x_val, verbose=0)[..., 0]
p_test = unet.predict(x_test, verbose=0)[..., 0]
show = np.flatnonzero(test.y)[:6]
fig, _ = plots.segmentation_grid(test.x[show], m_test[show], p_test[show] > 0.5, prob_maps=p_test[show],
                                 titles=[f"Dice {metrics.dice(m_test[i], p_test[i] > 0.5):.2f}" for i in show],
                                 suptitle="U-Net on simulated test lesions (threshold 0.5)", size=1.7)

# %% [markdown]
# Which threshold? 0.5 is only a habit: a network trained with a Dice term on rare pixels does not give
# calibrated probabilities. The threshold is a choice made on the **validation** split, never on the test
# split. The figure shows, against the threshold (x), the mean Dice over validation images with a lesion, and
# the share of lesion-free validation images on which the U-Net draws no pixel at all (y).

# %%
thresholds = np.round(np.arange(0.02, 0.91, 0.02), 2)
v_les, v_free = val.y == 1, val.y == 0
dice_curve = [metrics.dice(m_val[v_les], p_val[v_les] > t, per_image=True).mean() for t in thresholds]
clean_curve = [np.mean(~(p_val[v_free] > t).any(axis=(1, 2))) for t in thresholds]
best_t = float(thresholds[int(np.argmax(dice_curve))])
# extra code – both curves against the threshold
fig, ax = plt.subplots(figsize=(5.6, 3.4))
ax.plot(thresholds, dice_curve, marker="o", ms=3, label="mean Dice, images with a lesion")
ax.plot(thresholds, clean_curve, marker="s", ms=3, label="share of lesion-free images left empty")
ax.axvline(best_t, ls="--", color="grey", label=f"best Dice on validation: {best_t:g}")
ax.set_xlabel("threshold on the probability")
ax.set_ylabel("score on the validation split")
ax.set_ylim(0, 1)
ax.set_title("Choosing the threshold on validation (simulated)")
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
print(f"best threshold on validation {best_t:g}; test Dice (images with a lesion) at it "
      f"{metrics.dice(m_test[test.y == 1], p_test[test.y == 1] > best_t, per_image=True).mean():.3f}, "
      f"at 0.5 {metrics.dice(m_test[test.y == 1], p_test[test.y == 1] > 0.5, per_image=True).mean():.3f}")

# %% [markdown]
# The printed line shows why the choice matters little *here*: the curve is flat near its top. It does matter
# for reproducibility: the probabilities move from one CPU to another, so the Dice at a fixed 0.5 moves more
# than the Dice at a threshold chosen on validation on each machine.
#
# ### Scoring on the test split
# Everything at the threshold $T$ chosen on validation above. Dice is averaged over the test images with a
# lesion; the 95 % interval comes from a bootstrap over **patients** (notebook 04 resampled
# images; here one patient's 30 images are alike, so resampling images would pretend to know more than we
# do). Per-lesion detection: a lesion is found when at least one of its pixels is predicted; every predicted
# blob that touches no lesion is a false positive. The Hausdorff distance is the farthest any pixel of one mask
# lies from the other mask: a boundary error in pixels (here 2 mm each). HD95, its 95th percentile, ignores a
# few stray pixels.
#
# First the formula check: `metrics.hausdorff` against scikit-image's `hausdorff_distance` on the shifted
# masks of step 2.

# %%
# CHECK_OUTPUT
from skimage.metrics import hausdorff_distance

hd_ours = [metrics.hausdorff(a, b) for a, b in zip(truth[:50], guess[:50])]
hd_skimage = [hausdorff_distance(a, b) for a, b in zip(truth[:50], guess[:50])]
np.testing.assert_allclose(hd_ours, hd_skimage, rtol=1e-6)
print(f"OK: metrics.hausdorff = skimage.metrics.hausdorff_distance on 50 pairs (a one-pixel shift: {hd_ours[0]:.1f} px)")
print("both empty:", metrics.hausdorff(empty, empty), "| one empty:", metrics.hausdorff(truth[0], empty))

# %%
# CHECK_OUTPUT trained
T = best_t                                               # chosen on the validation split
les, fre = test.y == 1, test.y == 0
pred = p_test > T
pid = test.extras["patients"]
dice_img = metrics.dice(m_test, pred, per_image=True)
ci_dice = metrics.patient_bootstrap(dice_img[les], pid[les])
det = metrics.lesion_detection(m_test, pred)
ci_sens = metrics.patient_bootstrap(det["detected"], pid, weights=det["lesions"])
ci_fp = metrics.patient_bootstrap(det["false_positives"], pid)
both = les & pred.any(axis=(1, 2))
hd = np.array([metrics.hausdorff(m_test[i], pred[i]) for i in np.flatnonzero(both)])
hd95 = np.array([metrics.hausdorff(m_test[i], pred[i], percentile=95) for i in np.flatnonzero(both)])
print(f"at the threshold chosen on validation; {les.sum()} test images with a lesion, {fre.sum()} without "
      f"({len(np.unique(pid))} patients)")
print(f"Dice, mean over images with a lesion: {ci_dice}")
print(f"Dice, all test pixels pooled:          {metrics.dice(m_test, pred):.3f}")
print(f"per-lesion sensitivity:                {ci_sens}")
print(f"false positives per image:             {ci_fp}")
print(f"false positives per lesion-free image: {det['false_positives'][fre].mean():.3f}")
print(f"Hausdorff distance (px) over the {both.sum()} lesion images with a prediction: mean {hd.mean():.2f}, "
      f"HD95 mean {hd95.mean():.2f}")

# %% [markdown]
# ### Failures by lesion size and contrast
# The simulation knows each lesion's radius and contrast, so we can ask which lesions the U-Net misses. The
# figure shows, per bin of radius (left) and of absolute contrast (right), the share of test lesions detected
# (blue) and their mean Dice (orange); the numbers of lesions per bin are printed below.

# %%
radius, contrast = test.extras["lesion_radii"][les], np.abs(test.extras["lesion_contrasts"][les])
found, dice_les = det["detected"][les] > 0, dice_img[les]
bins = {"lesion radius (px)": (radius, np.array([1.25, 1.75, 2.25, 2.75, 3.0])),
        "|lesion contrast|": (contrast, np.array([0.3, 0.4, 0.5, 0.65]))}
# extra code – detection rate and mean Dice per bin, plotted and printed
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for ax, (name, (value, edges)) in zip(axes, bins.items()):
    rate, counts = metrics.rate_by_bins(value, found, edges)
    k = np.clip(np.searchsorted(edges, value, side="right") - 1, 0, len(edges) - 2)
    mean_dice = np.bincount(k, weights=dice_les, minlength=len(edges) - 1) / np.maximum(counts, 1)
    centres = (edges[:-1] + edges[1:]) / 2
    ax.plot(centres, rate, marker="o", label="share detected")
    ax.plot(centres, mean_dice, marker="s", label="mean Dice")
    ax.set_xlabel(name)
    ax.set_ylabel("score")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"U-Net by {name.split(' (')[0]} (simulated)")
    ax.legend(fontsize=8)
    print(f"{name}: bins {edges.tolist()}, lesions per bin {counts.tolist()}, "
          f"detected {np.round(rate, 2).tolist()}, mean Dice {np.round(mean_dice, 2).tolist()}")
fig.tight_layout()
dark = test.extras["lesion_contrasts"][les] < 0
print(f"bright lesions: {(~dark).sum()}, detected {found[~dark].mean():.2f}, mean Dice {dice_les[~dark].mean():.2f}; "
      f"dark lesions: {dark.sum()}, detected {found[dark].mean():.2f}, mean Dice {dice_les[dark].mean():.2f}")

# %% [markdown]
# The smallest and faintest lesions are the ones missed, and even found small lesions get a low Dice (a
# one-pixel error is a large share of a 5-pixel lesion). The last printed line splits by the contrast's sign:
# dark lesions (a third of the patients) are found less often than bright ones. A dark disc looks like the
# dark fluid (CSF) of a sulcus or a ventricle, or like the background at the brain's edge; a bright one looks
# like nothing else. This is why a segmentation result must be reported
# *by lesion size*: a mean Dice hides that the small lesions, often the early ones, are the hard ones.
#
# The worst cases: six simulated test lesions with the lowest Dice (true outline sky blue, prediction orange;
# titles give radius r in pixels and contrast c). Look at the sign of c.

# %%
worst = np.flatnonzero(les)[np.argsort(dice_les)[:6]]
fig, _ = plots.segmentation_grid(test.x[worst], m_test[worst], pred[worst], prob_maps=p_test[worst],
                                 titles=[f"r {test.extras['lesion_radii'][i]:.1f}, c {test.extras['lesion_contrasts'][i]:+.2f}"
                                         for i in worst], suptitle="Worst simulated test lesions: missed or misplaced", size=1.7)

# %% [markdown]
# ## Step 4 · The same network on real anatomy: grey and white matter
# The same builder with three output classes and a softmax: background/CSF, grey matter, white matter. Trained
# with sparse categorical cross-entropy on 1,400 lesion-free simulated training images for 4 epochs; scored
# with Dice per tissue on the lesion-free test images. The masks come from the real template's tissue maps,
# so this task has real anatomical boundaries (seen through simulated patients and a simulated scanner).

# %%
# CHECK_OUTPUT trained
free_train = np.flatnonzero(train.y == 0)[:1400]
keras.utils.set_random_seed(0)
tissue_net = models.unet((28, 28, 1), n_classes=3, widths=WIDTHS, name="unet_tissue")
tissue_net.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy")
tissue_net.fit(train.x[free_train, ..., None].astype("float32"), tis_train["tissue"][free_train],
               epochs=n_epochs(4), batch_size=64, verbose=0)
tissue_pred = tissue_net.predict(x_test[free], verbose=0).argmax(axis=-1)
tissue_true = tis_test["tissue"][free]
lines = [f"output {tissue_net.output_shape}; {len(free_train)} training images; {free.sum()} test images"]
for c in (1, 2):
    d = metrics.dice(tissue_true == c, tissue_pred == c, per_image=True)
    lines.append(f"{sim.TISSUE_NAMES[c]:12s}: Dice pooled {metrics.dice(tissue_true == c, tissue_pred == c):.3f}, "
                 f"mean per image {d.mean():.3f}")
lines.append(f"pixel accuracy (3 classes): {(tissue_pred == tissue_true).mean():.3f}")
print("\n".join(lines))

# %% [markdown]
# Six lesion-free simulated test images (top), the true tissue labels from the warped template (middle) and
# the U-Net's labels (bottom); black = background or CSF, grey = grey matter, white = white matter.

# %%
fig, _ = plots.image_grid(np.concatenate([test.x[free][:6] / 255, tissue_true[:6] / 2, tissue_pred[:6] / 2]),
                          titles=["simulated image"] * 6 + ["true tissue"] * 6 + ["U-Net"] * 6, ncols=6,
                          vmin=0, vmax=1, size=1.5, suptitle="Grey and white matter: warped template vs U-Net")

# %% [markdown]
# Tissue classes are large, so here Dice and accuracy tell a similar story; the hard pixels are on the
# borders, where the template's probabilities are near 1/2 and where a real rater would hesitate too.
#
# ## Step 5 · Localisation compared: what labels buy
# Three ways to find a lesion, trained with three kinds of labels, scored the same way on the same simulated
# test lesions:
# - **pixel labels**: the U-Net's probability map (this notebook);
# - **image labels** ("lesion: yes/no"): Grad-CAM on the second conv layer (aligned) and gradient saliency of
#   the article's CNN, trained with notebook 01's recipe (10 epochs; notebook 02 trained this very model, so
#   `train.cached_fit` takes it from the data folder when it is there);
# - **no lesion labels**: the error map of the dense autoencoder of notebook 03 (784 → 128 → 16 → 128 → 784,
#   20 epochs, as there), trained on lesion-free images only. (Choosing "lesion-free" images is itself a label, a cheap
#   one: one word per patient.)
#
# Two scores. The **pointing game** (notebook 05): a hit when the map's maximum lies within the lesion's
# radius + 1 pixel. **Dice** of the map's *k* highest pixels, *k* = the true lesion's area: this tells each map
# the lesion's size (an oracle that favours the maps without a threshold of their own); the U-Net also gets its
# Dice at its own threshold, which needs no oracle.

# %%
# CHECK_OUTPUT trained
article, _ = recipes.cached_fit("article", train.x, train.y, dataset="simlesion2d", seed=0)  # notebook 02's, cached
cnn = article.get_layer("article_cnn")  # the CNN itself, which takes pixels / 255
x_les = x_test[les] / 255.0
keras.utils.set_random_seed(0)
normal = (train.x[train.y == 0].reshape(-1, 784) / 255.0).astype("float32")
dense_ae = ae.dense_autoencoder(784, 16, hidden=(128,), output="sigmoid")
dense_ae.fit(normal, normal, epochs=n_epochs(20), batch_size=64, verbose=0)
rec = dense_ae.predict(x_les.reshape(-1, 784), verbose=0).reshape(x_les.shape)

maps = {
    "U-Net probability (pixel labels)": p_test[les],
    "Grad-CAM conv 2 (image labels)": explain.grad_cam(cnn, x_les, layer=1),
    "saliency (image labels)": explain.saliency(cnn, x_les),
    "autoencoder error (no lesion labels)": ae.error_maps(x_les[..., 0], rec[..., 0], sigma=1.5),
}
centers, radii = test.extras["lesion_centers"][les], test.extras["lesion_radii"][les]
area = m_test[les].sum(axis=(1, 2))


def top_k_masks(m, k):
    """Each map's k[i] highest pixels as a mask."""
    flat = m.reshape(len(m), -1)
    cut = -np.sort(-flat, axis=1)[np.arange(len(m)), k - 1]
    return (flat >= cut[:, None]).reshape(m.shape)


from sklearn.metrics import roc_auc_score

table = {}
for name, m in maps.items():
    hit = explain.pointing_game(m, centers, radii, tolerance=1.0).mean()
    dk = metrics.dice(m_test[les], top_k_masks(m, area), per_image=True).mean()
    table[name] = (hit, dk)
print(f"article CNN test AUC (image labels): {roc_auc_score(test.y, cnn.predict(x_test / 255.0, verbose=0)[:, 1]):.3f}")
print(f"{len(area)} simulated test lesions; chance of the pointing game {explain.chance_hit_rate((28, 28), centers, radii, 1.0):.3f}")
print(f"{'map':38s} {'pointing game':>14s} {'Dice (top-k)':>13s}")
steady = [n for n in table if not n.startswith("Grad-CAM")]   # Grad-CAM's row: printed with the figure below
print("\n".join(f"{name:38s} {table[name][0]:14.3f} {table[name][1]:13.3f}" for name in steady))
print(f"U-Net at its own threshold (chosen on validation): mean Dice {dice_img[les].mean():.3f} (no oracle)")

# %% [markdown]
# The bar chart shows the whole table, Grad-CAM included: pointing-game score and top-k Dice (y) for each map
# (x), labelled by the labels it was trained with. Grad-CAM's row is printed here, in a cell the course's tests
# do not compare: it comes from a coarse layer of a classifier, and moves by about 0.1 from one CPU to another.

# %%
# extra code – the table as grouped bars
fig, ax = plt.subplots(figsize=(7.4, 3.6))
names = list(table)
xs = np.arange(len(names))
ax.bar(xs - 0.2, [table[n][0] for n in names], 0.4, label="pointing game")
ax.bar(xs + 0.2, [table[n][1] for n in names], 0.4, label="Dice of the top-k pixels")
ax.set_xticks(xs, [n.replace(" (", "\n(") for n in names], fontsize=8)
ax.set_xlabel("localisation map")
ax.set_ylabel("score on simulated test lesions")
ax.set_ylim(0, 1)
ax.set_title("What labels buy: pixel labels vs image labels vs none")
ax.legend(fontsize=8)
fig.tight_layout()
print("\n".join(f"{name:38s} pointing game {hit:.3f}, Dice (top-k) {dk:.3f}" for name, (hit, dk) in table.items()
                if name.startswith("Grad-CAM")))

# %% [markdown]
# What the table says:
# - **Pixel labels buy outlines.** The U-Net is the only method whose map is a usable mask: its top-k Dice is
#   far above the others', and it needs no oracle to choose its size.
# - **Image labels buy a pointer.** Gradient saliency of a classifier trained only with "lesion: yes/no"
#   points at the lesion about as often as the U-Net's maximum does (as in notebook 05, the full-resolution
#   map wins on small lesions); Grad-CAM, coarser, much less often. But even when told the lesion's size, their top pixels make a
#   poor outline: they answer "which pixels moved the classifier's score", not "where is the lesion's edge".
# - **No lesion labels buy anomalies.** The autoencoder flags what it cannot reconstruct: the lesion, and
#   everything else unusual. It needs no annotation at all, which is its appeal for rare findings.
# - The price is the other way round: a pixel label takes an expert minutes per image (per slice in 3D), an
#   image label seconds, "normal" a glance at the report.
#
# ## Step 6 · Honesty: what is simulated, and what practitioners use
# - **Simulated.** The lesions are discs with a sharp, known edge; the masks are exact by construction. Real
#   lesions have irregular, ambiguous borders, and partial-volume pixels that are partly lesion.
# - **Real masks are opinions.** Real segmentation sets are drawn by human raters, and raters disagree:
#   inter-rater Dice for small or diffuse lesions is often far below 1, which caps what any model can be
#   shown to achieve. Good datasets have several raters per image and report their agreement (e.g. the
#   brain tumour challenge BraTS, Menze et al. 2015). The tissue maps here are real, but they are a
#   probabilistic average over many brains, not one patient's anatomy.
# - **2D and small.** Real scans are 3D with hundreds of slices; a 3D U-Net (or 2D on slices, with
#   post-processing) and patch-based training are the norm.
# - **Which metric?** Dice, per-lesion detection and a boundary distance each answer another question, and
#   they fail differently (Dice is harsh on tiny lesions, Hausdorff on one stray pixel). Maier-Hein et al.
#   (*Metrics Reloaded*, 2024) give a recommendation per problem.
# - **At scale,** practitioners use **MONAI** (the PyTorch medical imaging framework, with U-Nets, losses,
#   metrics and sliding-window inference) and **nnU-Net** (Isensee et al., 2021), which configures a U-Net
#   automatically for a new dataset and is the strong baseline to beat.
#
# ## Step 7 · Real data, when it is there
# None of the MedMNIST sets that the course can download carries pixel masks, so no real lesion
# segmentation runs offline; the real anatomy of step 4 is what we have. If the real PneumoniaMNIST file is
# present, the cell shows what the lesion U-Net, trained on simulated brain slices, draws on real chest X-rays
# with pneumonia: whatever it draws is not a pneumonia outline. A segmentation model knows only the kind of
# image and the kind of mask it was trained on.

# %%
real = data.try_load("pneumoniamnist", "test")
if real is not None:
    x_real = real.x[real.y == 1][:6]
    p_real = unet.predict(x_real[..., None].astype("float32"), verbose=0)[..., 0]
    fig, _ = plots.segmentation_grid(x_real, np.zeros_like(p_real, bool), p_real > T, prob_maps=p_real,
                                     titles=[f"{(p_real[i] > T).mean():.1%} flagged" for i in range(len(x_real))],
                                     suptitle="Lesion U-Net (simulated brains) on real chest X-rays: no valid outline",
                                     size=1.7)

# %% [markdown]
# ## Summary
# - A simulated lesion's mask is exact: the disc's profile exceeds 1/2 exactly within its radius. Tissue masks
#   come from the real MNI152 grey/white-matter maps, warped with each image.
# - Dice = 2TP/(2TP+FP+FN) and IoU = TP/(TP+FP+FN) ignore the background; Dice = 2 IoU/(1+IoU). Our NumPy
#   code agrees with scikit-learn and Keras. Pixel accuracy is useless for small lesions: predicting nothing
#   scores 0.98 and finds nothing. Soft Dice ranks predictions sensibly where cross-entropy does not.
# - A small U-Net (encoder, decoder, skip connections) learnt to outline the simulated lesions in a few
#   epochs on a CPU. Report it with Dice and a **patient-level** bootstrap interval, per-lesion sensitivity
#   and false positives per image, a boundary distance, and by lesion size and contrast: the small, faint
#   and dark lesions are the ones it misses.
# - The same network segments grey and white matter with only the number of output classes changed.
# - Pixel labels buy outlines, image labels a rough pointer (Grad-CAM, saliency), no labels an anomaly map.
#
# ## Exercises

# %% [markdown] tags=["exercise"]
# **Exercise 1.** Write `dice(a, b)` for two binary masks from the counts of the formula, returning 1.0 when
# both masks are empty, and run the checker. Then: a paper reports a mean IoU of 0.60. Can you turn it into
# a mean Dice exactly?

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_dice"
from helpers.checks import check_dice


def dice(a, b):
    a, b = np.asarray(a).astype(bool), np.asarray(b).astype(bool)
    tp, fp, fn = np.sum(a & b), np.sum(~a & b), np.sum(a & ~b)
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


check_dice(dice)
# For one pair of masks Dice = 2 IoU / (1 + IoU): IoU 0.60 is Dice 0.75. For a *mean* over images, no: the
# function is curved, so the mean of 2 IoU/(1 + IoU) is not 2 mean(IoU)/(1 + mean(IoU)). On our U-Net:
iou_img = metrics.iou(m_test[les], pred[les], per_image=True)
print(f"mean Dice {dice_img[les].mean():.3f}; formula applied to the mean IoU {2 * iou_img.mean() / (1 + iou_img.mean()):.3f}")

# %% [markdown] tags=["exercise"]
# **Exercise 2.** A screening reader wants the U-Net to find at least 80 % of lesions (per-lesion sensitivity
# ≥ 0.8) with as few false positives per image as possible. Using the **validation** split only (`p_val`,
# `m_val`), find the threshold among 0.05, 0.10, ..., 0.95 that does it, then report its sensitivity and false
# positives per image on the test split.

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_detection_threshold(answer, p_val, m_val, 0.8)"
from helpers.checks import check_detection_threshold

grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
rates = {}
for t in grid:
    c = metrics.lesion_detection(m_val, p_val > t)
    rates[t] = (c["detected"].sum() / c["lesions"].sum(), c["false_positives"].mean())
ok = [t for t in grid if rates[t][0] >= 0.8]
answer = float(min(ok, key=lambda t: (rates[t][1], -t))) if ok else float(grid[0])
check_detection_threshold(answer, p_val, m_val, 0.8)
c = metrics.lesion_detection(m_test, p_test > answer)
print(f"test at {answer}: sensitivity {c['detected'].sum() / c['lesions'].sum():.3f}, "
      f"false positives per image {c['false_positives'].mean():.3f}")

# %% [markdown] tags=["exercise"]
# **Exercise 3.** Is a U-Net needed for white matter? White matter is the brightest tissue on a T1 image. Try a
# classical baseline: a global threshold per image chosen by Otsu's method (`skimage.filters.threshold_otsu`),
# calling every pixel above it white matter. Compare its mean Dice for white matter on the lesion-free test
# images with the U-Net's: put Otsu's mean Dice per image in `answer` and run the checker. Why does the simple
# method do as well or as badly as it does?

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_otsu_dice(answer, test.x[free], tissue_true == 2)"
from skimage.filters import threshold_otsu

from helpers.checks import check_otsu_dice

imgs = test.x[free].astype(float)
otsu = np.stack([im > threshold_otsu(im) for im in imgs])  # one threshold per image, from its own histogram
d_otsu = metrics.dice(tissue_true == 2, otsu, per_image=True).mean()
answer = d_otsu
check_otsu_dice(answer, test.x[free], tissue_true == 2)
d_unet = metrics.dice(tissue_true == 2, tissue_pred == 2, per_image=True).mean()
print(f"white matter, mean Dice per image: Otsu {d_otsu:.3f}, U-Net {d_unet:.3f}")
# Otsu splits each image's histogram in two: above the cut are white matter *and* bright grey matter, and the
# simulated patients' bias fields, intensity curves and noise move the cut. It needs no labels and is a fair
# baseline; the U-Net uses context (shape, neighbours) and learns to ignore the bias field.

# %% [markdown] tags=["exercise"]
# **Exercise 4.** Add one false-positive pixel in a corner (row 0, column 0) to the U-Net's mask of the first
# test lesion it found (image `i` below). How much do Dice, the Hausdorff distance and HD95 change? Put the three
# values with the stray pixel in `answer = (dice, hausdorff, hd95)` and run the checker. Which metric would you
# report to a surgeon who cares about the farthest error, and which to a study that compares volumes?

# %%
i = np.flatnonzero(les & pred.any(axis=(1, 2)) & (dice_img > 0.5))[0]  # the first test lesion the U-Net found

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_stray_pixel_metrics(answer, m_test[i], pred[i])"
from helpers.checks import check_stray_pixel_metrics

noisy = pred[i].copy()
noisy[0, 0] = True
for name, m in (("U-Net mask", pred[i]), ("+ one stray pixel", noisy)):
    print(f"{name:18s}: Dice {metrics.dice(m_test[i], m):.3f}, Hausdorff {metrics.hausdorff(m_test[i], m):.1f} px, "
          f"HD95 {metrics.hausdorff(m_test[i], m, percentile=95):.1f} px")
answer = (metrics.dice(m_test[i], noisy), metrics.hausdorff(m_test[i], noisy),
          metrics.hausdorff(m_test[i], noisy, percentile=95))
check_stray_pixel_metrics(answer, m_test[i], pred[i])
# One pixel barely moves Dice and HD95 but multiplies the Hausdorff distance: it measures the worst point.
# Volume studies care about overlap (Dice); a surgeon or radiotherapy plan about the worst boundary error,
# but then the stray pixel should be removed by post-processing (keep the largest component) before measuring.

# %% [markdown]
# ## Where to go next, and sources
# - **MONAI** tutorials: 2D and 3D segmentation with U-Nets, Dice and Hausdorff metrics, sliding-window
#   inference (<https://github.com/Project-MONAI/tutorials>).
# - **nnU-Net** (<https://github.com/MIC-DKFZ/nnUNet>): the self-configuring U-Net used as the baseline in most
#   segmentation challenges.
#
# ## References
# 1. Ronneberger O, Fischer P, Brox T. *U-Net: Convolutional networks for biomedical image segmentation.*
#    MICCAI 2015, LNCS 9351:234–241. arXiv:1505.04597.
# 2. Dice LR. *Measures of the amount of ecologic association between species.* Ecology 26(3):297–302, 1945.
# 3. Jaccard P. *The distribution of the flora in the alpine zone.* New Phytologist 11(2):37–50, 1912.
# 4. Milletari F, Navab N, Ahmadi S-A. *V-Net: Fully convolutional neural networks for volumetric medical
#    image segmentation.* 3DV 2016, 565–571 (the soft Dice loss). arXiv:1606.04797.
# 5. Isensee F, Jaeger PF, Kohl SAA, Petersen J, Maier-Hein KH. *nnU-Net: a self-configuring method for deep
#    learning-based biomedical image segmentation.* Nature Methods 18:203–211, 2021.
# 6. Maier-Hein L, Reinke A, Godau P, et al. *Metrics reloaded: recommendations for image analysis
#    validation.* Nature Methods 21:195–212, 2024.
# 7. Menze BH, Jakab A, Bauer S, et al. *The multimodal brain tumor image segmentation benchmark (BRATS).*
#    IEEE Transactions on Medical Imaging 34(10):1993–2024, 2015.
# 8. Zhang J, Bargal SA, Lin Z, Brandt J, Shen X, Sclaroff S. *Top-down neural attention by excitation
#    backprop.* International Journal of Computer Vision 126:1084–1102, 2018 (ECCV 2016; the pointing game).
# 9. Selvaraju RR, Cogswell M, Das A, Vedantam R, Parikh D, Batra D. *Grad-CAM: Visual explanations from deep
#    networks via gradient-based localization.* ICCV 2017, 618–626.
# 10. Huttenlocher DP, Klanderman GA, Rucklidge WJ. *Comparing images using the Hausdorff distance.* IEEE
#     Transactions on Pattern Analysis and Machine Intelligence 15(9):850–863, 1993.
# 11. Cardoso MJ, Li W, Brown R, et al. *MONAI: An open-source framework for deep learning in healthcare.*
#     arXiv:2211.02701, 2022.
# 12. Fonov V, Evans AC, Botteron K, et al. *Unbiased average age-appropriate atlases for pediatric studies.*
#     NeuroImage 54(1):313–327, 2011 (the MNI152 2009 template that nilearn ships).
