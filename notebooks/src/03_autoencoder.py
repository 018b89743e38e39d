# %% [markdown]
# # 03 · Autoencoders: PCA in disguise, compression, denoising and anomaly detection
#
# The source article (section 3.3) describes an autoencoder in two formulas, an encoder
# $h = W_e x + b_e$ and a decoder $x' = W_d h + b_d$, and says the diagnosis comes "from the
# reconstruction". This notebook takes both claims seriously and measures them.
#
# **Learning objectives.** After this notebook you can
# 1. implement the article's autoencoder, check it against its formulas, and show (with principal
#    angles) that it learns the same subspace as PCA;
# 2. build non-linear and convolutional autoencoders and measure compression with PSNR and SSIM;
# 3. train a denoising autoencoder and measure its gain in PSNR;
# 4. turn reconstruction error into a lesion detector trained on normal images only, score it with ROC/AUC,
#    and check whether its error map points at the lesion.
#
# **Prerequisites.** Notebook 01 (Keras layers, training a model); PCA at the level of "project onto the
# directions of largest variance"; ROC and AUC at the level of notebook 01 (notebook 04 goes deeper).
#
# **Measured runtime:** 54 s, peak memory 1.4 GiB (offline, 2-core CPU with AVX-512, TF_ENABLE_ONEDNN_OPTS=0, TF_NUM_INTRAOP_THREADS=2, empty cache; `python tools/benchmark.py`, 2026-11-27)
#
# Terms in Chinese and English: [glossary](../docs/GLOSSARY.md).
#
# **Data.** The real Wisconsin breast cancer features (scikit-learn; label 0 = malignant, 1 = benign), and
# SimLesion2D, a **simulated** set of brain MRI crops (real MNI152 anatomy, simulated patients and lesions,
# label 1 = lesion). PneumoniaMNIST (real chest X-rays) is used at the end when its file is present.

# %% [markdown]
# ## Set-up
# `start(seed=0)` fixes every seed, makes TensorFlow deterministic and gives it one set of CPU kernels and threads
# (oneDNN off, 2 threads): run again on this computer, every number below comes out the same. On another computer,
# numbers that come out of training (AUCs, losses, counts of errors) may differ a little from the stored ones;
# formula checks, data sizes and parameter counts are the same everywhere ([why](../README.md#same-numbers)).
# It prints the library versions, the seed and the data folder. Each hand-written training states its number of
# epochs as `n_epochs(10)`: that is 10, or 1 when the course's short-training setting is on (only the browser tests
# turn it on, `COURSE_SHORT_TRAINING=1`, to run every notebook quickly; see `helpers/setup.py`).

# %%
from helpers.setup import n_epochs, start

start(seed=0)

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from helpers import autoencoders as ae
from helpers import data, explain, metrics, plots

# %% [markdown]
# ## Step 1 · The article's autoencoder on real breast cancer features
#
# The Wisconsin Diagnostic Breast Cancer set has 30 numbers per patient, measured on the cell nuclei of a
# fine-needle aspirate image (radius, texture, concavity...). Features have very different units, so we
# standardise them with the training split's mean and standard deviation. **Mind the labels: 0 = malignant,
# 1 = benign.**

# %%
# CHECK_OUTPUT
bc_train, bc_test = data.load("breastcancer", "train"), data.load("breastcancer", "test")
scaler = StandardScaler().fit(bc_train.x)
xb_train = scaler.transform(bc_train.x).astype("float32")
xb_test = scaler.transform(bc_test.x).astype("float32")
print("label names:", bc_train.info.label_names)
print(f"train {xb_train.shape}, test {xb_test.shape}; malignant in train: {(bc_train.y == 0).sum()}")

# %% [markdown]
# The article's model, word for word: a Dense layer with no activation compresses the 30 features into a
# code of 2, a second one decompresses,
#
# $$h = W_e x + b_e, \qquad x' = W_d h + b_d,$$
#
# trained to make $x'$ close to $x$ (mean squared error). The data set is small, so each training step
# sees the whole batch, with a learning rate that decays to zero (a cosine schedule) so that the weights settle
# (`ae.fit_full_batch`, 300 steps of Adam).

# %%
keras.utils.set_random_seed(0)
lin_bc = ae.linear_autoencoder(n_features=30, n_code=2, compile=False)
ae.fit_full_batch(lin_bc, xb_train, steps=300)
lin_bc.summary()

# %% [markdown]
# Check that Keras computes exactly the article's formulas. A Keras `Dense` layer stores its kernel as
# (inputs, outputs) and computes `x @ kernel + bias`, so $W_e$ is the transposed kernel.

# %%
# CHECK_OUTPUT
k_e, b_e = lin_bc.get_layer("encoder").get_weights()
k_d, b_d = lin_bc.get_layer("decoder").get_weights()
W_e, W_d = k_e.T, k_d.T                      # (2, 30) and (30, 2), as in the formulas
h = xb_test @ W_e.T + b_e                    # h  = W_e x + b_e   (one row per sample)
x_rec = h @ W_d.T + b_d                      # x' = W_d h + b_d
np.testing.assert_allclose(x_rec, lin_bc.predict(xb_test, verbose=0), rtol=1e-4, atol=1e-4)
print("OK: NumPy formulas h = W_e x + b_e, x' = W_d h + b_d agree with the Keras model")

# %% [markdown]
# ### Same subspace as PCA
#
# With no non-linearity, the best a 2-number code can do is to keep the 2D plane through the data that loses
# the least squared error, and that plane is spanned by the top 2 principal components (Bourlard & Kamp 1988;
# Baldi & Hornik 1989). The decoder reconstructs inside the span of the columns of $W_d$. The **principal
# angles** $\theta_1, \theta_2$ between two subspaces measure how far apart they are: with orthonormal bases
# $Q_A$ and $Q_B$, $\cos\theta_i$ are the singular values of $Q_A^\top Q_B$. All angles 0 means the same
# subspace; for unrelated planes they are large. Here is the formula in NumPy, checked against SciPy
# (`ae.principal_angles` wraps `scipy.linalg.subspace_angles`).

