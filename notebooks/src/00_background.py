# %% [markdown]
# # 00 · Background: what medical images are, and the data of this course
#
# *Deep learning for medical image diagnosis* — notebook 0 of 8.
#
# **Learning objectives.** After this notebook you can
# 1. name the main imaging modalities and recognise each one in a picture;
# 2. read a DICOM header and say what pixel spacing, modality and rescale slope/intercept mean;
# 3. convert CT values to Hounsfield units and choose a display window;
# 4. find your way in a 3D volume (sagittal, coronal, axial planes) and read an ECG as a time series;
# 5. map the source article's four core concepts (dataset, model, training, evaluation) onto this course;
# 6. say, for every dataset of the course, where it comes from, what its labels mean and whether it is real or **simulated**.
#
# **Prerequisites.** Python and NumPy; no deep learning yet.
#
# **Measured runtime:** 22 s, peak memory 1.2 GiB (offline, 2-core CPU with AVX-512, TF_ENABLE_ONEDNN_OPTS=0, TF_NUM_INTRAOP_THREADS=2, empty cache; `python tools/benchmark.py`, 2026-11-27)
#
# Terms in Chinese and English: [glossary](../docs/GLOSSARY.md).

# %% [markdown]
# ## Set-up
# `start()` fixes the random seeds and sets the figure style, and prints the library versions, the seed and the data
# folder; this notebook needs no TensorFlow.

# %%
from helpers.setup import start

start(seed=0, tensorflow=False)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import data, imaging, plots

# %% [markdown]
# ## Step 1 · Why medical image diagnosis, and why deep learning
#
# The source article (section 1) contrasts two ways of reading images:
#
# - **manual diagnosis**: a radiologist or pathologist looks at the images; this takes years of training,
#   and readers disagree with each other and with themselves on another day;
# - **automatic diagnosis**: an algorithm analyses the image; hand-designed algorithms need expert
#   knowledge for every new task and break when the data change.
#
# Deep learning learns the features from labelled examples instead of having them designed by hand.
# What the article leaves out, and this course keeps coming back to: a model is only as good as
# (a) its data, (b) the honesty of its evaluation, and (c) our ability to check *why* it decides
# what it decides. A model does not replace the reader; at best it is a second reader.

# %% [markdown]
# ## Step 2 · Modalities side by side
#
# All images below are real and ship inside Python packages (pydicom, nilearn, scikit-image),
# so they work offline. *Figure: seven panels: a chest CT slice (spine, aorta, lung edges) in a soft-tissue window, an abdominal MR
# slice, an axial slice of the MNI152 brain MRI template, one ultrasound frame, a colour fundus
# photograph of a retina, an immunohistochemistry-stained tissue section, and a phase-contrast
# microscopy image of a cell.*

