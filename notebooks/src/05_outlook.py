# %% [markdown]
# # 05 · Outlook: where does the network look, and the article's trends as small experiments
#
# The source article ends (sections 5 and 6) with challenges and trends: bigger and *better* data,
# more complex algorithms that are *harder to interpret*, multimodal fusion, personalised diagnosis and
# generated images. It names them; this notebook **measures** four of them on data where the truth is known, says
# what personalised diagnosis would need (step 5), and ends with the article's question of which architecture suits
# which task (step 8).
#
# **Learning objectives.** After this notebook you can
# 1. compute a Grad-CAM map and a gradient saliency map for a Keras CNN, and say which layer to use and why;
# 2. *score* an explanation against the known lesion position (the pointing game), and see that a good
#    classifier does not guarantee a good explanation, nor the other way round;
# 3. measure how label noise (wrong diagnoses in the training set) costs test AUC;
# 4. build a two-input Keras model that fuses an image with a tabular measurement;
# 5. train a small variational autoencoder, sample from it, and say what synthetic medical images are
#    and are not good for.
#
# **Prerequisites.** Notebook 01 (the article's CNN), notebook 04 (ROC/AUC). Gradients with
# `tf.GradientTape` are explained where they are used.
#
# **Measured runtime:** 118 s, peak memory 1.4 GiB (offline, 2-core CPU with AVX-512, TF_ENABLE_ONEDNN_OPTS=0, TF_NUM_INTRAOP_THREADS=2, empty cache; `python tools/benchmark.py`, 2026-11-27)
#
# Terms in Chinese and English: [glossary](../docs/GLOSSARY.md).
#
# All images here come from the course's **simulated** lesion set `simlesion2d`: real MNI152 brain anatomy
# with synthetic lesions placed at known positions. Simulated data lets us check an explanation
# against the truth, which real data rarely allows.

# %% [markdown]
# ## Set-up
# `start(seed=0)` fixes every seed, makes TensorFlow deterministic and gives it one set of CPU kernels and threads
# (oneDNN off, 2 threads): run again on this computer, every number below comes out the same. On another computer,
# numbers that come out of training (AUCs, losses, counts of errors) may differ a little from the stored ones;
# formula checks, data sizes and parameter counts are the same everywhere ([why](../README.md#same-numbers)).
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
import tensorflow as tf
from keras import layers
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from helpers import data, explain, metrics, models, outlook, plots
from helpers import train as recipes  # `train` names the training split below

# %% [markdown]
# ## Step 1 · Data and a trained CNN
# We load the simulated set (label 1 = lesion) and train the article's CNN with notebook 01's recipe,
# `train.cached_fit("article", ...)` (inputs divided by 255, adam, batch 64, 10 epochs; notebooks 02 and 06 train the
# same model, so after one of them it comes from the course's model cache). The training keeps the weights after
# every epoch (`history.weights_after`): those after the first epoch are our **poorly trained** model, the same
# network before it has learnt much.

# %%
# CHECK_OUTPUT
train = data.load("simlesion2d", "train")
test = data.load("simlesion2d", "test")
x_train, y_train = train.x[..., None] / 255.0, train.y
x_test, y_test = test.x[..., None] / 255.0, test.y
print(train, test, sep="\n")
print("SIMULATED:", train.info.simulated, "| lesion share in test:", round(float(y_test.mean()), 3))

# %%
# CHECK_OUTPUT trained
EPOCHS = n_epochs(10)
model, history = recipes.cached_fit("article", train.x, train.y, dataset="simlesion2d", seed=0)  # notebook 02's
cnn = model.get_layer("article_cnn")  # the CNN itself, which takes pixels / 255
cnn_1 = models.article_cnn((28, 28, 1), 2)
cnn_1.set_weights(history.weights_after[1])  # the same network after its first epoch

p_image = cnn.predict(x_test, verbose=0)[:, 1]
auc = {"after 1 epoch": roc_auc_score(y_test, cnn_1.predict(x_test, verbose=0)[:, 1]),
       f"after {EPOCHS} epochs": roc_auc_score(y_test, p_image)}
for name, value in auc.items():
    print(f"test AUC {name}: {value:.3f}")

# %% [markdown]
# ## Step 2 · Grad-CAM, and which layer to ask
# Grad-CAM (Selvaraju et al., 2017) weighs each feature map $A^k$ of a convolutional layer by how much
# the class score $y^c$ (before the softmax) rises when that map rises, averaged over its $Z$ pixels:
#
# $$\alpha_k^c = \frac{1}{Z}\sum_{i,j}\frac{\partial y^c}{\partial A^k_{ij}}, \qquad
#   L^c_{\text{Grad-CAM}} = \operatorname{ReLU}\Big(\sum_k \alpha_k^c A^k\Big).$$
#
# The map has the layer's resolution. The article's CNN uses "valid" convolutions and two poolings, so on
# a 28×28 input its feature maps shrink fast. The cell prints each conv layer's map size and where its
# pixels sit in the input (stride and offset of their receptive-field centres):

# %%
# CHECK_OUTPUT
conv_names = explain.conv_layers(cnn)
for k, name in enumerate(conv_names, start=1):
    h, w = cnn.get_layer(name).output.shape[1:3]
    stride, offset = explain.feature_geometry(cnn, name)
    print(f"conv {k}: map {h}×{w}, pixel i sits on input pixel {offset:g} + {stride:g}·i")