# %%
# CHECK_OUTPUT trained
pca_bc = PCA(n_components=2).fit(xb_train)
q_a, _ = np.linalg.qr(W_d.astype("float64"))                          # orthonormal basis of the decoder's span (30, 2)
q_b, _ = np.linalg.qr(pca_bc.components_.T)           # ... of the top-2 PCA components
cosines = np.linalg.svd(q_a.T @ q_b, compute_uv=False)
angles_numpy = np.degrees(np.arccos(np.clip(cosines, -1, 1)))[::-1]   # largest first, like SciPy
angles_bc = ae.principal_angles(W_d.T, pca_bc.components_)
np.testing.assert_allclose(angles_numpy, angles_bc, atol=0.01)  # degrees; arccos is imprecise near 0
print("OK: cos(theta) = singular values of Q_A^T Q_B agrees with scipy.linalg.subspace_angles")
rng = np.random.default_rng(0)
angles_random = ae.principal_angles(rng.normal(size=(2, 30)), pca_bc.components_)
print("angles, linear autoencoder vs PCA (degrees):", np.round(angles_bc, 1))
print("angles, a random plane vs PCA (degrees):    ", np.round(angles_random, 1))
mse_ae = np.mean((lin_bc.predict(xb_train, verbose=0) - xb_train) ** 2)
mse_pca = np.mean((pca_bc.inverse_transform(pca_bc.transform(xb_train)) - xb_train) ** 2)
print(f"reconstruction MSE on train: autoencoder {mse_ae:.3f}, PCA {mse_pca:.3f}")

# %% [markdown]
# The angles are close to zero and the reconstruction error equals PCA's: **the article's formulas are PCA,
# trained by gradient descent.** The code itself is not the PCA score: any invertible 2×2 mix of the code,
# undone by the decoder, reconstructs equally well (exercise 1), so the autoencoder finds PCA's plane but not
# its axes. The figure shows the 2D codes of the test patients next to their PCA scores, coloured by diagnosis:
# in both, the malignant patients (label 0) spread along one side, the benign ones cluster, and the two panels
# differ only by a rotation and a stretch.

# %%
codes = h
scores_pca = pca_bc.transform(xb_test)
# extra code – both 2D codes as scatter plots, coloured by diagnosis
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, z, name in zip(axes, [codes, scores_pca], ["linear autoencoder code h", "PCA scores"]):
    for label, colour in [(0, "#D55E00"), (1, "#0072B2")]:
        sel = bc_test.y == label
        ax.scatter(z[sel, 0], z[sel, 1], s=14, alpha=0.8, color=colour,
                   label=f"{label} = {bc_test.info.label_names[label]} ({sel.sum()})")
    ax.set_xlabel("code 1" if "code" in name else "PC 1")
    ax.set_ylabel("code 2" if "code" in name else "PC 2")
    ax.set_title(f"Breast cancer test set (real): {name}")
    ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ### The same on image patches (simulated brain slices)
#
# Next the article's autoencoder on images: 8×8 patches cut from lesion-free **simulated** brain slices
# (64 pixels → a code of 3). First, how much variance each principal component carries.

# %%
# CHECK_OUTPUT
from sklearn.feature_extraction.image import extract_patches_2d

sim_train = data.load("simlesion2d", "train")
sim_test = data.load("simlesion2d", "test")
print(sim_train, sim_test, sep="\n")
normal_train = sim_train.x[sim_train.y == 0][:1000].astype("float32") / 255
patches = np.concatenate([extract_patches_2d(img, (8, 8), max_patches=4, random_state=i)
                          for i, img in enumerate(normal_train)]).reshape(-1, 64)
patches -= patches.mean(axis=0)
pca_patch = PCA(n_components=6).fit(patches)
print("patches:", patches.shape, "· variance share of PC 1-6:", np.round(pca_patch.explained_variance_ratio_, 3))

# %% [markdown]
# Train the linear autoencoder (64 → 3 → 64) and compare its span with the top 3 components.

# %%
# CHECK_OUTPUT trained
keras.utils.set_random_seed(0)
lin_patch = ae.linear_autoencoder(n_features=64, n_code=3, compile=False)
ae.fit_full_batch(lin_patch, patches, steps=300)
angles_patch = ae.principal_angles(lin_patch.get_layer("decoder").get_weights()[0], pca_patch.components_[:3])
print("angles, linear autoencoder vs top-3 PCA on patches (degrees):", np.round(angles_patch, 1))
angles_random_patch = ae.principal_angles(rng.normal(size=(3, 64)), pca_patch.components_[:3])
print("angles, a random 3D subspace vs top-3 PCA (degrees):          ", np.round(angles_random_patch, 1))

# %% [markdown]
# The figure compares the angles (blue: learned, written above each bar; grey: a random subspace of the same
# size): the learned subspaces sit almost on top of PCA's, random ones are far away.

# %%
# extra code – the five angles as bars, next to those of random subspaces
fig, ax = plt.subplots(figsize=(6.4, 3.2))
labels = ["breast cancer θ1", "breast cancer θ2", "patches θ1", "patches θ2", "patches θ3"]
learned, random_ = np.r_[angles_bc, angles_patch], np.r_[angles_random, angles_random_patch]
ax.bar(np.arange(5) - 0.2, learned, width=0.4, label="linear autoencoder vs PCA")
ax.bar(np.arange(5) + 0.2, random_, width=0.4, label="random subspace vs PCA", color="#999999")
for i, v in enumerate(learned):
    ax.text(i - 0.2, v + 2, f"{v:.1f}°", ha="center", fontsize=8, color="#0072B2")