# %%
# extra code – the seven images side by side, each titled with its modality and source
gallery = imaging.modality_gallery()
fig, axes = plt.subplots(1, len(gallery), figsize=(17, 3.2))
for ax, (title, img, source) in zip(axes, gallery):
    ax.imshow(img, cmap=None if img.ndim == 3 else "gray")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(source, fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Real medical images of seven modalities (all shipped with Python packages)")
fig.tight_layout()

# %% [markdown]
# | modality | what it measures | typical format |
# |---|---|---|
# | CT (computed tomography) | X-ray attenuation, in Hounsfield units | DICOM, 3D stacks of slices |
# | MR (magnetic resonance) | proton density and relaxation (T1, T2, ...), arbitrary units | DICOM, NIfTI in research |
# | ultrasound | echo strength of sound waves; real time | DICOM multi-frame, video |
# | fundus photography | colour photo of the retina | JPEG/PNG, DICOM |
# | histology | stained tissue under a microscope | gigapixel whole-slide images |
# | microscopy | cells, often unstained (phase contrast) | TIFF |
# | ECG | electrical activity of the heart over time (a signal, not an image) | DICOM waveform, EDF, XML |

# %% [markdown]
# ## Step 3 · DICOM: pixels plus a header
#
# DICOM files carry the pixels *and* a header with the facts needed to interpret them.
# The fields a reader checks first, from pydicom's small CT test image:

# %%
# CHECK_OUTPUT
ct = imaging.read_dicom("ct")
for key, value in imaging.header(ct).items():
    print(f"{key:26s} {value}")

# %% [markdown]
# **Pixel spacing** is the distance between pixel centres in mm (row, column). It turns pixels into
# millimetres: a 128 × 128 image at 0.66 mm covers about 85 mm. A model that sees images with
# different spacings sees the same lesion at different sizes, one reason to resample images to a
# common spacing before training.

# %%
# CHECK_OUTPUT
rows, cols = ct.Rows, ct.Columns
dy, dx = (float(v) for v in ct.PixelSpacing)
print(f"field of view: {rows * dy:.1f} mm × {cols * dx:.1f} mm")

# %% [markdown]
# ## Step 4 · Hounsfield units and windowing
#
# CT scanners store integers; the header says how to turn them into **Hounsfield units** (HU),
# a scale on which water is 0 and air −1000:
#
# $$\mathrm{HU} = \text{stored value} \times \text{RescaleSlope} + \text{RescaleIntercept}$$
#
# Our `imaging.to_hounsfield` implements that line; we check it against pydicom's own
# implementation of the DICOM standard (`apply_modality_lut`).

# %%
# CHECK_OUTPUT
from pydicom.pixels import apply_modality_lut

hu = imaging.to_hounsfield(ct)
np.testing.assert_allclose(hu, apply_modality_lut(ct.pixel_array, ct))
print(f"OK: our HU equal pydicom's; range {hu.min():.0f} to {hu.max():.0f} HU")

# %% [markdown]
# A screen shows about 256 grey levels, a CT spans thousands of HU. A **window** (centre $c$, width $w$)
# picks the range that matters:
#
# $$\text{grey} = \operatorname{clip}\!\left(\frac{\mathrm{HU} - (c - w/2)}{w},\, 0,\, 1\right)$$
#
# Check the formula at its three landmarks: the window's bottom edge is black, its centre mid-grey, its top edge white.

# %%
# CHECK_OUTPUT
c, w = imaging.WINDOWS["soft tissue"]
print(imaging.window(np.array([c - w / 2, c, c + w / 2]), c, w))

# %% [markdown]
# The same chest CT slice in four standard windows.
# *Figure: four copies of one chest CT slice at the level of a vertebra; the brain window is too
# narrow for the chest and shows mostly black and white; the soft-tissue window shows muscle, fat and
# the aorta; the lung window shows the lung vessels at the edges; the bone window shows the inner
# structure of the vertebra.*

# %%
# extra code – the slice through each of the four windows of imaging.WINDOWS
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
for ax, (name, (c, w)) in zip(axes, imaging.WINDOWS.items()):
    ax.imshow(imaging.window(hu, c, w), cmap="gray")
    ax.set_title(f"{name}: centre {c}, width {w} HU", fontsize=9)
    ax.axis("off")
fig.suptitle("One CT slice, four windows: windowing changes what a reader (or a model) can see")
fig.tight_layout()

# %% [markdown]
# Try it yourself: move the sliders (this needs a running kernel; the figure above is the static version).

# %%
from helpers import widgets

widgets.window_widget(hu, center=40, width=400)  # sliders redraw plots.window_figure(hu, center, width)

# %% [markdown]
# ## Step 5 · Volumes: three planes
#
# CT and MR are usually 3D. Research formats such as NIfTI store the volume with an **affine**
# matrix that maps voxel indices to millimetres in the scanner (or a standard) space.
# The MNI152 template is an average of 152 adult brains, the standard space of brain imaging.

# %%
# CHECK_OUTPUT
t1, brain_mask, affine = imaging.load_mni()
print("shape (x, y, z):", t1.shape)
print("voxel size (mm):", np.abs(np.diag(affine)[:3]))
print("brain-mask volume:", round(brain_mask.sum() / 1000), "cm³ (1 voxel = 1 mm³; the mask is generous and includes the fluid around the brain)")

# %% [markdown]
# *Figure: the MNI152 T1 template in its three planes through the centre of the volume: sagittal
# (side view), coronal (front view) and axial (view from below, the plane of most CT and MR slices).*

# %%
fig, axes = plots.three_planes(t1, point=(98, 120, 80), spacing=np.abs(np.diag(affine)[:3]),
                               title="MNI152 T1 brain template (real MRI average): three planes")

# %% [markdown]
# A radiologist reads a volume by scrolling through its slices; notebook 02 feeds slices to a
# recurrent network in the same order.

# %% [markdown]
# ## Step 6 · A biosignal as a time series: the ECG
#
# pydicom ships a real 12-lead electrocardiogram, 10 seconds sampled at 1000 Hz.

# %%
# CHECK_OUTPUT
ecg = imaging.load_ecg(units="mV")
print(f"{ecg.signals.shape[1]} leads, {ecg.signals.shape[0]} samples, {ecg.fs:.0f} Hz, {ecg.seconds:.0f} s")
print("leads:", ", ".join(ecg.leads))

# %% [markdown]
# *Figure: the twelve leads stacked, 10 seconds each; every lead shows the same regular heartbeats
# seen from a different direction.*

# %%
# extra code – the twelve leads, offset vertically
t = np.arange(len(ecg.signals)) / ecg.fs
fig, ax = plt.subplots(figsize=(12, 7))
for i, name in enumerate(ecg.leads):
    ax.plot(t, ecg.signals[:, i] - 2.5 * i, lw=0.6, color="#0072B2")
    ax.text(-0.15, -2.5 * i, name.replace("Lead ", "").replace(" (Einthoven)", ""), ha="right", va="center", fontsize=8)
ax.set_yticks([])
ax.set_xlabel("time (s)")
ax.set_xlim(-0.6, 10)
ax.set_title("Real 12-lead ECG (pydicom waveform_ecg.dcm), leads offset vertically")
fig.tight_layout()

# %% [markdown]
# A time series invites time-series questions. The heart rate, for instance: find the R peaks
# (the tall spikes) of lead II with `scipy.signal.find_peaks`, then
# $\text{rate} = 60 / \text{mean RR interval in seconds}$.
# *Figure: the first 3 seconds of lead II with the detected R peaks marked.*

# %%
# CHECK_OUTPUT
from scipy.signal import find_peaks

lead2 = ecg.lead("II")
peaks, _ = find_peaks(lead2, height=np.percentile(lead2, 99) * 0.5, distance=int(0.3 * ecg.fs))
rr = np.diff(peaks) / ecg.fs
print(f"{len(peaks)} beats in {ecg.seconds:.0f} s; mean RR {rr.mean():.3f} s; heart rate {60 / rr.mean():.0f} beats/min")

# %%
# extra code – lead II's first 3 s with the detected R peaks
first = t < 3
fig, ax = plt.subplots(figsize=(10, 3))
ax.plot(t[first], lead2[first], lw=0.8, label="lead II")
p3 = peaks[peaks < 3 * ecg.fs]
ax.plot(t[p3], lead2[p3], "v", color="#D55E00", label="R peaks")
ax.set_xlabel("time (s)")
ax.set_ylabel("mV")
ax.set_title("Lead II, first 3 s, with detected R peaks")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Step 7 · The article's core concepts, made concrete
#
# The article (section 2) names four concepts and four steps. Here is where each one lives in this course:
#
# | article concept | in this course | notebook |
# |---|---|---|
# | 数据集 dataset | `helpers.data.load(name, split)`: real MedMNIST, real breast-cancer features, simulated lesion sets | all |
# | 模型 model | `helpers.models.article_cnn` (the article's CNN, layer for layer), RNNs, autoencoders | 01-03 |
# | 训练 training | `model.fit` with fixed seeds; a better recipe with augmentation and early stopping | 01 |
# | 评估 evaluation | precision/recall/F1 *and* sensitivity, specificity, ROC with confidence intervals, calibration, leakage | 04 |
# | 数据处理 data processing | Hounsfield units, windowing (steps 3-4); shrinking to a common size, what 28 px keeps and loses (step 8) | 00 |
# | 特征提取 feature extraction | convolution filters learned by a CNN | 01 |
# | 模型构建 model building | CNN, RNN, autoencoder builders in `helpers` | 01-03 |
# | 诊断预测 prediction | the model's output, read with an honest threshold and an explanation map | 04-05 |

# %% [markdown]
# ## Step 8 · The datasets of this course, and their data cards
#
# One registry holds every dataset: where it comes from, its licence, its labels and whether it is
# **simulated**. The full data cards are in [`../data/README.md`](../data/README.md).

# %%
# CHECK_OUTPUT
# extra code – a table of the course's data sets, from the registry
rows = []
for name in data.names():
    info = data.info(name)
    rows.append({"name": name, "task": info.task, "classes": len(info.label_names),
                 "simulated": info.simulated, "licence": info.licence.split(" (")[0]})
pd.set_option("display.width", 120)
print(pd.DataFrame(rows).to_string(index=False))

# %% [markdown]
# ### 8.1 A real tabular set: Wisconsin breast cancer
# 569 fine-needle aspirates described by 30 features computed from microscope images.
# **Pitfall: label 0 means malignant.** Always say which class is "positive".

# %%
# CHECK_OUTPUT
bc = data.load("breastcancer", "all")
counts = np.bincount(bc.y)
for label, n in enumerate(counts):
    print(f"label {label} = {bc.info.label_names[label]}: {n}")

# %% [markdown]
# ### 8.2 The simulated lesion sets (offline training data)
#
# No Python package ships a labelled medical image classification set, and this course must run
# offline. So `helpers.simulate` makes one: real anatomy (crops of axial slices of the MNI152
# template, 2 mm per pixel), seen through 200 **simulated patients** (each with its own smooth
# deformation, brain size, intensity curve, bias field and noise texture). Half of the patients
# have a **synthetic lesion** in every image: a smooth disc, bright or dark, of known position,
# radius and contrast. The set is generated in seconds, identically from the same seed, and
# split by patient (no patient in two splits).
#
# **It is simulated.** The anatomy is real; the patients, lesions and labels are not. A score on
# it says nothing about patients; it lets us ask questions that need exact ground truth.

# %%
# CHECK_OUTPUT
sim = {split: data.load("simlesion2d", split) for split in ("train", "val", "test")}
for split, ds in sim.items():
    print(f"{split:5s} {ds.x.shape} {ds.x.dtype}, {len(np.unique(ds.extras['patients']))} patients, "
          f"{ds.y.mean():.0%} with a lesion")

# %% [markdown]
# *Figure: 24 simulated training images; those with a lesion have an orange ring drawn around
# the lesion's true position (the ring is not part of the image).*

# %%
train = sim["train"]
idx = np.random.default_rng(1).choice(len(train), 24, replace=False)
circles = train.lesion_rings(idx)  # (row, col, radius) of each lesion, None without one
titles = [f"{'lesion' if train.y[i] else 'none'} · pt {train.extras['patients'][i]}" for i in idx]
fig, _ = plots.image_grid(train.x[idx], titles=titles, circles=circles, ncols=8,
                          suptitle="SIMULATED lesions on real MRI anatomy (ring = true lesion position)")

# %% [markdown]
# Each simulated patient looks a little different: here are six images of each of four patients
# (one per row). This is what makes a split *by image* leak (notebook 04). *Figure: a 4 × 6 grid;
# each row holds images of one simulated patient; rows differ in brightness, contrast and noise.*

# %%
pts = np.unique(train.extras["patients"])[:4]
pick = np.concatenate([np.nonzero(train.extras["patients"] == p)[0][:6] for p in pts])
fig, _ = plots.image_grid(train.x[pick], ncols=6, vmin=0, vmax=255,
                          titles=[f"patient {train.extras['patients'][i]} · y={train.y[i]}" for i in pick],
                          suptitle="SIMULATED patients differ in intensity, contrast and noise")

# %% [markdown]
# The 3D set (28 slices of 28 × 28 per volume) is made the same way, for notebook 02, with simulated patients of its own.

# %%
# CHECK_OUTPUT
vol = data.load("simlesion3d", "train")
print(vol, "lesion share:", round(float(vol.y.mean()), 2))

# %% [markdown]
# ### 8.3 Real patients: three MedMNIST sets that ship with the course
#
# MedMNIST (Yang et al., *Scientific Data* 2023) is a collection of real medical image sets, centre-cropped
# and resized to 28 × 28 pixels (or 28³ voxels). Three of them are small enough to ship inside this repository
# (licence CC BY 4.0, which allows it with attribution), so the course trains on **real patients** offline:
#
# | set | what | labels |
# |---|---|---|
# | PneumoniaMNIST | 5,856 paediatric chest X-rays (Kermany et al., *Cell* 2018) | 0 normal, 1 pneumonia |
# | BreastMNIST | 780 breast ultrasound images (Al-Dhabyani et al., *Data in Brief* 2020) | **0 malignant**, 1 normal or benign |
# | AdrenalMNIST3D | 1,584 adrenal-gland shapes from abdominal CT, 792 patients | 0 normal, 1 hyperplasia |
#
# Their data cards (source, class counts, pitfalls) are in [`../data/README.md`](../data/README.md). Every load
# checks the file's MD5 checksum. The other MedMNIST sets are downloaded once when you are online.

# %%
# CHECK_OUTPUT
real = {name: {split: data.load(name, split) for split in ("train", "val", "test")}
        for name in ("pneumoniamnist", "breastmnist", "adrenalmnist3d")}
for name, splits in real.items():
    info = splits["train"].info
    print(f"{name}: {', '.join(f'{i} = {n}' for i, n in enumerate(info.label_names))}; simulated: {info.simulated}")
    for split, ds in splits.items():
        counts = np.bincount(ds.y, minlength=len(info.label_names))
        print(f"  {split:5s} {str(ds.x.shape):18s} {ds.x.dtype}  per class {counts.tolist()}  share of label 1: {counts[1] / counts.sum():.2f}")

# %% [markdown]
# **Class balance is part of the data card.** Three in four chest X-rays show pneumonia, and almost three in four
# breast ultrasound images are *not* malignant (label 1). A model that always answers "pneumonia" is right 62.5 % of
# the time on the PneumoniaMNIST test split (390 of 624), and accuracy alone hides that; notebook 04 shows what to
# report instead. And in BreastMNIST the class a clinician worries about, malignant, is label **0**: say which class
# is "positive" before computing any sensitivity.
#
# The figure shows eight training images of each class of the two 2D sets, with their labels as titles.

# %%
# extra code – eight images per class of the two shipped 2D sets
for name in ("pneumoniamnist", "breastmnist"):
    ds = real[name]["train"]
    picks = np.concatenate([np.flatnonzero(ds.y == c)[:8] for c in (0, 1)])
    fig, _ = plots.image_grid(ds.x[picks], titles=[ds.info.label_names[v] for v in ds.y[picks]],
                              suptitle=f"{ds.info.title} (real, 28 × 28): top row label 0, bottom row label 1")
plt.show()

# %% [markdown]
# **What 28 pixels keep and lose.** A chest X-ray covers roughly 35 cm of chest; at 28 pixels each pixel spans about
# 12 mm, so the lungs, the heart's outline and dense patches of pneumonia survive, while a nodule of a few millimetres
# or the fine texture of the lungs does not. We can watch the same loss on a real image that scikit-image ships:
# the figure shows its 1411 × 1411 fundus photograph (the retina) shrunk to 256, 64 and 28 pixels per side
# (anti-aliased, then shown at the same size). Small vessels and the tiny red dots that signal diabetic
# retinopathy vanish first; at 28 only the optic disc and the largest vessels remain.

# %%
# CHECK_OUTPUT
from skimage import data as skdata
from skimage.transform import resize

fundus = skdata.retina()
sizes = (fundus.shape[0], 256, 64, 28)
shrunk = [fundus] + [resize(fundus, (n, n), anti_aliasing=True) for n in sizes[1:]]
# extra code – the four sizes side by side
fig, axes = plt.subplots(1, len(sizes), figsize=(10, 2.9))
for ax, img, n in zip(axes, shrunk, sizes):
    ax.imshow(img)
    ax.set_title(f"{n} px" if n != sizes[0] else f"{n} px (original)")
    ax.axis("off")
fig.suptitle("The same real fundus photograph at four sizes per side")
plt.show()
print("pixels per side:", sizes, "| pixels in all:", [n * n for n in sizes])

# %% [markdown]
# AdrenalMNIST3D is different: the hospital released only the **shapes** of the glands (masks drawn by an expert
# endocrinologist on CT, 64 mm cubes resized to 28³), not the CT itself. The figure shows one normal gland (top row)
# and one with hyperplasia (bottom row), each cut through its centre of mass along the three axes of the array;
# bright voxels are inside the gland.

# %%
# extra code – one volume of each class, cut through its centre along each array axis
from scipy import ndimage

adrenal = real["adrenalmnist3d"]["train"]
views, titles = [], []
for label in (0, 1):
    vol = adrenal.x[int(np.flatnonzero(adrenal.y == label)[0])]
    c0, c1, c2 = np.round(ndimage.center_of_mass(vol)).astype(int)
    views += [vol[c0], vol[:, c1], vol[:, :, c2]]
    name = adrenal.info.label_names[label]
    titles += [f"{name}: axis 0 = {c0}", f"{name}: axis 1 = {c1}", f"{name}: axis 2 = {c2}"]
fig, _ = plots.image_grid(views, titles=titles, ncols=3, size=2.2,
                          suptitle="AdrenalMNIST3D (real gland shapes from CT, 28³): normal (top), hyperplasia (bottom)")
plt.show()

# %% [markdown]
# ## Summary
#
# - Medical images come in many **modalities**; each measures something different and needs its own handling.
# - **DICOM** files carry a header; pixel spacing gives millimetres, rescale slope/intercept give
#   **Hounsfield units** in CT, and a **window** decides what is visible.
# - Volumes have three planes; an **ECG** is a multichannel time series.
# - The article's dataset–model–training–evaluation loop maps onto notebooks 01–05.
# - The course trains on **real patients** offline (PneumoniaMNIST, BreastMNIST, AdrenalMNIST3D ship with it) and on
#   **simulated** lesions in real anatomy where exact ground truth is the point; label conventions differ between
#   datasets (label 0 = malignant in two of them), and class balance belongs to every data card.
#
# Next: [01 · CNN](01_cnn.ipynb).

# %% [markdown] tags=["exercise"]
# ## Exercises
#
# **Exercise 1 (Hounsfield units by hand).** Write `to_hounsfield(stored, slope, intercept)` that turns the stored
# pixel values of a CT (integers, often *unsigned* 16-bit as in many DICOM files) into Hounsfield units with the
# header's rescale slope and intercept, and run the checker. Then apply it to the chest CT of step 3
# (`ct.pixel_array`, `ct.RescaleSlope`, `ct.RescaleIntercept`) and show that it equals `imaging.to_hounsfield(ct)`.
# Why must the conversion happen in floating point? What HU should air, water and bone have, and what does that
# tell you when a "CT" of your data set has no negative values at all?

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_hounsfield"
from helpers.checks import check_hounsfield


def to_hounsfield(stored, slope, intercept):
    """HU = stored x slope + intercept, in floating point (unsigned integers cannot hold -1000)."""
    return np.asarray(stored, dtype=np.float64) * float(slope) + float(intercept)


check_hounsfield(to_hounsfield)
mine = to_hounsfield(ct.pixel_array, ct.RescaleSlope, ct.RescaleIntercept)
np.testing.assert_allclose(mine, imaging.to_hounsfield(ct), rtol=1e-6)
print(f"OK: equal to imaging.to_hounsfield; stored {ct.pixel_array.min()}..{ct.pixel_array.max()} "
      f"({ct.pixel_array.dtype}) -> {mine.min():.0f}..{mine.max():.0f} HU")
# In uint16 arithmetic 24 - 1024 does not give -1000 but wraps around to 64536: air would become the brightest
# value. Air is about -1000 HU, water 0, soft tissue 20 to 80, bone several hundred to over 1000. A CT with no
# negative values has not been rescaled (or was rescaled wrongly): check the header before training on it.

# %% [markdown] tags=["exercise"]
# **Exercise 2 (a window by hand, and what it reveals).** Write `window(hu, center, width)` that returns grey
# levels in [0, 1] as in the formula of step 4 (black below the window, white above it), and run the checker.
# Then show pydicom's 512 × 512 head CT (`imaging.read_dicom("ct_head")`) in a brain window (centre 40, width 80)
# with your two functions. The image shows square blocks inside the skull. Where do they come from, and why does
# the brain window show them when a soft-tissue window (centre 40, width 400) hides them?
# (Hint: `ds.file_meta.TransferSyntaxUID.name`.)
# *Figure (in the solution): the same real head CT slice twice, in the brain window (left) and in the soft-tissue
# window (right).*

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_window"
from helpers.checks import check_window


def window(hu, center, width):
    """Grey level in [0, 1]: 0 at center - width/2 and below, 1 at center + width/2 and above."""
    return np.clip((np.asarray(hu, dtype=np.float64) - (center - width / 2)) / width, 0.0, 1.0)


check_window(window)
head = imaging.read_dicom("ct_head")
head_hu = to_hounsfield(head.pixel_array, head.RescaleSlope, head.RescaleIntercept)
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, (c, w) in zip(axes, [(40, 80), (40, 400)]):
    ax.imshow(window(head_hu, c, w), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"head CT, window centre {c}, width {w} HU", fontsize=9)
    ax.axis("off")
fig.suptitle("Real head CT (pydicom), two windows: the narrow one shows compression blocks")
fig.tight_layout()
print("stored as:", head.file_meta.TransferSyntaxUID.name)
# The file was compressed with lossy ("irreversible") JPEG 2000. A window of width 80 HU spreads 80 HU over all
# grey levels, five times the contrast of the 400 HU window, so the small errors of the compression become
# visible blocks. Lossy compression is common in archives and teaching files; a model trained on such images may
# learn the artefacts.

# %% [markdown] tags=["exercise"]
# **Exercise 3 (a heart rate from any lead).** Step 6 found the R peaks of lead II and turned the mean RR interval
# into beats per minute.
# (a) Write `heart_rate(signal, fs)` that does this for one lead sampled at `fs` Hz and returns beats per minute,
# and run the checker: it tries your function on leads II and V5, on lead II reduced to 250 Hz, and on a made-up
# ECG in microvolts at 72 beats/min.
# (b) Compute the rate from lead V5 and from lead II. Is it the same? How many milliseconds apart are the R peaks
# that the two leads give? Why should the rate agree?
# (c) Run your function on all twelve leads. On which leads is the rate wrong? On which is it right for the wrong
# reason? (Compare where each lead's peaks fall with the R peaks of lead II, and look at those leads in the figure
# of step 6: what does `find_peaks` look for?)
# *Figure (in the solution): the first 3 s of leads II, V2, V1 and aVR, each with the peaks that the method finds;
# dotted lines mark the R peaks of lead II.*

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_heart_rate"
from helpers.checks import check_heart_rate


def r_peaks(signal, fs):
    """Sample indices of the R peaks of one lead sampled at fs Hz, as in step 6."""
    signal = np.asarray(signal, dtype=np.float64)
    # a height relative to the signal (half its 99th percentile) works in mV and in µV alike; the minimum distance,
    # 0.3 s, is converted to samples of *this* signal with its own fs
    peaks, _ = find_peaks(signal, height=np.percentile(signal, 99) * 0.5, distance=int(0.3 * fs))
    return peaks


def heart_rate(signal, fs):
    """Beats per minute: 60 / the mean RR interval, the intervals in seconds (samples / fs)."""
    rr = np.diff(r_peaks(signal, fs)) / fs
    return 60 / rr.mean()  # counting the peaks of 10 s instead would miss the partial beats at both ends


check_heart_rate(heart_rate)

# (b) lead V5 against lead II: the rates, and how far apart the R peaks of the two leads are
peaks_ii, peaks_v5 = r_peaks(ecg.lead("II"), ecg.fs), r_peaks(ecg.lead("V5"), ecg.fs)
print(f"lead II: {heart_rate(ecg.lead('II'), ecg.fs):.1f} beats/min, lead V5: {heart_rate(ecg.lead('V5'), ecg.fs):.1f} "
      f"beats/min; {len(peaks_ii)} and {len(peaks_v5)} R peaks, at most "
      f"{np.abs(peaks_ii - peaks_v5).max() / ecg.fs * 1000:.0f} ms apart")

# (c) every lead: its rate, its number of peaks, and where its peaks fall (median lag after the nearest R of lead II)
short = [name.replace("Lead ", "").replace(" (Einthoven)", "") for name in ecg.leads]
rows = []
for i, name in enumerate(short):
    pk = r_peaks(ecg.signals[:, i], ecg.fs)
    lag = pk - peaks_ii[np.abs(pk[:, None] - peaks_ii[None, :]).argmin(axis=1)]
    rows.append({"lead": name, "beats/min": round(heart_rate(ecg.signals[:, i], ecg.fs), 1), "peaks": len(pk),
                 "median lag after lead II's R (ms)": int(np.median(lag) / ecg.fs * 1000)})
print(pd.DataFrame(rows).to_string(index=False))

# extra code – four leads, first 3 s, with the peaks the method finds and lead II's R peaks as dotted lines
fig, axes = plt.subplots(4, 1, figsize=(10, 6.5), sharex=True)
for ax, name in zip(axes, ("II", "V2", "V1", "aVR")):
    sig = ecg.lead(name)
    pk = r_peaks(sig, ecg.fs)
    pk = pk[pk < 3 * ecg.fs]
    ax.plot(t[first], sig[first], lw=0.8)
    ax.plot(t[pk], sig[pk], "v", color="#D55E00")
    for r in peaks_ii[peaks_ii < 3 * ecg.fs]:
        ax.axvline(r / ecg.fs, color="grey", ls=":", lw=0.8)
    ax.set_ylabel(f"{name} (mV)")
axes[-1].set_xlabel("time (s)")
fig.suptitle("Peaks found by the method of step 6 in four leads (dotted: R peaks of lead II)")
fig.tight_layout()
plt.show()
# (b) The same rate, about 61 beats/min, from the same beats: the R peaks of V5 fall within a millisecond or two of
# those of lead II. There is one heart; the twelve leads record its one electrical activity from twelve directions,
# so the timing of the beats cannot depend on the lead, only the shape of each wave does.
# (c) The method assumes that the tallest upward spikes are the R waves. That holds in I, II, III, aVF, V4, V5 and V6,
# not everywhere. In aVR (which looks at the heart from the right shoulder) and in V1 the QRS complex points mostly
# *down*, so the tallest upward bumps are small waves and noise: 12 and 20 "beats", a wrong rate (V1 twice the
# truth). In aVL the R wave is small, and a few other waves pass the threshold too. In V2 and V3 the rate is right
# for the wrong reason: the peaks are the T waves, about 240 ms after each R. A detector must be checked on the
# signals it will see; clinical ones (Pan and Tompkins, 1985) follow the steep slope of the QRS in either
# direction, or combine several leads.

# %% [markdown] tags=["exercise"]
# **Exercise 4 (patients, not images).** Every image of the simulated sets belongs to a simulated patient:
# `train.extras["patients"]` holds one patient id per image.
# (a) Count the images of each patient of the training set, as an array in the order of `np.unique` of the ids
# (or a dict `{patient: count}`), and run the checker.
# (b) Do all images of a patient share one label? What share of the patients, and what share of the images, have
# a lesion?
# (c) Check that no patient has images in two splits (`sim["train"]`, `sim["val"]`, `sim["test"]`).
# (d) Suppose someone pooled the three splits and split the images at random instead, 20 % for testing. What share
# of the test images would come from a patient who also has images in training? What would a test score then
# measure? (Notebook 04 measures this leak.)

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_images_per_patient(answer, train.extras['patients'])"
from helpers.checks import check_images_per_patient

# (a) np.unique(..., return_counts=True) gives each patient id once, sorted, with its number of images.
# (np.bincount(pid) would also give a 0 for every id of a validation or test patient.)
pid = train.extras["patients"]
ids, answer = np.unique(pid, return_counts=True)
check_images_per_patient(answer, train.extras["patients"])
print(f"{len(ids)} training patients; images per patient: {sorted(set(answer.tolist()))}")

# (b) one label per patient: the labels of each patient's images take a single value
n_labels = np.array([len(np.unique(train.y[pid == p])) for p in ids])
patient_label = np.array([train.y[pid == p][0] for p in ids])
print(f"one label per patient: {bool(np.all(n_labels == 1))}; with a lesion: {patient_label.mean():.0%} of the "
      f"patients, {train.y.mean():.0%} of the images")

# (c) the splits share no patient
ids_of = [set(np.unique(ds.extras["patients"]).tolist()) for ds in sim.values()]  # train, val, test
shared = sum(len(a & b) for i, a in enumerate(ids_of) for b in ids_of[i + 1:])
print(f"patients in two of the splits {list(sim)}: {shared}")

# (d) a random split by image of the pooled images
all_pid = np.concatenate([ds.extras["patients"] for ds in sim.values()])
in_test = np.zeros(len(all_pid), dtype=bool)
in_test[np.random.default_rng(0).choice(len(all_pid), len(all_pid) // 5, replace=False)] = True
seen = np.isin(all_pid[in_test], all_pid[~in_test])
print(f"random split by image: {seen.mean():.0%} of the {in_test.sum()} test images come from a patient seen in "
      f"training ({len(np.unique(all_pid[in_test]))} patients in test)")
# Every patient has 30 images, all with one label (the simulation gives a lesion to every image of half of the
# patients), so half of the patients and half of the images have a lesion. The course's splits are by patient: no
# patient in two splits. A random split by image puts images of every patient on both sides (all 30 images of a
# patient land in test with probability 0.2^30), so the test score would measure how well the model recognises
# patients it has already seen (their brightness, contrast and noise), not how it does on a new patient. And the
# 1,200 test images of the course are not 1,200 independent cases: they are 40 patients.

# %% [markdown]
# ## References
# - Yang J, Shi R, Wei D, et al. MedMNIST v2: a large-scale lightweight benchmark for 2D and 3D biomedical image
#   classification. *Scientific Data* 10:41 (2023).
# - Kermany DS, Goldbaum M, Cai W, et al. Identifying medical diagnoses and treatable diseases by image-based deep
#   learning. *Cell* 172(5):1122-1131 (2018).
# - Street WN, Wolberg WH, Mangasarian OL. Nuclear feature extraction for breast tumor diagnosis. *Proc. SPIE*
#   1905:861-870 (1993).
# - Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound images. *Data in Brief* 28:104863 (2020).
# - Hounsfield GN. Computerized transverse axial scanning (tomography): Part 1. Description of system. *British
#   Journal of Radiology* 46(552):1016-1022 (1973).
# - National Electrical Manufacturers Association. *Digital Imaging and Communications in Medicine (DICOM)
#   Standard*, NEMA PS3 / ISO 12052. https://www.dicomstandard.org
# - Fonov V, Evans AC, Botteron K, et al. Unbiased average age-appropriate atlases for pediatric studies.
#   *NeuroImage* 54(1):313-327 (2011) (the MNI152 2009 template that nilearn ships, behind step 5 and the
#   simulated lesion sets).