# %% [markdown]
# The **last** conv layer, the usual Grad-CAM choice, has a 3×3 map: each of its pixels stands for a
# block of input pixels far larger than a lesion (the stride printed above, and more at the edges), so its
# maximum can say "upper left", not "here". The **second** conv layer (11×11)
# is still "deep" (it combines two layers of features) and much finer. We compute both and let the
# pointing game decide. A second detail matters at this scale: a plain resize stretches the 11×11 map over
# 28×28 and shifts it by up to a few pixels; `explain.upsample` instead puts each feature pixel on the
# input pixel its receptive field is centred on.
#
# `explain.grad_cam(model, images, layer=1)` takes the layer by name or by its position among the conv
# layers (0 = first), because Keras numbers layer names per session (`conv2d_4`...).
#
# First, the formula by hand for a few test images (tape, gradient, mean, weighted sum, ReLU), checked
# against `helpers.explain.grad_cam`. The score $y^c$ is the last Dense layer's output before the softmax;
# we also check that the softmax of that score gives back the model's probabilities.

# %%
# CHECK_OUTPUT
layer = conv_names[1]
x_few = tf.constant(x_test[y_test == 1][:4], dtype=tf.float32)
twin = keras.Model(cnn.inputs, [cnn.get_layer(layer).output, cnn.layers[-2].output])
W, b = cnn.layers[-1].get_weights()
with tf.GradientTape() as tape:
    A, penultimate = twin(x_few)
    scores = penultimate @ W + b                    # y (before the softmax), both classes
    y_c = scores[:, 1]                              # class 1 = lesion
grads = tape.gradient(y_c, A).numpy()
alpha = grads.mean(axis=(1, 2))                     # alpha_k = 1/Z sum_ij dy/dA_ij
cam_by_hand = np.maximum(np.einsum("nk,nijk->nij", alpha, A.numpy()), 0)
cam_by_hand = explain.normalize_maps(explain.upsample(cam_by_hand, (28, 28), *explain.feature_geometry(cnn, layer)))

np.testing.assert_allclose(tf.nn.softmax(scores).numpy(), cnn(x_few).numpy(), atol=1e-5)
np.testing.assert_allclose(cam_by_hand, explain.grad_cam(cnn, x_few.numpy(), layer), atol=1e-5)
print("OK: softmax(score) = model output; formula by hand = explain.grad_cam")

# %% [markdown]
# A simpler map for comparison is **gradient saliency** (Simonyan et al., 2014): $|\partial y^c / \partial x|$
# for every input pixel, i.e. which pixels would change the score most if nudged. No layer to choose,
# full resolution, but often noisy.
#
# The figure shows six simulated test images with a lesion (top row), and for the well-trained CNN its
# Grad-CAM on the last conv layer, on the second conv layer, and its saliency map (rows below), in colour
# over the image. The blue ring marks the true lesion, the green cross each map's maximum.

# %%
pos = y_test == 1
x_pos = x_test[pos]
centers, radii = test.extras["lesion_centers"][pos], test.extras["lesion_radii"][pos]
rings = test.lesion_rings(np.flatnonzero(pos))  # (row, col, radius) of each lesion image's lesion
maps = {
    "Grad-CAM conv 3 (3×3)": explain.grad_cam(cnn, x_pos, layer=2),
    "Grad-CAM conv 2 (11×11)": explain.grad_cam(cnn, x_pos, layer=1),
    "saliency": explain.saliency(cnn, x_pos),
}
show = np.arange(6) * 7  # six of the lesion images
fig, axes = plots.explanation_grid(x_pos[show], {name: m[show] for name, m in maps.items()},
                                   circles=[rings[i] for i in show], image_label="simulated image",
                                   suptitle="Where the well-trained CNN looks (ring: true lesion, cross: map maximum)")

# %% [markdown]
# ## Step 3 · The pointing game: scoring explanations against the truth
# For every test image with a lesion we ask: does the map's maximum fall inside the lesion (within its
# radius plus a tolerance of one pixel, since lesions are only a few pixels wide)? The share of hits is the
# pointing-game score (Zhang et al., 2016). **Chance level** is the score of a random pixel: the average
# share of the image covered by the lesion.
#
# We score the well-trained and the poorly trained model, with Grad-CAM on conv 3 and conv 2 (aligned and
# plainly stretched) and with saliency.

# %%
# not compared by the tests: these trained numbers move by more than the tolerance between machines
TOL = 1.0
methods = {
    "Grad-CAM conv 3": lambda m: explain.grad_cam(m, x_pos, layer=2),
    "Grad-CAM conv 2, stretched": lambda m: explain.grad_cam(m, x_pos, layer=1, aligned=False),
    "Grad-CAM conv 2, aligned": lambda m: explain.grad_cam(m, x_pos, layer=1),
    "saliency": lambda m: explain.saliency(m, x_pos),
}
models_to_score = {"1 epoch": cnn_1, f"{EPOCHS} epochs": cnn}
hits = {(mname, meth): explain.pointing_game(f(model), centers, radii, TOL)
        for mname, model in models_to_score.items() for meth, f in methods.items()}
chance = explain.chance_hit_rate((28, 28), centers, radii, TOL)

# extra code – the scores as a table
print(f"pointing game on {pos.sum()} simulated test images with a lesion (tolerance {TOL:g} px)")
print(f"{'method':28s}" + "".join(f"{m:>12s}" for m in models_to_score))
for meth in methods:
    print(f"{meth:28s}" + "".join(f"{hits[(m, meth)].mean():12.3f}" for m in models_to_score))
print(f"{'random pixel (chance)':28s}{chance:12.3f}")

# %% [markdown]
# The bar chart shows the same table: pointing-game score per method (groups) for the poorly and the
# well-trained model (colours), with chance level as a dashed line.

# %%
# extra code – the table as grouped bars
fig, ax = plt.subplots(figsize=(7.0, 3.6))
width = 0.38
for k, mname in enumerate(models_to_score):
    ax.bar(np.arange(len(methods)) + (k - 0.5) * width, [hits[(mname, m)].mean() for m in methods],
           width, label=f"CNN after {mname}")