ax.set_xticks(range(5), labels, fontsize=8)
ax.set_xlabel("principal angle (largest first) per data set")
ax.set_ylabel("principal angle (degrees)")
ax.set_ylim(0, 120)
ax.set_title("The article's autoencoder learns PCA's subspace")
ax.legend(fontsize=8, loc="upper center", ncol=2)
fig.tight_layout()

# %% [markdown]
# > **A kind correction.** The article presents $h = W_e x + b_e,\ x' = W_d h + b_d$ as a deep-learning
# > method for dimensionality reduction. As written, with no activation function, it is exactly linear PCA
# > (computed slowly): stacking more linear layers would not change that. What makes an autoencoder more
# > than PCA is a non-linearity between the layers (ReLU, sigmoid), as in the models of step 2.
#
# Why a code of 3 for patches and not 4? Gradient descent converges slowly in directions whose variances are
# nearly equal; the 4th and 5th components above carry similar variance, so the 4th direction would need many
# more steps (try it: set `n_code=4` and compare the largest angle).
#
# ## Step 2 · Non-linear and convolutional autoencoders: compression
#
# Now whole 28×28 **simulated** slices, scaled to 0..1. All models in steps 2 and 3 are trained on the
# **lesion-free** training images only (so that step 3 can use them as anomaly detectors). Two non-linear
# models (from `helpers.autoencoders`):
# - a **dense** autoencoder 784 → 128 (ReLU) → 16 → 128 (ReLU) → 784 (sigmoid): compression ratio 784/16 = 49;
# - a **convolutional** autoencoder: two stride-2 convolutions (28 → 14 → 7) and a 1×1 convolution to a
#   7×7×4 code (196 numbers, ratio 4), mirrored by transposed convolutions.

# %%
# CHECK_OUTPUT
x_norm = (sim_train.x[sim_train.y == 0].astype("float32") / 255)[..., None]   # lesion-free training images
x_test = (sim_test.x.astype("float32") / 255)[..., None]
y_test = sim_test.y
test_normal = x_test[y_test == 0]
print(f"lesion-free training images: {len(x_norm)}; test images: {len(x_test)} ({(y_test == 1).sum()} with a lesion)")
pat_test = sim_test.extras["patients"]                                        # the simulated patient of each image
pat_normal = pat_test[y_test == 0]
print(f"test patients: {len(np.unique(pat_test))}, {len(np.unique(pat_normal))} of them without a lesion "
      f"({len(pat_normal) // len(np.unique(pat_normal))} images each)")

keras.utils.set_random_seed(0)
dense = ae.dense_autoencoder(784, 16, hidden=(128,), output="sigmoid")
dense.fit(x_norm.reshape(-1, 784), x_norm.reshape(-1, 784), epochs=n_epochs(20), batch_size=64, verbose=0)
keras.utils.set_random_seed(0)
conv = ae.conv_autoencoder((28, 28, 1), filters=(16, 32), code_channels=4)
conv.fit(x_norm, x_norm, epochs=n_epochs(10), batch_size=64, verbose=0)
for m in (dense, conv):
    print(f"{m.name}: {m.count_params()} parameters, code of {ae.code_size(m)} numbers (ratio {784 / ae.code_size(m):.0f})")

# %% [markdown]
# **PSNR** (peak signal-to-noise ratio) compares the mean squared error with the largest possible value $R$
# (here $R = 1$): $\mathrm{PSNR} = 10 \log_{10}(R^2 / \mathrm{MSE})$ dB; +10 dB is ten times less error.
# **SSIM** (structural similarity, Wang et al. 2004) compares local means, contrasts and correlations; 1 is
# identical. Both come from `skimage.metrics`; first the PSNR formula checked against scikit-image.

# %%
# CHECK_OUTPUT trained
from skimage.metrics import peak_signal_noise_ratio

rec_dense = dense.predict(x_test.reshape(-1, 784), verbose=0).reshape(x_test.shape)
rec_conv = conv.predict(x_test, verbose=0)
a, b = test_normal[0, ..., 0].astype("float64"), rec_conv[y_test == 0][0, ..., 0].astype("float64")
psnr_numpy = 10 * np.log10(1.0 ** 2 / np.mean((a - b) ** 2))
np.testing.assert_allclose(psnr_numpy, peak_signal_noise_ratio(a, b, data_range=1.0), rtol=1e-9)
print(f"OK: 10 log10(R^2/MSE) = {psnr_numpy:.2f} dB agrees with skimage.metrics.peak_signal_noise_ratio")

# %% [markdown]
# Compression ratio against quality on the lesion-free test images: PCA (the linear autoencoder, computed
# exactly) for many code sizes, and the two non-linear models. PCA keeps k numbers per image plus a shared basis.

# %%
# CHECK_OUTPUT trained
flat_train, flat_test = x_norm.reshape(-1, 784), test_normal.reshape(-1, 784)
pca_img = PCA(n_components=196).fit(flat_train)
curve, rec_pca_k = [], {}
for k in (4, 8, 16, 32, 64, 196):
    z = flat_test @ pca_img.components_[:k].T - pca_img.mean_ @ pca_img.components_[:k].T
    rec_pca_k[k] = np.clip((z @ pca_img.components_[:k] + pca_img.mean_).reshape(test_normal.shape), 0, 1)
    curve.append((784 / k, *ae.psnr_ssim(test_normal, rec_pca_k[k])))