ax.axhline(chance, ls="--", color="grey", label="random pixel")
ax.set_xticks(np.arange(len(methods)), [m.replace(", ", ",\n") for m in methods], fontsize=8)
ax.set_ylabel("share of lesions hit")
ax.set_xlabel("explanation method")
ax.set_ylim(0, 1)
ax.set_title("Pointing game on the simulated test set")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# What the table says:
# - The layer matters more than the method's name. Grad-CAM on the 3×3 last layer is barely above chance
#   even for the well-trained model: its map is too coarse to point at a lesion a few pixels wide.
# - On conv 2, aligning the map to the receptive fields is worth a large share of hits over a plain stretch.
# - Gradient saliency, the simplest map, points best for the well-trained model: lesions are small, and a
#   full-resolution map wins on small targets. For the poorly trained model it does not: its gradients
#   carry little yet.
# - Maps of the poorly trained model still hit lesions more often than chance: a bright or dark blob
#   changes early features whatever the training. A plausible-looking map is not proof that the model has
#   learnt the right thing (Adebayo et al., 2018, show saliency maps that barely change when the weights are
#   randomised).
#
# Pictures of hits and misses (Grad-CAM conv 2, aligned, well-trained CNN): top row hits, bottom row
# misses, each titled with the model's lesion probability. The next cell compares the two groups: misses are
# mostly images on which the model itself is unsure, and their lesions are slightly smaller and fainter.

# %%
h = hits[(f"{EPOCHS} epochs", "Grad-CAM conv 2, aligned")]
cam2 = maps["Grad-CAM conv 2 (11×11)"]
p_pos = p_image[pos]
picks = [np.flatnonzero(h)[:6], np.flatnonzero(~h)[:6]]
# extra code – six hits (top) and six misses (bottom)
fig, axes = plt.subplots(2, 6, figsize=(9.6, 3.8))
for row, idx in enumerate(picks):
    for col, i in enumerate(idx):
        plots.overlay(axes[row, col], x_pos[i], cam2[i], circle=rings[i],
                      title=f"{'hit' if row == 0 else 'miss'}, p={p_pos[i]:.2f}")
fig.suptitle("Grad-CAM (conv 2) on simulated lesions: hits (top) and misses (bottom)")
fig.tight_layout()

# %%
# CHECK_OUTPUT trained
contrast = np.abs(test.extras["lesion_contrasts"][pos])
print(f"mean |contrast| of hits {contrast[h].mean():.3f}, of misses {contrast[~h].mean():.3f}")
print(f"mean radius (px) of hits {radii[h].mean():.2f}, of misses {radii[~h].mean():.2f}")
print(f"mean lesion probability of hits {p_pos[h].mean():.3f}, of misses {p_pos[~h].mean():.3f}")

# %% [markdown]
# ## Step 4 · Data quality: training with wrong labels
# The article expects performance to grow with the *size and quality* of data sets. Quality can be
# measured: we flip a share $\varepsilon$ of the training labels at random (a diagnosis recorded wrongly),
# train the same CNN, and score it on the *correct* test labels.
#
# With symmetric noise, the label a model sees is 1 with probability
# $\tilde p(x) = \varepsilon + (1 - 2\varepsilon)\,p(x)$, where $p(x)$ is the true probability. For
# $\varepsilon < 0.5$ this is an increasing function of $p(x)$, so the best possible *ranking* (and AUC) is
# unchanged: with infinite data, noise would cost nothing. With finite data, it costs. First the check that
# the flipped labels follow the formula (for true label 1, $\tilde p = 1-\varepsilon$; for 0, $\tilde p=\varepsilon$).
#
# A kind correction to the article's FAQ: it lists "less need for manual labelling" as an advantage of
# deep learning. Deep learning removes hand-made *features*, not labels: a supervised CNN needs many
# labelled images, and, as measured here, correct ones.

# %%
# CHECK_OUTPUT
NOISE = (0.0, 0.1, 0.3)
noisy = {eps: outlook.flip_labels(y_train, eps, seed=1) for eps in NOISE}
for eps in NOISE:
    p_tilde = [noisy[eps][y_train == c].mean() for c in (0, 1)]
    np.testing.assert_allclose(p_tilde, [eps + (1 - 2 * eps) * 0, eps + (1 - 2 * eps) * 1], atol=0.03)
    print(f"eps={eps:.1f}: share of noisy label 1 among true 0 / true 1 = {p_tilde[0]:.3f} / {p_tilde[1]:.3f}  OK")

# %%
# CHECK_OUTPUT trained
patients = test.extras["patients"]  # one id per image: the intervals below draw patients, not images
noise_p = {0.0: p_image}                                    # the clean model of step 1
for eps in NOISE[1:]:
    model = recipes.fit("article", train.x, noisy[eps], epochs=EPOCHS, seed=0)[0].get_layer("article_cnn")
    noise_p[eps] = model.predict(x_test, verbose=0)[:, 1]
noise_auc = {eps: roc_auc_score(y_test, p) for eps, p in noise_p.items()}


def paired_gain(a, b):
    """AUC(a) − AUC(b) on the same test images, with a paired 95 % interval that draws patients (notebook 04)."""
    d = metrics.paired_bootstrap_auc(y_test, a, b, patients=patients)
    return f"{d.estimate:+.3f} (95% CI {d.low:+.3f} to {d.high:+.3f})"


def noise_row(eps):
    loss = "" if eps == 0 else paired_gain(p_image, noise_p[eps])
    return f"{eps:13.0%}  {noise_auc[eps]:8.3f}  {loss}"


print(f"on {len(y_test)} simulated test images of {len(np.unique(patients))} patients")
print("flipped share  test AUC  loss against clean labels (paired, patient-level 95% CI)")
for eps in NOISE[:-1]:
    print(noise_row(eps))

# %%
# not compared by the tests: these trained numbers move by more than the tolerance between machines
print(noise_row(NOISE[-1]))  # the largest share: whether training takes off at all depends on the machine

# %% [markdown]
# Each loss comes with a paired interval drawn **by patient**: the three models score the same test images, and
# all images of one simulated patient go into a resample together (they are alike, so resampling images as if
# independent would give too narrow an interval). Read off the table whether each loss's interval excludes 0
# before calling it a cost of the noise. With the largest share flipped, compare the AUC with chance: noise does
# not only blur the answer, it can keep training from taking off within the article's epochs. That row stands apart
# above: how far this training gets in 10 epochs depends on the machine's arithmetic (another CPU lands elsewhere
# between chance and the 10 % row), so the tests do not compare it. The plot shows test AUC (y) against the share
# of flipped training labels (x) for the article's CNN.

# %%
# extra code – test AUC against the share of flipped labels
fig, ax = plt.subplots(figsize=(4.6, 3.4))
ax.plot([100 * e for e in noise_auc], list(noise_auc.values()), marker="o")
ax.axhline(0.5, ls="--", color="grey", label="chance")
ax.set_xlabel("training labels flipped (%)")
ax.set_ylabel("test AUC")
ax.set_ylim(0.45, 1.0)
ax.set_title("Label noise costs test AUC (simulated lesions)")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Step 5 · Multimodal fusion: image plus a blood test
# Doctors rarely diagnose from one image alone. We add a **simulated** blood marker: each patient has one
# value drawn from $\mathcal N(\Delta\cdot y, 1)$ (higher on average when there is a lesion, but the two
# groups overlap), plus a little noise per visit. It is informative on its own but weak; the image is strong
# but misses faint lesions; the two are independent given the diagnosis, so together they should do better.
#
# A Keras *functional* model can take both: the image goes through the article's conv layers to a
# 64-number summary, the marker is appended to it, and one Dense layer decides.

# %%
# CHECK_OUTPUT trained
SEPARATION = 1.0
m_train = outlook.simulated_marker(y_train, train.extras["patients"], SEPARATION)
m_test = outlook.simulated_marker(y_test, test.extras["patients"], SEPARATION)


def fusion_cnn():
    """The article's CNN for the image, with a tabular input joined before the last layer."""
    image = keras.Input((28, 28, 1), name="image")
    marker = keras.Input((1,), name="marker")
    h = layers.Conv2D(32, 3, activation="relu")(image)
    h = layers.MaxPooling2D(2)(h)
    h = layers.Conv2D(64, 3, activation="relu")(h)
    h = layers.MaxPooling2D(2)(h)
    h = layers.Conv2D(64, 3, activation="relu")(h)
    h = layers.Dense(64, activation="relu")(layers.Flatten()(h))
    out = layers.Dense(2, activation="softmax")(layers.Concatenate()([h, marker]))
    model = keras.Model([image, marker], out, name="fusion_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


fused = fusion_cnn()
fused.fit({"image": x_train, "marker": m_train}, y_train, epochs=EPOCHS, batch_size=64, verbose=0)
p_fused = fused.predict({"image": x_test, "marker": m_test}, verbose=0)[:, 1]
p_marker = LogisticRegression().fit(m_train, y_train).predict_proba(m_test)[:, 1]
fusion_auc = {"marker alone (logistic regression)": roc_auc_score(y_test, p_marker),
              "image alone (article CNN, step 1)": roc_auc_score(y_test, p_image),
              "image + marker (fusion CNN)": roc_auc_score(y_test, p_fused)}
print("parameters: article CNN", cnn.count_params(), "| fusion CNN", fused.count_params())
for name, value in fusion_auc.items():
    print(f"test AUC {name}: {value:.3f}")
print("gain of the fusion CNN (paired, patient-level 95% CI)")
print("  over the image alone: ", paired_gain(p_fused, p_image))
print("  over the marker alone:", paired_gain(p_fused, p_marker))

# %% [markdown]
# The ROC curves of the three models on the simulated test set: sensitivity (y) against false-positive
# rate (x); the legend gives each AUC.

# %%
# extra code – the three ROC curves in one figure
fig, ax = plots.roc_curve(y_test, p_marker, label="marker alone", title="Fusion: image + simulated marker")
plots.roc_curve(y_test, p_image, label="image alone", ax=ax, title="Fusion: image + simulated marker")
plots.roc_curve(y_test, p_fused, label="image + marker", ax=ax, title="Fusion: image + simulated marker");

# %% [markdown]
# Read the gains with their intervals (paired, drawn by patient, as in step 4): the marker alone is clearly beaten, but
# whether the fusion CNN beats the image alone decides whether its interval excludes 0; on 40 test patients a gain of
# a few thousandths cannot be told from nothing. Note how little the fusion model added: one input, and only as many
# extra weights as the difference of the two parameter counts printed above. Most of the work in
# real multimodal projects is elsewhere: matching records to images, missing values, and making sure the
# tabular data were recorded *before* the diagnosis (a lab value ordered *because* of the diagnosis is a
# leak, not a feature). Huang et al. (2020) review fusion of imaging with health records.
#
# **Personalised diagnosis** (个性化诊断), the article's fourth trend, is this step taken further: the model reads not
# only the image but the patient. It would need patient-level covariates (age, sex, history, medication, lab
# values, genetics) recorded before the diagnosis, and longitudinal data (the same patient's earlier scans and
# values, so that a change from the patient's own baseline can count more than a value that is merely unusual in
# the population), with outcomes followed per patient. The simulated marker above is the closest the course comes:
# one value per patient with a little noise per visit. Two lessons carry over: split and resample by patient, never
# by image (notebook 04, step 5), and report how the model does for each kind of patient, not only on average
# (notebook 07, step 2).
#
# ## Step 6 · Generation: a small variational autoencoder
# The article expects deep models to generate "virtual medical images". A variational autoencoder
# (Kingma & Welling, 2014) learns an encoder $q(z\mid x)=\mathcal N(\mu(x), \sigma^2(x))$ and a decoder
# $p(x\mid z)$; new images come from decoding $z\sim\mathcal N(0, I)$. It is trained to minimise
#
# $$\mathcal L(x) = \underbrace{-\sum_{\text{pixels}}\big[x\log\hat x + (1-x)\log(1-\hat x)\big]}_{\text{reconstruction}}
#  + \underbrace{\tfrac12\sum_{j}\big(\mu_j^2 + \sigma_j^2 - 1 - \log\sigma_j^2\big)}_{\mathrm{KL}(q(z\mid x)\,\|\,\mathcal N(0,I))}.$$
#
# The KL term has this closed form for Gaussians. Check it against a Monte-Carlo estimate of
# $\mathbb E_q[\log q(z) - \log p(z)]$:

# %%
# CHECK_OUTPUT
from scipy.stats import norm


def kl_to_standard_normal(mu, logvar):
    """Closed form KL(N(mu, exp(logvar)) || N(0, I)), summed over the last axis."""
    return 0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar, axis=-1)