curve = np.array(curve)
quality = {"PCA, k = 16": curve[2, 1:], "PCA, k = 196": curve[5, 1:],
           "dense AE, k = 16": ae.psnr_ssim(test_normal, rec_dense[y_test == 0]),
           "conv AE, k = 196": ae.psnr_ssim(test_normal, rec_conv[y_test == 0])}
for name, (p, s) in quality.items():
    print(f"{name:18s} PSNR {p:5.2f} dB   SSIM {s:.3f}")

# %% [markdown]
# The figure plots PSNR and SSIM against the compression ratio (log scale): the PCA curve (grey), and the dense
# (ratio 49) and convolutional (ratio 4) autoencoders as points. Less compression, better pictures. Look where
# the points sit relative to the curve: here PCA is at least as good in PSNR and SSIM at the same ratio.

# %%
# extra code – PSNR and SSIM against the compression ratio
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for ax, col, name in zip(axes, (1, 2), ("PSNR (dB)", "SSIM")):
    ax.plot(curve[:, 0], curve[:, col], "o-", color="#999999", label="PCA (linear autoencoder)")
    ax.plot(49, quality["dense AE, k = 16"][col - 1], "s", ms=9, label="dense autoencoder (16)")
    ax.plot(4, quality["conv AE, k = 196"][col - 1], "D", ms=9, label="convolutional autoencoder (196)")
    ax.set_xscale("log")
    ax.set_xlabel("compression ratio (784 / code size)")
    ax.set_ylabel(name)
    ax.set_title(f"{name} on lesion-free test images (simulated)")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# What the numbers mean, as pictures: top row lesion-free test images (simulated), then their reconstructions
# by PCA with 16 components, the dense autoencoder (16) and the convolutional autoencoder (196).

# %%
idx = np.arange(6)
pca16 = pca_img.inverse_transform(np.c_[pca_img.transform(flat_test[idx])[:, :16], np.zeros((6, 180))])
fig, _ = plots.image_grid(np.concatenate([test_normal[idx, ..., 0], np.clip(pca16, 0, 1).reshape(-1, 28, 28),
                                          rec_dense[y_test == 0][idx, ..., 0], rec_conv[y_test == 0][idx, ..., 0]]),
                          titles=["original"] * 6 + ["PCA 16"] * 6 + ["dense AE 16"] * 6 + ["conv AE 196"] * 6,
                          ncols=6, vmin=0, vmax=1, suptitle="Reconstructions of simulated lesion-free slices")

# %% [markdown]
# Are these differences more than chance? The 600 lesion-free test images are 30 images each of only **20 simulated
# patients** (printed above), and the images of one patient share its anatomy and scanner, so they are far fewer
# independent cases than images. We compare two models image by image (the same images for both: a paired
# comparison) and put a 95 % interval on the mean difference with a bootstrap over **patients**
# (`metrics.patient_bootstrap`: each resample draws 20 patients with replacement and keeps all their images; notebook
# 06 uses it for Dice). PSNR per image is the formula above; SSIM per image comes from scikit-image.

# %%
# CHECK_OUTPUT trained
from skimage.metrics import structural_similarity


def psnr_per_image(x: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """PSNR (dB, R = 1) of each image of a batch (N, 28, 28, 1): the numbers whose mean ae.psnr_ssim prints."""
    return 10 * np.log10(1.0 / np.mean((x.astype("float64") - rec.astype("float64")) ** 2, axis=(1, 2, 3)))


def ssim_per_image(x: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """SSIM of each image of a batch (N, 28, 28, 1), as scikit-image computes it."""
    return np.array([structural_similarity(u[..., 0], v[..., 0], data_range=1.0) for u, v in zip(x, rec)])


recs_normal = {"PCA, k = 16": rec_pca_k[16], "PCA, k = 196": rec_pca_k[196],
               "dense AE, k = 16": rec_dense[y_test == 0], "conv AE, k = 196": rec_conv[y_test == 0]}
psnr_img = {name: psnr_per_image(test_normal, rec) for name, rec in recs_normal.items()}
ssim_img = {name: ssim_per_image(test_normal, rec) for name, rec in recs_normal.items()}
for a, b in [("dense AE, k = 16", "PCA, k = 16"), ("conv AE, k = 196", "PCA, k = 196"),
             ("conv AE, k = 196", "dense AE, k = 16")]:
    d_psnr = metrics.patient_bootstrap(psnr_img[a] - psnr_img[b], pat_normal)
    d_ssim = metrics.patient_bootstrap(ssim_img[a] - ssim_img[b], pat_normal)
    print(f"{a} - {b}: PSNR {d_psnr.estimate:+.2f} dB (95% CI {d_psnr.low:+.2f} to {d_psnr.high:+.2f}), "
          f"SSIM {d_ssim.estimate:+.3f} (95% CI {d_ssim.low:+.3f} to {d_ssim.high:+.3f})")

# %% [markdown]
# **Reading the measurement honestly.** Among *linear* codes PCA is the best possible in squared error, and on
# 2,100 training images, with 10-20 epochs on a CPU, our non-linear models do not beat it: at ratios 49 and 4, the
# intervals of "autoencoder − PCA" above lie below 0, in PSNR and in SSIM, even over only 20 patients. Non-linear
# autoencoders earn their keep with more data and training, with codes that must be small, and, as step 3 shows,
# in what they *cannot* reconstruct.
#
# ### Denoising
#
# A denoising autoencoder (Vincent et al. 2008) gets a noisy image as input and the clean one as target, so
# it learns to remove the noise. We add Gaussian noise of standard deviation 0.2 (20 % of the intensity range)
# at training time, then compare with a Gaussian blur, a classical denoiser, giving the blur its best width
# among a few (chosen on the test images themselves, which favours the blur). A denoiser needs no bottleneck:
# this one keeps a 14×14×8 code (one stride-2 convolution), larger than the image; the noise is what it learns
# to leave out.

# %%
# CHECK_OUTPUT trained
from scipy import ndimage

sigma_noise = 0.2
keras.utils.set_random_seed(0)
denoiser = ae.conv_autoencoder((28, 28, 1), filters=(32,), code_channels=8)
denoiser.fit(ae.add_noise(x_norm, sigma_noise, seed=1), x_norm, epochs=n_epochs(10), batch_size=64, verbose=0)
noisy_test = ae.add_noise(test_normal, sigma_noise, seed=2)
denoised = denoiser.predict(noisy_test, verbose=0)
blur_width = max((0.8, 1.0, 1.3, 1.6), key=lambda w: ae.psnr_ssim(test_normal, ndimage.gaussian_filter(noisy_test, (0, w, w, 0)))[0])
blurred = ndimage.gaussian_filter(noisy_test, sigma=(0, blur_width, blur_width, 0))
print(f"best blur width: {blur_width} pixels")
psnr_noisy = ae.psnr_ssim(test_normal, noisy_test)
psnr_blur = ae.psnr_ssim(test_normal, blurred)
psnr_den = ae.psnr_ssim(test_normal, denoised)
for name, (p, s) in [("noisy input", psnr_noisy), ("Gaussian blur", psnr_blur), ("denoising AE", psnr_den)]:
    print(f"{name:14s} PSNR {p:5.2f} dB   SSIM {s:.3f}")
print(f"PSNR gain of the denoising autoencoder: {psnr_den[0] - psnr_noisy[0]:+.2f} dB "
      f"({psnr_den[0] - psnr_blur[0]:+.2f} dB over the blur)")

# %% [markdown]
# The same gains image by image, with a paired 95 % interval over the 20 lesion-free test patients:

# %%
# CHECK_OUTPUT trained
psnr_denoised = psnr_per_image(test_normal, denoised)
for name, other in [("noisy input", noisy_test), ("Gaussian blur", blurred)]:
    gain = metrics.patient_bootstrap(psnr_denoised - psnr_per_image(test_normal, other), pat_normal)
    print(f"PSNR denoising AE - {name}: {gain.estimate:+.2f} dB (95% CI over patients {gain.low:+.2f} to {gain.high:+.2f})")

# %% [markdown]
# Both gains are more than chance: their intervals over patients lie above 0 (and the blur had its width chosen on
# these very test images). Before and after, on lesion-free test images (simulated): clean, noisy, blurred, and
# denoised by the autoencoder.

# %%
fig, _ = plots.image_grid(np.concatenate([test_normal[idx], noisy_test[idx], blurred[idx], denoised[idx]]),
                          titles=["clean"] * 6 + ["noisy"] * 6 + ["Gaussian blur"] * 6 + ["denoising AE"] * 6,
                          ncols=6, vmin=0, vmax=1, suptitle="Denoising simulated brain slices (noise σ = 0.2)")

# %% [markdown]
# ## Step 3 · Diagnosis from the reconstruction, made precise
#
# The article's last step, "diagnose from the reconstruction", becomes **anomaly detection**: an autoencoder
# trained only on normal images reconstructs normal anatomy well and anything it never saw (a lesion) badly.
# The anomaly score of an image is its mean squared reconstruction error
# $s(x) = \frac{1}{P}\sum_{p}(x_p - x'_p)^2$; the **error map** $(x_p - x'_p)^2$, smoothed by a Gaussian of
# 1.5 pixels (about a lesion's radius), shows where. No lesion label is used in training: the labels only
# score the detector, with ROC and AUC (lesion = positive class). Two scores per model: the mean error, and
# the peak of the smoothed error map.

# %%
# CHECK_OUTPUT trained
x_img = x_test[..., 0]
results = {}
rec_pca = np.clip(pca_img.inverse_transform(np.c_[pca_img.transform(x_test.reshape(-1, 784))[:, :16],
                                                  np.zeros((len(x_test), 180))]), 0, 1).reshape(x_test.shape)
for name, rec in [("PCA (16)", rec_pca), ("dense AE (16)", rec_dense), ("conv AE (196)", rec_conv)]:
    maps = ae.error_maps(x_img, rec, sigma=1.5)
    results[name] = {"mean error": ae.reconstruction_errors(x_img, rec[..., 0]),
                     "map peak": maps.reshape(len(maps), -1).max(axis=1), "maps": maps}
    s_numpy = ((x_img - rec[..., 0].astype("float64")) ** 2).mean(axis=(1, 2))   # s(x) = 1/P sum_p (x_p - x'_p)^2
    np.testing.assert_allclose(results[name]["mean error"], s_numpy, rtol=1e-6)
    for score in ("mean error", "map peak"):
        print(f"{name:14s} {score:10s}: test AUC {roc_auc_score(y_test, results[name][score]):.3f}")
print("OK: the anomaly score s(x) in NumPy agrees with ae.reconstruction_errors")

# %% [markdown]
# The 1,200 test images are 30 images each of 40 simulated patients (20 with a lesion), so each autoencoder is
# compared with PCA, the baseline, by a paired interval of the AUC difference over **patients**
# (`metrics.paired_bootstrap_auc(..., patients=...)`: each resample draws 20 sick and 20 healthy patients with
# replacement and keeps all their images). The last line resamples images instead, as if they were independent.

# %%
# CHECK_OUTPUT trained
for name in ("dense AE (16)", "conv AE (196)"):
    for score in ("mean error", "map peak"):
        d = metrics.paired_bootstrap_auc(y_test, results[name][score], results["PCA (16)"][score], patients=pat_test)
        print(f"{name:14s} - PCA (16), {score:10s}: AUC {d.estimate:+.3f} (95% CI over patients {d.low:+.3f} to "
              f"{d.high:+.3f})")
d = metrics.paired_bootstrap_auc(y_test, results["dense AE (16)"]["mean error"], results["PCA (16)"]["mean error"])
print(f"dense AE (16) - PCA (16), mean error, images as if independent: 95% CI {d.low:+.3f} to {d.high:+.3f}")

# %% [markdown]
# ROC curves of the six scores on the **simulated** test set.

# %%
# extra code – all six ROC curves in one figure
fig, ax = plt.subplots(figsize=(6.4, 5.4))
for name in results:
    for score in ("mean error", "map peak"):
        fig, ax = plots.roc_curve(y_test, results[name][score], label=f"{name}, {score}", ax=ax,
                                  title="Lesion detection by reconstruction error (simulated)")

# %% [markdown]
# **Does the error map point at the lesion?** The simulation knows where each lesion is. We count a hit when
# the map's peak lies within the lesion's radius + 1.5 pixels of its true centre, and compare with the hit rate
# of a peak placed at random (the area of that disc divided by the image area).

# %%
# CHECK_OUTPUT trained
lesion = y_test == 1
centers, radii = sim_test.extras["lesion_centers"][lesion], sim_test.extras["lesion_radii"][lesion]
rows, cols = np.mgrid[:28, :28]
chance = np.mean([np.mean(np.hypot(rows - r, cols - c) <= rad + 1.5) for (r, c), rad in zip(centers, radii)])
for name in results:
    hits = explain.pointing_game(results[name]["maps"][lesion], centers, radii, tolerance=1.5)
    ci = metrics.patient_bootstrap(hits.astype(float), pat_test[lesion])   # over the 20 patients with a lesion
    print(f"{name:14s}: error-map peak on the lesion in {hits.mean():.3f} of {lesion.sum()} lesion images "
          f"(95% CI over patients {ci.low:.3f} to {ci.high:.3f})")
print(f"random peak  : {chance:.3f}")

# %% [markdown]
# The figure shows eight **simulated** test images with a lesion (top; orange ring = true lesion), and below
# each the dense autoencoder's error map overlaid in colour, with its peak marked ×.

# %%
show = np.where(lesion)[0][:8]
fig, _ = plots.error_map_grid(x_img[show], results["dense AE (16)"]["maps"][show], circles=sim_test.lesion_rings(show),
                              suptitle="Where the dense autoencoder fails to reconstruct (simulated lesions)")

# %% [markdown]
# A lesson in the numbers: the convolutional autoencoder keeps 196 numbers per image, so it reconstructs far
# better than the dense autoencoder with 16 (its PSNR interval against it in step 2 lies above 0), though PCA with
# the same 196 numbers does better still: it is not the better compressor, and by the peak of its error map it is
# the **worse detector** (its AUC interval against PCA lies below 0; by the mean error, 40 patients cannot tell it
# from PCA), and its map peak lands on the lesion little more often than a random one. It reconstructs small local
# blobs, lesions included, so they leave little error; the models with a 16-number code (PCA or dense) can only
# redraw typical anatomy, and the lesion is what they leave out. An anomaly detector needs a bottleneck that normal
# images pass and abnormal ones don't. Does the non-linearity add anything on top of PCA? By the map peak, the dense
# autoencoder's interval against PCA lies above 0. By the mean error it includes 0, although resampling the 1,200
# images as if they were independent would have claimed a gain (the last line of the intervals): 30 images of one
# patient are not 30 independent cases, and 40 patients cannot confirm that gain. (Baur et al. 2021
# compare many such models on real brain MRI.) The detector also misses: the anatomy's own edges and texture
# give errors of the size of a faint or small lesion.
#
# ### The same on the breast cancer features (real)
#
# Train on **benign** patients only (label 1), standardised with their statistics; score the test patients;
# malignant (label 0) is the positive class here, so we pass `pos_label=0` to the ROC.

# %%
# CHECK_OUTPUT trained
benign = bc_train.x[bc_train.y == 1]
scaler_b = StandardScaler().fit(benign)
xb_benign, xb_test_b = scaler_b.transform(benign).astype("float32"), scaler_b.transform(bc_test.x).astype("float32")
keras.utils.set_random_seed(0)
dense_bc = ae.dense_autoencoder(30, 4, hidden=(16,), compile=False)
ae.fit_full_batch(dense_bc, xb_benign, steps=300, learning_rate=0.01)
score_bc = ae.reconstruction_errors(xb_test_b, dense_bc.predict(xb_test_b, verbose=0))
pca_b = PCA(n_components=4).fit(xb_benign)
score_pca = ae.reconstruction_errors(xb_test_b, pca_b.inverse_transform(pca_b.transform(xb_test_b)))
print(f"trained on {len(benign)} benign patients; test: {(bc_test.y == 0).sum()} malignant, {(bc_test.y == 1).sum()} benign")
print(f"test AUC (malignant = positive): dense autoencoder {roc_auc_score(bc_test.y == 0, score_bc):.3f}, "
      f"PCA (4 components) {roc_auc_score(bc_test.y == 0, score_pca):.3f}")
d_bc = metrics.paired_bootstrap_auc(bc_test.y, score_bc, score_pca, pos_label=0)   # malignant = positive
print(f"difference autoencoder - PCA (one case per patient): {d_bc}")

# %% [markdown]
# Each row of this set is one patient (one aspirate), so the bootstrap over rows is one over patients: the interval
# of the difference includes 0, and on 114 test patients the autoencoder and PCA cannot be told apart. ROC curves on
# the real breast cancer test set, malignant as the positive class.

# %%
fig, ax = plots.roc_curve(bc_test.y, score_bc, label="dense autoencoder", pos_label=0,
                          title="Malignancy as anomaly (real WDBC features)")
fig, ax = plots.roc_curve(bc_test.y, score_pca, label="PCA, 4 components", pos_label=0, ax=ax)

# %% [markdown]
# ## Step 4 · Real patients: pneumonia as an anomaly on chest X-rays
#
# The same recipe on real chest X-rays (PneumoniaMNIST, which ships with the course): fit the models on the
# **normal** training images only (label 0: 1,214 children without pneumonia), score every test X-ray by its mean
# reconstruction error, and ask how well that score separates pneumonia (label 1) from normal. The baseline is
# the one this notebook taught first: **PCA** with the same code size (16 numbers), which needs no training loop.
# Both are compared on the same 624 test images with a paired bootstrap, so we can say whether the difference is
# more than chance. MedMNIST released no patient ids, so the bootstrap resamples X-rays one by one, each counted as
# its own patient; if some children gave several X-rays, these intervals are somewhat too narrow.

# %%
# CHECK_OUTPUT
pn_train, pn_test = data.load("pneumoniamnist", "train"), data.load("pneumoniamnist", "test")
xp = pn_train.x[pn_train.y == 0].reshape(-1, 784).astype("float32") / 255
xp_test = pn_test.x.reshape(-1, 784).astype("float32") / 255
print(f"PneumoniaMNIST (real): {len(xp)} normal training X-rays; test {len(pn_test.y)} "
      f"({int(pn_test.y.sum())} pneumonia, {int((pn_test.y == 0).sum())} normal)")

# %%
# CHECK_OUTPUT trained
keras.utils.set_random_seed(0)
dense_pn = ae.dense_autoencoder(784, 16, hidden=(128,), output="sigmoid")
dense_pn.fit(xp, xp, epochs=n_epochs(20), batch_size=64, verbose=0)
score_ae_pn = ae.reconstruction_errors(xp_test, dense_pn.predict(xp_test, verbose=0))
pca_pn = PCA(n_components=16, random_state=0).fit(xp)
score_pca_pn = ae.reconstruction_errors(xp_test, pca_pn.inverse_transform(pca_pn.transform(xp_test)))
print(f"dense AE (16), mean error: test AUC {metrics.bootstrap_auc(pn_test.y, score_ae_pn)}")
print(f"PCA (16),      mean error: test AUC {metrics.bootstrap_auc(pn_test.y, score_pca_pn)}")
print(f"difference AE - PCA:       {metrics.paired_bootstrap_auc(pn_test.y, score_ae_pn, score_pca_pn)}")

# %% [markdown]
# The ROC curves of the two anomaly scores on the real test X-rays: true-positive rate (pneumonia flagged) against
# false-positive rate (normal X-rays flagged), one curve per model; the diagonal is chance.

# %%
# extra code – both ROC curves in one figure
fig, ax = plots.roc_curve(pn_test.y, score_ae_pn, label="dense AE (16), mean error")
plots.roc_curve(pn_test.y, score_pca_pn, label="PCA (16), mean error", ax=ax,
                title="Pneumonia as an anomaly (real PneumoniaMNIST test set)")
plt.show()

# %% [markdown]
# **Read the numbers above, not a hope.** On real chest X-rays, "diagnosis from the reconstruction" hardly works:
# the autoencoder's score is only a little better than a coin toss (its interval lies above 0.5, but not far), and
# PCA's is no better than one: its estimate lies below 0.5 and its interval hardly reaches 0.5, so if anything,
# X-rays with pneumonia are reconstructed slightly **better** than normal ones. That is no bug: pneumonia makes an
# X-ray hazier and lower in contrast, and a blurry image is easy to reconstruct; the normal lungs' sharp ribs and
# vessels are what costs error. "Unusual" is not the same as "diseased". The simulated lesions of step 3 were
# bright or dark spots added to normal anatomy, exactly what reconstruction error is good at; real disease need
# not be. A classifier that sees the labels (notebook 01 trains one on the same images) does far better, and
# anomaly detection is worth its name only where anomalies look like additions, and only after it has been
# measured, as here.

# %% [markdown]
# ## Summary
#
# - The article's autoencoder ($h = W_e x + b_e$, $x' = W_d h + b_d$) has no non-linearity, and it learns
#   PCA's subspace: principal angles close to zero on the real breast cancer features and on simulated image
#   patches, and the same reconstruction error. It finds PCA's plane, not PCA's axes.
# - Non-linear (dense, convolutional) autoencoders compress images; PSNR and SSIM measure the price, and PCA
#   is the baseline to beat (with short CPU training, it was not beaten here). A denoising autoencoder, trained
#   on noisy inputs and clean targets, gains several dB of PSNR and does better than the best Gaussian blur.
# - A test set of images is a set of patients: the 1,200 simulated test images are 40 patients, so the comparisons
#   of steps 2 and 3 have paired intervals that resample patients, not images; resampling images as if independent
#   claimed a gain of the dense autoencoder over PCA that 40 patients cannot confirm.
# - "Diagnosis from the reconstruction" is anomaly detection: train on normal images only, score by
#   reconstruction error, evaluate with ROC/AUC. On the simulated lesions it works in part, its error map often
#   points at the lesion, and a tight bottleneck matters more than picture quality.
# - On **real** chest X-rays (PneumoniaMNIST), the same anomaly score barely beat chance and PCA's did not beat it:
#   pneumonia makes X-rays smoother, so they reconstruct, if anything, *better*. Measure an anomaly detector on the disease you
#   care about before trusting it.
# - Everything on SimLesion2D is **simulated**; the breast cancer and chest X-ray numbers are on real data.
#
# ## Exercises

# %% [markdown] tags=["exercise"]
# **Exercise 1.** Show that the linear autoencoder's code is defined only up to an invertible 2×2 matrix
# $A$: replace $W_e$ by $A W_e$ (and $b_e$ by $A b_e$) and $W_d$ by $W_d A^{-1}$, and check that the
# reconstructions and the principal angles do not change. What does this say about reading the two code
# numbers as "PC 1" and "PC 2"?

# %% tags=["solution"] jupyter={"source_hidden": true}
# CHECK_OUTPUT trained
A = np.array([[2.0, 1.0], [-0.5, 1.5]])                      # any invertible matrix
W_e2, b_e2, W_d2 = A @ W_e, A @ b_e, W_d @ np.linalg.inv(A)
x_rec2 = (xb_test @ W_e2.T + b_e2) @ W_d2.T + b_d
np.testing.assert_allclose(x_rec2, x_rec, atol=1e-4)
print("same reconstructions: OK")
print("angles after the mix (degrees):", np.round(ae.principal_angles(W_d2.T, pca_bc.components_), 1))
# The loss sees only x', so every A gives the same loss: training can end at any of them. The span (the plane)
# is determined, the axes are not; PCA picks orthogonal axes ordered by variance, the autoencoder has no reason to.

# %% [markdown] tags=["exercise"]
# **Exercise 2.** Which simulated lesions does the dense autoencoder find? Split the lesion images of the
# test set by lesion radius (below / above the median) and by contrast sign (bright / dark, from
# `sim_test.extras["lesion_contrasts"]`), and report the hit rate of the error-map peak (tolerance 1.5 px, as in
# step 3) and the AUC of the map-peak score (against all lesion-free test images) for each group, as
# `answer = {"small": (hit_rate, auc), "large": ..., "bright": ..., "dark": ...}`.

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_lesion_groups(answer, results['dense AE (16)']['maps'], results['dense AE (16)']['map peak'], lesion, centers, radii, sim_test.extras['lesion_contrasts'][lesion])"
# CHECK_OUTPUT trained
from helpers.checks import check_lesion_groups

maps_d, peak_d = results["dense AE (16)"]["maps"], results["dense AE (16)"]["map peak"]
contrast = sim_test.extras["lesion_contrasts"][lesion]
hits_d = explain.pointing_game(maps_d[lesion], centers, radii, tolerance=1.5)
groups = {"small": radii <= np.median(radii), "large": radii > np.median(radii),
          "bright": contrast > 0, "dark": contrast < 0}
answer = {}
for gname, g in groups.items():
    y_g = np.r_[np.zeros((~lesion).sum()), np.ones(g.sum())]
    s_g = np.r_[peak_d[~lesion], peak_d[lesion][g]]
    answer[gname] = (hits_d[g].mean(), roc_auc_score(y_g, s_g))
    print(f"{gname:6s} ({g.sum():3d} images): hit rate {answer[gname][0]:.3f}, AUC {answer[gname][1]:.3f}")
check_lesion_groups(answer, maps_d, peak_d, lesion, centers, radii, contrast)
# Large lesions are found more often: they change more pixels than the anatomy's own edges do.

# %% [markdown] tags=["exercise"]
# **Exercise 3.** For the breast cancer detector, pick the threshold on the reconstruction error that flags
# 95 % of the benign *training* patients as normal (the 95th percentile of their scores); call it `threshold`.
# What fraction of malignant and of benign test patients does it flag (a patient is flagged when `score_bc >
# threshold`)? Give the test sensitivity and specificity for malignancy (**label 0 = malignant** in this set) as
# `answer = (sensitivity, specificity)` and run the checker. Why is fixing the threshold on benign data alone natural
# for anomaly detection?

# %% tags=["solution"] jupyter={"source_hidden": true}
# CHECK_OUTPUT trained
train_scores = ae.reconstruction_errors(xb_benign, dense_bc.predict(xb_benign, verbose=0))
threshold = np.percentile(train_scores, 95)
flagged = score_bc > threshold
print(f"threshold {threshold:.3f}: flags {flagged[bc_test.y == 0].mean():.3f} of malignant (sensitivity) and "
      f"{flagged[bc_test.y == 1].mean():.3f} of benign test patients")
# The detector never sees a malignant case in training, so the only threshold it can set without them is one
# that bounds the false alarms on normal cases. Training scores are optimistic (the model saw them), so the
# benign test patients are flagged more often than 5 %; a validation split of benign cases gives a fairer threshold.

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_sensitivity_specificity(answer, bc_test.y, np.where(score_bc > threshold, 0, 1), pos_label=0)"
from helpers.checks import check_sensitivity_specificity

answer = (flagged[bc_test.y == 0].mean(), 1 - flagged[bc_test.y == 1].mean())
check_sensitivity_specificity(answer, bc_test.y, np.where(score_bc > threshold, 0, 1), pos_label=0)

# %% [markdown]
# ## References
# - Bourlard H, Kamp Y (1988) Auto-association by multilayer perceptrons and singular value decomposition.
#   *Biological Cybernetics* 59:291-294.
# - Baldi P, Hornik K (1989) Neural networks and principal component analysis: learning from examples without
#   local minima. *Neural Networks* 2(1):53-58.
# - Vincent P et al. (2008) Extracting and composing robust features with denoising autoencoders. *ICML*,
#   1096-1103.
# - Wang Z et al. (2004) Image quality assessment: from error visibility to structural similarity. *IEEE Trans.
#   Image Processing* 13(4):600-612 (SSIM).
# - Baur C et al. (2021) Autoencoders for unsupervised anomaly segmentation in brain MR images: a comparative
#   study. *Medical Image Analysis* 69:101952.
# - Street WN, Wolberg WH, Mangasarian OL (1993) Nuclear feature extraction for breast tumor diagnosis.
#   *Proc. SPIE* 1905:861-870.
# - Yang J et al. (2023) MedMNIST v2. *Scientific Data* 10:41.