rng = np.random.default_rng(0)
mu, logvar = np.array([0.5, -1.0, 0.0]), np.array([0.2, -0.5, -1.5])
z = mu + np.exp(0.5 * logvar) * rng.standard_normal((400_000, 3))
kl_mc = np.mean(np.sum(norm.logpdf(z, mu, np.exp(0.5 * logvar)) - norm.logpdf(z), axis=1))
np.testing.assert_allclose(kl_to_standard_normal(mu, logvar), kl_mc, rtol=0.01)
print(f"KL closed form {kl_to_standard_normal(mu, logvar):.3f} ≈ Monte Carlo {kl_mc:.3f}  OK")

# %% [markdown]
# A small dense VAE (784 → 256 → 16 latent numbers → 256 → 784) trained with a hand-written loop, so the
# loss above is visible line by line. The noise $\varepsilon$ of the reparameterisation
# $z = \mu + \sigma\,\varepsilon$ is drawn by NumPy from a fixed seed, so the run is repeatable.

# %%
# CHECK_OUTPUT trained
LATENT, VAE_EPOCHS, BATCH = 16, n_epochs(15), 128
x_flat = (train.x.reshape(len(train.x), -1) / 255.0).astype("float32")
encoder = keras.Sequential([keras.Input((784,)), layers.Dense(256, activation="relu"), layers.Dense(2 * LATENT)])
decoder = keras.Sequential([keras.Input((LATENT,)), layers.Dense(256, activation="relu"),
                            layers.Dense(784, activation="sigmoid")])
optimizer = keras.optimizers.Adam(1e-3)
weights = encoder.trainable_variables + decoder.trainable_variables


@tf.function
def vae_step(x, eps):
    with tf.GradientTape() as tape:
        mu, logvar = tf.split(encoder(x), 2, axis=1)
        x_hat = tf.clip_by_value(decoder(mu + tf.exp(0.5 * logvar) * eps), 1e-6, 1 - 1e-6)
        rec = -tf.reduce_sum(x * tf.math.log(x_hat) + (1 - x) * tf.math.log(1 - x_hat), axis=1)
        kl = 0.5 * tf.reduce_sum(mu**2 + tf.exp(logvar) - 1 - logvar, axis=1)
        loss = tf.reduce_mean(rec + kl)
    optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
    return loss, tf.reduce_mean(kl)


rng = np.random.default_rng(0)
for epoch in range(VAE_EPOCHS):
    order = rng.permutation(len(x_flat))
    losses = [vae_step(x_flat[order[s:s + BATCH]], rng.standard_normal((len(order[s:s + BATCH]), LATENT)).astype("float32"))
              for s in range(0, len(order), BATCH)]
    if epoch in (0, VAE_EPOCHS - 1):
        print(f"epoch {epoch + 1:2d}: loss {np.mean([total for total, _ in losses]):.1f} per image "
              f"(of which KL {np.mean([k for _, k in losses]):.1f})")

# %% [markdown]
# The figure shows 12 real simulated training images (top) and 12 images the VAE generated from random
# latent codes (bottom).

# %%
samples = decoder(rng.standard_normal((200, LATENT)).astype("float32")).numpy().reshape(-1, 28, 28)
both = np.concatenate([train.x[:12] / 255.0, samples[:12]])
fig, axes = plots.image_grid(both, titles=["simulated"] * 12 + ["generated"] * 12, ncols=12, size=0.95,
                             suptitle="Top: simulated training images. Bottom: VAE samples", vmin=0, vmax=1)

# %% [markdown]
# Two checks a careful user makes before trusting generated images: does the classifier see lesions in them
# (are the samples diverse in the feature that matters?), and are they copies of training images
# (memorisation, a privacy risk with real patients)? We compare each sample's distance to its nearest
# training image with the same distance for real test images.

# %%
# CHECK_OUTPUT trained
def nearest_distance(a, b):
    """Root-mean-square pixel distance from each image in a to its nearest image in b."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    d2 = (a**2).sum(1)[:, None] - 2 * a @ b.T + (b**2).sum(1)[None]
    return np.sqrt(np.maximum(d2.min(axis=1), 0) / a.shape[1])


p_samples = cnn.predict(samples[..., None], verbose=0)[:, 1]
print(f"share of generated images the CNN calls 'lesion': {np.mean(p_samples > 0.5):.3f}"
      f" (training set: {y_train.mean():.3f})")
print(f"nearest-training-image distance: generated {np.median(nearest_distance(samples, x_flat)):.3f}, "
      f"real test images {np.median(nearest_distance(x_test[:200, ..., 0], x_flat)):.3f} (median RMS)")

# %% [markdown]
# Reading the two lines: the CNN finds lesions in (almost) none of the samples, though half the training images
# have one. The samples are closer to their nearest training image than real test images are; that alone does
# not prove copying, since a blurry average sits close to many images, but it is the kind of signal that must
# be inspected (show each sample next to its nearest training image) before synthetic images leave the lab.
#
# **What synthetic medical images are, and are not, good for.** These samples are blurry brain-like
# textures: a dense VAE averages what it cannot model, and small lesions are exactly the detail that gets
# averaged away. Better generators
# (GANs, diffusion models) produce sharper images, but the questions stay: synthetic images can help to
# *augment* a training set, to *share* data without sharing patients (only if memorisation is ruled out), or
# to *test* software. They are **not** evidence about patients, they cannot show a disease pattern the
# training data lacked, and a model validated only on synthetic images is not validated (Chen et al., 2021).
#
# ## Step 7 · Real patients: Grad-CAM on chest X-rays
# The same Grad-CAM code on PneumoniaMNIST (real chest X-rays that ship with the course, label 1 = pneumonia).
# The article's CNN with notebook 01's recipe (10 epochs): notebook 01 trained this very model, so
# `train.cached_fit` takes it from the data folder when it is there. We print its own test AUC first: a map is
# only worth reading for a model that works. Real data have no lesion coordinates, so these maps can be
# looked at, not scored, which is why this notebook measured on simulated data.

# %%
# CHECK_OUTPUT trained
real, real_val, real_test = (data.load("pneumoniamnist", s) for s in ("train", "val", "test"))
real_model, _ = recipes.cached_fit("article", real.x, real.y, real_val.x, real_val.y, dataset="pneumoniamnist", seed=0)
cnn_real = real_model.get_layer("article_cnn")
p_real = cnn_real.predict(real_test.x[..., None] / 255.0, verbose=0)[:, 1]
print(f"article CNN on real PneumoniaMNIST, {EPOCHS} epochs: test AUC {metrics.bootstrap_auc(real_test.y, p_real)}")

# %% [markdown]
# The figure shows eight real test X-rays with pneumonia (top) and eight normal ones (bottom), each with its
# Grad-CAM map on the second conv layer (warm colours: where the evidence for "pneumonia" comes from) and the
# model's probability of pneumonia in the title.

# %%
# extra code – Grad-CAM maps on eight test X-rays of each class
idx = np.concatenate([np.flatnonzero(real_test.y == 1)[:8], np.flatnonzero(real_test.y == 0)[:8]])
x_real = real_test.x[idx][..., None] / 255.0
cams = explain.grad_cam(cnn_real, x_real, layer=1)
fig, axes = plt.subplots(2, 8, figsize=(12.8, 3.8))
for ax, img, cam, i in zip(axes.ravel(), x_real, cams, idx):
    plots.overlay(ax, img, cam)
    ax.set_title(f"{real_test.info.label_names[real_test.y[i]]}, P = {p_real[i]:.2f}", fontsize=8)
fig.suptitle("Grad-CAM (conv 2) on real PneumoniaMNIST test X-rays: pneumonia (top), normal (bottom)")
fig.tight_layout()
plt.show()

# %% [markdown]
# What to look for: maps that sit on the lungs are plausible; maps on the image border, the shoulders or the
# letters some X-rays carry would mean the model found a shortcut. In the figure, several peaks (the crosses) sit at
# the lower border or over the heart rather than on the lung fields: a reason for doubt, not proof of a shortcut,
# for a model whose test AUC is high. Without lesion coordinates that judgement is qualitative: to *score* it, a radiologist would have to outline the opacities, which is the segmentation task of
# notebook 06.
#
# ## Step 8 · Which architecture for which task: the article's FAQ, answered with the course's numbers
# The article's FAQ asks how to choose a deep learning algorithm and answers: by the type of data, the type of task
# (classification, detection, segmentation) and the algorithm's performance. The table puts the first two together,
# with what this course measured for each (test sets; simulated where it says so). The numbers are the stored
# outputs of the notebooks named; a rerun on another machine may move them slightly.
#
# | data and task | architecture family | what the course measured |
# |---|---|---|
# | 2D images, classification (X-ray, ultrasound, fundus, pathology tile) | CNN: convolution and pooling, then a dense head; residual or pretrained CNNs for larger images | 01, steps 6–7, real PneumoniaMNIST: the article's CNN AUC 0.945; the better recipe 0.966 (95 % CI 0.953–0.978) with 23,890 parameters; published ResNet-18 at 28 px 0.944 |
# | tabular measurements, classification | logistic regression or a small dense network, before anything deep | 04, step 1, real Wisconsin features: dense network AUC 0.994 ± 0.008, logistic regression 0.995 ± 0.006 (5 folds) |
# | 2D images, detection (where are the lesions?) | detectors that output boxes (Faster R-CNN, RetinaNet, YOLO; not taught here), or a segmentation network whose blobs are counted | 06, step 3, simulated: U-Net per-lesion sensitivity 0.868 (95 % CI 0.833–0.905) at 0.072 false positives per image; 06, step 5: pointing game of the U-Net 0.907, of a classifier's saliency 0.897 |
# | 2D images, segmentation (every pixel) | U-Net: encoder–decoder with skip connections (nnU-Net configures one automatically) | 06, step 3, simulated lesions: Dice 0.692 (95 % CI 0.645–0.737); 06, step 4, real anatomy: grey matter 0.602, white matter 0.716 (pooled) |
# | signals and time series (ECG) | recurrent networks (GRU, LSTM) or 1D CNNs, against a linear baseline | 02, step 3, one real ECG, 40 ms ahead: RMSE GRU 129.2 µV, linear (ridge) 131.5, persistence 169.3 |
# | 3D volumes (CT, MR), classification | a 2D CNN per slice and an RNN over the slices, or a 3D CNN | 02, step 2, simulated: the most lesion-like slice alone AUC 0.819, SimpleRNN over CNN slice features 0.811, SimpleRNN on raw pixels 0.501; 02, step 4, real AdrenalMNIST3D: GRU over slices 0.755, 3D CNN 0.730, logistic regression 0.850 |
# | images with only normal examples, anomaly detection | autoencoder (or PCA) trained on normal cases; the reconstruction error is the score | 03, step 3, simulated: dense autoencoder AUC 0.721, PCA 0.679; real breast-cancer features 0.919 against PCA 0.915; 03, step 4, real chest X-rays: 0.566 (95 % CI 0.519–0.615), far below the supervised CNN of 01, step 6 (0.945) |
# | image plus a tabular value, classification | two-input network (intermediate fusion) or a logistic regression on the image model's output (late fusion) | 05, step 5, simulated: image alone AUC 0.947, marker alone 0.736, fusion CNN 0.951 (gain over the image alone +0.004, 95 % CI −0.033 to +0.036); exercise 3, late fusion 0.965 |
#
# The third factor, performance, is a measurement, not a property of the architecture: compare the candidates
# on validation data, against a simple baseline, with confidence intervals (notebook 04). In this table the
# baseline won or tied four times (logistic regression on adrenal glands, the most lesion-like slice on simulated
# volumes, a linear ECG forecast, PCA on breast-cancer features), and the convolutional networks earned their place where the images are many and the signal is spatial
# (01, 06). With little data, the simplest
# model that does the job is the first thing to try.

# %% [markdown]
# ## Summary
# - Grad-CAM weighs a conv layer's feature maps by the averaged gradient of the class score; the formula
#   and the helper agree. On 28×28 inputs the article's last conv layer is 3×3 and too coarse: use an
#   earlier layer, and upsample along the receptive fields.
# - Because the simulated lesions' positions are known, explanations can be **scored** (pointing game).
#   Here gradient saliency pointed best, Grad-CAM on the last layer hardly beat chance, and even a poorly
#   trained model's maps hit lesions: a convincing heat map is not a validation.
# - Wrong training labels cost test AUC, increasingly with the share flipped (paired intervals by patient):
#   data quality is measurable.
# - A two-input functional model fuses an image with a tabular value. Here, with an independent, informative
#   marker, the fusion CNN was not shown to beat the image alone (the paired interval of its gain includes 0), while
#   late fusion of the image model's score with the marker (exercise 3) scored higher: how the inputs are combined
#   matters, and only a measurement with its interval tells.
# - A small VAE generates brain-like textures but loses the lesions; synthetic images are a tool for
#   augmentation and testing, not evidence.
# - Which architecture: the type of data and task points to a family (CNN, U-Net, RNN or 3D CNN, autoencoder,
#   fusion network); the choice among candidates is a measurement against a simple baseline, which in this course
#   won or tied more than once.
#
# ## Exercises

# %% [markdown] tags=["exercise"]
# **Exercise 1.** Occlusion (Zeiler & Fergus, 2014) is a third kind of map: cover a patch with zeros and
# record how much the lesion probability drops. Compute `explain.occlusion` for the first 40 simulated test
# images with a lesion (patch 5, stride 2) for the well-trained CNN, call the maps `occ`, and score them with the
# pointing game at tolerance `TOL`: put the score (the share of hits) in `answer` and run the checker.
# Why is it so much slower than saliency?

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_pointing_game(answer, explain.occlusion(cnn, x_pos[:40], patch=5, stride=2), centers[:40], radii[:40], TOL)"
from helpers.checks import check_pointing_game

occ = explain.occlusion(cnn, x_pos[:40], patch=5, stride=2)
answer = explain.pointing_game(occ, centers[:40], radii[:40], TOL).mean()  # the share of the 40 maps that hit
check_pointing_game(answer, occ, centers[:40], radii[:40], TOL)
print(f"occlusion pointing game on 40 images: {answer:.3f}")
print(f"saliency on the same 40:            {hits[(f'{EPOCHS} epochs', 'saliency')][:40].mean():.3f}")
# Slow: one forward pass per patch position (12 × 12 = 144 per image) instead of one backward pass per image.
# Weak here: a 5-pixel patch is larger than most lesions, and a black patch is itself a dark blob, which a
# CNN trained on bright *and* dark lesions can read as a lesion, so covering healthy tissue can raise the
# probability instead of lowering it. Try patch=3 or fill=float(x_pos.mean()).

# %% [markdown] tags=["exercise"]
# **Exercise 2.** The pointing game above used a tolerance of one pixel. Recompute the score of Grad-CAM
# conv 2 (aligned) and of saliency for the well-trained model with tolerance 0, and the chance level.
# Put Grad-CAM conv 2's score (`maps["Grad-CAM conv 2 (11×11)"]`) in `answer` and run the checker.
# Does the order of the methods change?

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_pointing_game(answer, maps['Grad-CAM conv 2 (11×11)'], centers, radii, 0.0)"
from helpers.checks import check_pointing_game

# tolerance 0: the map's maximum must fall inside the lesion's own radius
answer = explain.pointing_game(maps["Grad-CAM conv 2 (11×11)"], centers, radii, 0.0).mean()
check_pointing_game(answer, maps["Grad-CAM conv 2 (11×11)"], centers, radii, 0.0)
for name, m in [("Grad-CAM conv 2", maps["Grad-CAM conv 2 (11×11)"]), ("saliency", maps["saliency"])]:
    print(f"{name:16s} tolerance 0: {explain.pointing_game(m, centers, radii, 0.0).mean():.3f}")
print(f"{'chance':16s} tolerance 0: {explain.chance_hit_rate((28, 28), centers, radii, 0.0):.3f}")

# %% [markdown] tags=["exercise"]
# **Exercise 3.** *Late* fusion needs no new network: feed the image CNN's lesion probability (as a logit)
# and the simulated marker to a logistic regression. Fit it on the training set, put its test AUC in `answer`, run
# the checker and compare with the fusion CNN's. When would you prefer late fusion?

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_late_fusion_auc(answer, cnn, x_train, m_train, y_train, x_test, m_test, y_test)"
from helpers.checks import check_late_fusion_auc

# two columns per image: the CNN's lesion probability as a logit, and the marker
features_train = np.column_stack([metrics.logit(cnn.predict(x_train, verbose=0)[:, 1]), m_train])
features_test = np.column_stack([metrics.logit(p_image), m_test])
late = LogisticRegression().fit(features_train, y_train)
answer = roc_auc_score(y_test, late.predict_proba(features_test)[:, 1])  # column 1: the lesion class
check_late_fusion_auc(answer, cnn, x_train, m_train, y_train, x_test, m_test, y_test)
print(f"late fusion AUC {answer:.3f} vs fusion CNN {fusion_auc['image + marker (fusion CNN)']:.3f}")
# Late fusion is cheap, reuses a trained image model and works when the modalities come from different
# sources; but the CNN's training-set probabilities are over-confident (it has seen those images), which
# can make the combiner trust the image too much: fitting the combiner on a validation split is better.

# %% [markdown]
# ## Where to go next, and sources
# - **MONAI** (Cardoso et al., 2022), the open-source PyTorch framework for medical imaging, has tutorials
#   for classification, segmentation, interpretability (`monai.visualize` has Grad-CAM and occlusion) and
#   generative models.
# - **MedMNIST** (Yang et al., 2023): the real 28×28 benchmarks this course's loaders download.
#
# ## References
# The article's reference list (54 numbered entries) repeats three entries 16 to 18 times each, with wrong authors (e.g. "K. LeCun,
# Y. Bengio, Y. LeCun, *Deep Learning*, MIT Press 2015": the MIT Press book is by Goodfellow, Bengio and
# Courville, 2016; LeCun, Bengio and Hinton wrote the 2015 *Nature* review) and a paper that does not exist as
# cited ("Denoising Score Matching" by Radford et al.; denoising score matching is Vincent, 2011). The
# primary sources behind this notebook:
#
# 1. Selvaraju RR, Cogswell M, Das A, Vedantam R, Parikh D, Batra D. *Grad-CAM: Visual explanations from deep
#    networks via gradient-based localization.* ICCV 2017, 618–626. arXiv:1610.02391.
# 2. Simonyan K, Vedaldi A, Zisserman A. *Deep inside convolutional networks: visualising image classification
#    models and saliency maps.* ICLR Workshop 2014. arXiv:1312.6034.
# 3. Zeiler MD, Fergus R. *Visualizing and understanding convolutional networks.* ECCV 2014. arXiv:1311.2901.
# 4. Zhang J, Bargal SA, Lin Z, Brandt J, Shen X, Sclaroff S. *Top-down neural attention by excitation
#    backprop.* ECCV 2016 (the pointing game). arXiv:1608.00507.
# 5. Adebayo J, Gilmer J, Muelly M, Goodfellow I, Hardt M, Kim B. *Sanity checks for saliency maps.*
#    NeurIPS 2018. arXiv:1810.03292.
# 6. Karimi D, Dou H, Warfield SK, Gholipour A. *Deep learning with noisy labels: exploring techniques and
#    remedies in medical image analysis.* Medical Image Analysis 65:101759, 2020.
# 7. Huang S-C, Pareek A, Seyyedi S, Banerjee I, Lungren MP. *Fusion of medical imaging and electronic health
#    records using deep learning: a systematic review and implementation guidelines.* npj Digital Medicine
#    3:136, 2020.
# 8. Kingma DP, Welling M. *Auto-encoding variational Bayes.* ICLR 2014. arXiv:1312.6114.
# 9. Chen RJ, Lu MY, Chen TY, Williamson DFK, Mahmood F. *Synthetic data in machine learning for medicine and
#    healthcare.* Nature Biomedical Engineering 5:493–497, 2021.
# 10. Yang J, Shi R, Wei D, Liu Z, Zhao L, Ke B, Pfister H, Ni B. *MedMNIST v2: a large-scale lightweight
#     benchmark for 2D and 3D biomedical image classification.* Scientific Data 10:41, 2023.
# 11. Cardoso MJ, Li W, Brown R, et al. *MONAI: An open-source framework for deep learning in healthcare.*
#     arXiv:2211.02701, 2022.
# 12. LeCun Y, Bengio Y, Hinton G. *Deep learning.* Nature 521:436–444, 2015; Goodfellow I, Bengio Y,
#     Courville A. *Deep Learning.* MIT Press, 2016; Vincent P. *A connection between score matching and
#     denoising autoencoders.* Neural Computation 23(7):1661–1674, 2011.
