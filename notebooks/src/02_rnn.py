# %% [markdown]
# # 02 · Recurrent neural networks: slices and heartbeats as sequences
#
# The source article (section 3.2) introduces the recurrent neural network (RNN) with two formulas and the
# promise that it "processes time-series data". This notebook implements those formulas, checks them against
# Keras, and then uses recurrent networks on two kinds of medical sequence: a 3D scan read slice by slice, as a
# radiologist scrolls through it, and a real 12-lead electrocardiogram (ECG).
#
# **Learning objectives.** After this notebook you can
# 1. write the article's recurrence $h_t = \tanh(W_{hh}h_{t-1} + W_{xh}x_t + b_h)$, $y_t = W_{hy}h_t + b_y$ in NumPy
#    and map its weights onto `keras.layers.SimpleRNN` + `Dense`;
# 2. turn a volume into a sequence of slices and compare SimpleRNN, LSTM, GRU and a bidirectional GRU on it;
# 3. explain, with a measurement, why a plain RNN forgets what it saw many steps ago;
# 4. forecast a real ECG with a small recurrent model, judge it against naive baselines, and say what one
#    recording can and cannot show;
# 5. decide when an RNN's output should go through a softmax, and when it should not.
#
# **Prerequisites.** Notebook 01 (CNN: convolution, dense layers, sigmoid and softmax, training with Keras);
# matrix-vector products; the chain rule.
#
# **Measured runtime:** 97 s, peak memory 1.6 GiB (offline, 2-core CPU with AVX-512, TF_ENABLE_ONEDNN_OPTS=0, TF_NUM_INTRAOP_THREADS=2, empty cache; `python tools/benchmark.py`, 2026-11-27)
#
# Words in *italics* are explained in the [glossary](../docs/GLOSSARY.md).

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

import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from keras import layers
from scipy.signal import decimate
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score

from helpers import data, imaging, metrics, plots, sequences, train

# %% [markdown]
# ## Step 1 · The article's recurrence, in NumPy and in Keras
#
# An RNN reads a sequence $x_1, x_2, \dots, x_T$ one element at a time and keeps a *hidden state* $h_t$, a
# summary of what it has read so far. The article writes (with $h_0 = 0$):
#
# $$h_t = \tanh\left(W_{hh}\,h_{t-1} + W_{xh}\,x_t + b_h\right), \qquad y_t = W_{hy}\,h_t + b_y .$$
#
# The same three matrices are used at every step: that is what lets one network read sequences of any length.
# The picture below "unrolls" the network over four steps: inputs at the bottom, hidden states in the middle
# (each one receiving the previous one through $W_{hh}$, arrows from left to right), outputs at the top.

# %%
fig, ax = plots.unrolled_rnn(steps=4)
plt.show()

# %% [markdown]
# `sequences.rnn_forward` is the formula, line for line (open `helpers/sequences.py`: the loop is three lines).
# We run it on a random sequence of $T=6$ steps with 3 features, 4 hidden units and 2 outputs.

# %%
rng = np.random.default_rng(0)
T, n_in, n_hidden, n_out = 6, 3, 4, 2
x_seq = rng.normal(size=(T, n_in))
W = sequences.random_rnn_weights(n_in, n_hidden, n_out, seed=0)
h_np, y_np = sequences.rnn_forward(x_seq, **W)
print("h:", h_np.shape, " y:", y_np.shape)

# %% [markdown]
# Keras computes the same thing with row vectors multiplied from the right, $h_t = \tanh(x_t K + h_{t-1} R + b)$.
# So its `kernel` $K$ is $W_{xh}^\top$ (shape `(n_in, n_hidden)`), its `recurrent_kernel` $R$ is $W_{hh}^\top$,
# and the `Dense` kernel is $W_{hy}^\top$. `sequences.to_keras_weights` does the transposes. With
# `return_sequences=True` the layer returns every $h_t$, and `Dense` then gives every $y_t$.

# %%
# CHECK_OUTPUT
rnn = layers.SimpleRNN(n_hidden, return_sequences=True)
dense = layers.Dense(n_out)
keras_model = keras.Sequential([keras.Input((T, n_in)), rnn, dense])
rnn_w, dense_w = sequences.to_keras_weights(**W)
rnn.set_weights(rnn_w)
dense.set_weights(dense_w)
print("Keras SimpleRNN weights:", [tuple(w.shape) for w in rnn.get_weights()], "(kernel, recurrent_kernel, bias)")

h_keras = keras.Model(keras_model.inputs, rnn.output).predict(x_seq[None], verbose=0)[0]
y_keras = keras_model.predict(x_seq[None], verbose=0)[0]
np.testing.assert_allclose(h_keras, h_np, atol=1e-5)
np.testing.assert_allclose(y_keras, y_np, atol=1e-5)
print(f"OK: NumPy recurrence == Keras SimpleRNN + Dense at all {T} steps (to float32 precision, atol 1e-5)")

# %% [markdown]
# **Counting parameters.** A SimpleRNN layer holds $W_{xh}$, $W_{hh}$ and $b_h$:
# $n_h(n_{in} + n_h + 1)$ numbers, whatever the sequence length. An LSTM has four such blocks (three gates and
# the candidate), so $4\,n_h(n_{in}+n_h+1)$; Keras' GRU has three blocks plus a second bias per block
# (`reset_after=True`), so $3\,n_h(n_{in}+n_h+2)$. We check the three formulas against Keras.

# %%
# CHECK_OUTPUT
def n_params(kind: str, n_in: int, n_h: int) -> int:
    """Parameters of one recurrent layer, from the formulas above."""
    return {"simplernn": n_h * (n_in + n_h + 1), "lstm": 4 * n_h * (n_in + n_h + 1),
            "gru": 3 * n_h * (n_in + n_h + 2)}[kind]


for kind, layer in [("simplernn", layers.SimpleRNN(32)), ("lstm", layers.LSTM(32)), ("gru", layers.GRU(32))]:
    keras.Sequential([keras.Input((28, 64)), layer])
    assert layer.count_params() == n_params(kind, 64, 32)
    print(f"OK: {kind:9s} with 64 inputs and 32 units has {n_params(kind, 64, 32):5d} parameters")

# %% [markdown]
# ### The article's "softmax for diagnosis": when it fits
# The article ends its RNN recipe with "apply softmax to the output to obtain the diagnosis". A kind
# correction: $y_t$ exists at **every** step, and what to do with it depends on the question.
# - **One diagnosis per sequence** among $K$ mutually exclusive classes (e.g. normal / benign / malignant for a
#   whole scan): take the output after the **last** step (or pool over steps) and apply softmax. With two
#   classes a single sigmoid unit is the same model: $\mathrm{softmax}(0, z)_2 = \sigma(z)$ (checked below).
# - **Labels that can co-occur** (several findings in one scan): one sigmoid per finding, not a softmax.
# - **A label per step** (which slice shows the lesion): softmax or sigmoid at every step.
# - **Forecasting a signal** (section 3): $y_t$ is a number in microvolts; no softmax at all, the linear output
#   of the article's formula is right.

# %%
# CHECK_OUTPUT
z = np.linspace(-6, 6, 13)
softmax_2 = np.exp(z) / (np.exp(0.0) + np.exp(z))      # second entry of softmax([0, z])
np.testing.assert_allclose(softmax_2, keras.ops.convert_to_numpy(keras.activations.sigmoid(z)), rtol=1e-6)
print("OK: softmax over the logits (0, z) gives sigmoid(z) for the second class")

# %% [markdown]
# ## Step 2 · A volume as a sequence of slices
#
# ### 2.1 The simulated 3D lesion set
# `simlesion3d` is **simulated**: cubes cut from the real MNI152 brain template, seen through simulated
# patients, half of whom carry a synthetic lesion (a bright or dark ball) at a known place. Axis 1 is the axial
# slice, so each volume is a sequence of 28 slices of 28×28 pixels. Each simulated patient contributes 5 volumes
# (5 crops of one simulated head, sharing its anatomy, scanner and diagnosis), and the split is by patient.

# %%
# CHECK_OUTPUT
train3d, val3d, test3d = (data.load("simlesion3d", s) for s in ("train", "val", "test"))
for d in (train3d, val3d, test3d):
    print(d, " lesion share:", round(float(d.y.mean()), 3))
print("simulated patients (5 volumes each): train", len(np.unique(train3d.extras["patients"])), "· val",
      len(np.unique(val3d.extras["patients"])), "· test", len(np.unique(test3d.extras["patients"])))
centres = test3d.extras["lesion_centers"]
print("lesion centre slice in the simulated test set: from", round(float(np.nanmin(centres[:, 0])), 1),
      "to", round(float(np.nanmax(centres[:, 0])), 1))

# %% [markdown]
# The figure shows one simulated volume with a lesion as a radiologist would scroll it: every second slice from
# top to bottom (slice index in each title). The orange ring marks the true lesion centre on the slices within
# one radius of it; the ball appears, grows and disappears over a few slices.

# %%
k = int(np.flatnonzero(test3d.y == 1)[0])
sl_c, row_c, col_c = test3d.extras["lesion_centers"][k]
radius = float(test3d.extras["lesion_radii"][k])
idx = np.arange(0, 28, 2)
rings = [(row_c, col_c, radius) if abs(s - sl_c) <= radius else None for s in idx]
fig, _ = plots.image_grid(
    test3d.x[k, idx], titles=[f"slice {s}" for s in idx], ncols=7, circles=rings,
    suptitle=f"One simulated volume read slice by slice (lesion centre at slice {sl_c:.0f})")
plt.show()

# %% [markdown]
# ### 2.2 Raw pixels are a poor sequence
# The plainest idea: flatten each slice into $28\times28 = 784$ numbers and feed the 28 slices to an RNN. With 700
# training volumes the network must learn, for every position in the slice, what a lesion looks like there.
# We try it with a SimpleRNN for 3 epochs.

# %%
x_train, x_val, x_test = (d.x.astype("float32") / 255 for d in (train3d, val3d, test3d))


def fit_and_score(model, x_tr, x_va, x_te, epochs: int, batch_size: int = 32):
    """Train a binary sequence classifier (seeded) and return its test scores and a result row."""
    t0 = time.perf_counter()
    model.fit(x_tr, train3d.y, epochs=n_epochs(epochs), batch_size=batch_size, validation_data=(x_va, val3d.y),
              verbose=0)
    seconds = time.perf_counter() - t0
    p = model.predict(x_te, verbose=0)[:, 0]
    row = {"model": model.name, "parameters": model.count_params(), "test accuracy": np.mean((p > 0.5) == test3d.y),
           "test AUC": roc_auc_score(test3d.y, p), "seconds": seconds}
    return p, row


keras.utils.set_random_seed(0)
raw_model = sequences.volume_rnn("simplernn", units=32, input_shape=(28, 28, 28))
p_raw, raw_row = fit_and_score(raw_model, x_train, x_val, x_test, epochs=3)
raw_row["model"] = "simplernn on pixels"

# %%
# CHECK_OUTPUT trained
print(f"SimpleRNN on raw pixels: test AUC {raw_row['test AUC']:.3f}, accuracy {raw_row['test accuracy']:.3f} "
      f"({raw_row['parameters']} parameters)")

# %% [markdown]
# Near chance (AUC 0.5). The fix is the one radiologists use: look at each slice with a good eye for lesions,
# and let the sequence model combine what each slice shows.
#
# ### 2.3 A slice encoder: the article's CNN, trained on the simulated 2D slices
# We train the article's CNN on `simlesion2d` (simulated 2D slices of the same template with the same kind of
# lesions, but of other simulated patients than the 3D set's, so the test volumes are new patients to the encoder
# too) with notebook 01's recipe, `train.cached_fit("article", ...)` (pixels / 255, adam, 10 epochs, batch 64;
# the trained model is kept in the data folder, and notebook 06 reuses it), and use its 64-unit dense layer as
# the *encoder*: each slice becomes 64 numbers that describe "how lesion-like" it looks. A volume becomes a
# sequence of 28 vectors of 64 features. (This is *transfer learning*: the encoder learnt on one set, the RNN
# learns on another.)

# %%
train2d = data.load("simlesion2d", "train")
article, _ = train.cached_fit("article", train2d.x, train2d.y, dataset="simlesion2d", seed=0)  # notebook 01's recipe
cnn = article.get_layer("article_cnn")  # the CNN itself, which takes pixels / 255
encoder = keras.Model(cnn.inputs, [cnn.layers[-2].output, cnn.layers[-1].output])


def encode(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 28 slices, 28, 28) in 0..1 → features (N, 28, 64) and the CNN's P(lesion) per slice (N, 28)."""
    feats, probs = encoder.predict(x.reshape(-1, 28, 28, 1), batch_size=2048, verbose=0)
    return feats.reshape(len(x), 28, -1), probs[:, 1].reshape(len(x), 28)


(f_train, _), (f_val, _), (f_test, p_slices) = encode(x_train), encode(x_val), encode(x_test)

# %%
# CHECK_OUTPUT trained
print("slice features:", f_train.shape, f_val.shape, f_test.shape)
auc_max = roc_auc_score(test3d.y, p_slices.max(axis=1))
print(f"no RNN, just the most lesion-like slice (max over slices of the CNN's P): test AUC {auc_max:.3f}")

# %% [markdown]
# The max over slices is a strong baseline with no sequence model at all. Now the recurrent models read the 28
# feature vectors in order, slice 0 first, and a sigmoid unit on the last hidden state gives P(lesion) for the
# volume: SimpleRNN, LSTM, GRU (32 units each, 8 epochs) and a bidirectional GRU, which reads the stack both
# ways and joins the two final states.

# %%
def feature_rnn(kind: str, bidirectional: bool = False) -> keras.Model:
    """A recurrent classifier over the (28, 64) slice features; seeded so that each model starts the same way."""
    keras.utils.set_random_seed(0)
    rnn_layer = sequences.rnn_layer(kind, 32)
    model = keras.Sequential([keras.Input((28, 64)), layers.Bidirectional(rnn_layer) if bidirectional else rnn_layer,
                              layers.Dense(1, activation="sigmoid")], name=("bi" if bidirectional else "") + kind)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


seq_models, seq_probs, rows = {}, {}, [raw_row]
for kind, bi in [("simplernn", False), ("lstm", False), ("gru", False), ("gru", True)]:
    m = feature_rnn(kind, bi)
    seq_probs[m.name], row = fit_and_score(m, f_train, f_val, f_test, epochs=8)
    seq_models[m.name] = m
    rows.append(row)
table = pd.DataFrame(rows).set_index("model")

# %% [markdown]
# The comparison (accuracy at threshold 0.5, AUC, parameters of the whole model; the first row reads pixels,
# the others read the CNN's slice features; the CNN's own 2D training is not counted in "seconds"):

# %%
# not compared by the tests: these trained numbers move by more than the tolerance between machines
print(table.drop(columns="seconds").round(3).to_string())

# %%
print(table[["seconds"]].round(1).to_string())  # timings differ from machine to machine: not compared

# %% [markdown]
# Read the table with care: its 200 simulated test volumes are 5 volumes each of only **40 patients** (20 with a
# lesion), and a patient's volumes are alike, so the table holds far fewer independent cases than volumes. Is a
# model better than the max-slice baseline? Below, each model's test AUC minus the baseline's, on the same volumes,
# with a paired 95 % bootstrap interval over **patients** (`metrics.paired_bootstrap_auc(..., patients=...)`: each
# resample draws 20 sick and 20 healthy patients with replacement and keeps all their volumes; notebook 04 explains
# the bootstrap). For contrast, the last column resamples the 200 volumes as if they were independent cases.

# %%
# not compared by the tests: these trained numbers move by more than the tolerance between machines
patients3d = test3d.extras["patients"]
p_max = p_slices.max(axis=1)
print(f"max-slice baseline: test AUC {metrics.bootstrap_auc(test3d.y, p_max, patients=patients3d)} over patients")
for name, p in {"simplernn on pixels": p_raw, **seq_probs}.items():
    d = metrics.paired_bootstrap_auc(test3d.y, p, p_max, patients=patients3d)
    d_volumes = metrics.paired_bootstrap_auc(test3d.y, p, p_max)
    verdict = "includes 0" if d.low <= 0 <= d.high else ("above 0" if d.low > 0 else "below 0")
    print(f"{name:19s} - max slice: {d.estimate:+.3f}, 95% CI over patients {d.low:+.3f} to {d.high:+.3f} "
          f"({verdict}); over volumes {d_volumes.low:+.3f} to {d_volumes.high:+.3f}")

# %% [markdown]
# Read the intervals, not the point estimates. No recurrent model's interval lies above 0: none is shown to do better
# than the most lesion-like slice, and an interval that includes 0 means that 40 test patients cannot tell the two
# apart; an interval below 0 (the SimpleRNN on raw pixels, clearly; in this run also the LSTM, only just) means
# worse than the baseline. The differences between the four recurrent models are smaller than these intervals are
# wide, so we draw no lesson from them (with or without gates): the encoder does most of the work and the sequence
# is only 28 steps long. Here the intervals over patients come out hardly wider than those over volumes: in a
# paired difference, much of what a patient's 5 volumes share cancels out, because both models read the same
# volumes. Resampling patients is still the honest choice, as it never counts 5 volumes of one patient as 5
# independent cases; notebook 03 (step 3) meets a comparison where the two bootstraps disagree.
#
# ### 2.4 Why plain RNNs struggle with long sequences
# Training adjusts weights through gradients that travel backwards through the unrolled network. For a plain
# RNN, $\partial h_T/\partial h_t = \prod_{s=t+1}^{T} \mathrm{diag}(1-h_s^2)\,W_{hh}$: a product of $T-t$
# matrices, which usually shrinks geometrically with the distance $T-t$ (the *vanishing gradient*), so the
# network gets almost no signal telling it to remember early steps. LSTM and GRU add a gated, additive path for
# the state ($c_t = f_t \odot c_{t-1} + \dots$ in an LSTM): a gate near 1 passes the state, and its gradient, on
# almost unchanged. At initialisation the gates are not yet near 1; training can learn to open them, which a
# plain RNN has no means to do.
#
# We measure $\lVert\partial y/\partial x_t\rVert$, how much the output moves when input step $t$ changes,
# averaged over a batch (`sequences.input_gradient_norms`). Left: freshly initialised layers (32 units) reading
# 100 steps of random input, output after step 99. Right: the models trained above on the simulated volumes
# (28 steps, output after slice 27). Both panels use a log scale and divide by the largest value.

# %%
x_long = np.random.default_rng(0).normal(size=(32, 100, 8)).astype("float32")
init_norms = {}
for kind in ("simplernn", "lstm", "gru"):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((100, 8)), sequences.rnn_layer(kind, 32), layers.Dense(1)])
    init_norms[kind] = sequences.input_gradient_norms(m, x_long)
grad_norms = {name: sequences.input_gradient_norms(m, f_test) for name, m in seq_models.items()}

fig, axes = plots.input_gradient_figure(init_norms, grad_norms, trained_on="simulated volumes")
plt.show()

# %%
# CHECK_OUTPUT trained
for name, g in init_norms.items():
    print(f"untrained {name:9s}: sensitivity to step 89 / step 99 = {g[89] / g[99]:.2g}, step 69 / step 99 = {g[69] / g[99]:.2g}")
# %%
# not compared by the tests: these trained numbers move by more than the tolerance between machines
for name, g in grad_norms.items():
    print(f"trained   {name:9s}: sensitivity to slice 0 / slice 27 = {g[0] / g[27]:.2g}")

# %% [markdown]
# Left: untrained, all three forget geometrically: ten steps back the output is already much less sensitive,
# thirty steps back practically deaf. Right: after training on 28 slices, the sensitivity to the first slice
# stays within the same order of magnitude as to the last one for every model: 28 steps is short enough, and
# the slice features are strong.
#
# Does the position of the lesion show in the diagnoses? For the volumes with a lesion we split the simulated test set by the slice
# of the lesion centre (early: read first, far from the output; late: read last) and compute the sensitivity
# (share of lesions found at threshold 0.5) of each model in each third. The figure shows one group of bars per
# third.

# %%
depth = test3d.extras["lesion_centers"][:, 0]
pos = test3d.y == 1
bins = [(0, 10, "slices 0-9 (early)"), (10, 19, "slices 10-18"), (19, 28, "slices 19-27 (late)")]
sens = pd.DataFrame({name: [np.mean(p[pos & (depth >= lo) & (depth < hi)] > 0.5) for lo, hi, _ in bins]
                     for name, p in seq_probs.items()}, index=[b[2] for b in bins])
counts = [int(np.sum(pos & (depth >= lo) & (depth < hi))) for lo, hi, _ in bins]
# extra code – the sensitivities as grouped bars
ax = sens.plot.bar(rot=0, figsize=(7, 3.6))
ax.set_xlabel("position of the lesion centre in the stack")
ax.set_ylabel("sensitivity (threshold 0.5)")
ax.set_title("Lesions found, by where they lie in the slice sequence (simulated test set)")
ax.set_ylim(0, 1)
plt.tight_layout()
plt.show()

# %%
# not compared by the tests: these trained numbers move by more than the tolerance between machines
print("lesion volumes per third:", counts)
print(sens.round(3).to_string())

# %% [markdown]
# With only a few dozen lesion volumes per third (and 5 volumes per simulated patient, so fewer independent cases
# still), differences of a tenth or two in sensitivity are weak evidence. In this run every model finds fewer of the
# early lesions, the bidirectional GRU as well, although it also reads the stack from the last slice to the first: so
# the reading order is an unlikely cause, and no model clearly loses the early lesions **because** they come first. 28
# steps is short: the vanishing gradient bites hard
# at hundreds of steps, such as a full-resolution ECG (10,000 samples), which is one reason the next section
# shortens the signal before a recurrent model reads it.

# %% [markdown]
# ## Step 3 · A real time series: the 12-lead ECG that pydicom ships
#
# `waveform_ecg.dcm` is a real DICOM ECG (not simulated) inside the pydicom package, so it works offline.
# `ds.waveform_array(0)` returns the first *multiplex group*: 10 s at 1000 Hz, 12 leads, already multiplied by
# each channel's sensitivity, so the values are microvolts (the second group, 1.2 s, is a median beat).

# %%
# CHECK_OUTPUT
ecg = imaging.load_ecg(units="uV")  # microvolts, as the file stores them
print("signals:", ecg.signals.shape, ecg.signals.dtype, f"| {ecg.fs:.0f} Hz | {len(ecg.signals) / ecg.fs:.1f} s")
print("leads:", ", ".join(name.replace("Lead ", "") for name in ecg.leads))

# %% [markdown]
# The figure shows the 12 leads over the full 10 s, one trace per lead, offset vertically (each trace's name on
# the left); the regular QRS spikes are the heartbeats.

# %%
# extra code – the twelve leads, offset vertically
t_s = np.arange(len(ecg.signals)) / ecg.fs
fig, ax = plt.subplots(figsize=(9, 6))
for i in range(len(ecg.leads)):
    ax.plot(t_s, ecg.signals[:, i] / 1000 - 2.5 * i, lw=0.6, color="#0072B2")
ax.set_yticks([-2.5 * i for i in range(12)], [n.replace("Lead ", "").replace(" (Einthoven)", "") for n in ecg.leads])
ax.set_xlabel("time (s)")
ax.set_ylabel("lead (traces offset by 2.5 mV)")
ax.set_title("A real 12-lead ECG (pydicom's waveform_ecg.dcm)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 3.1 The forecasting task
# We take lead II, reduce it to 250 Hz (`scipy.signal.decimate`, which low-pass filters first, so that a 200 ms
# window is 50 steps instead of 200), and standardise it with the mean and standard deviation of the training
# part. Each example is 200 ms of signal ($W = 50$ samples) and its target the next 40 ms ($H = 10$ samples).
# Training uses the first 7 s, testing the last 3 s (a split in time: the model never sees the future).
# The error is the root-mean-square error (RMSE) in microvolts over all forecast samples,
# $\mathrm{RMSE} = \sqrt{\frac{1}{NH}\sum_{i,k} (\hat y_{ik} - y_{ik})^2}$.

# %%
# CHECK_OUTPUT
lead_ii = decimate(ecg.lead("II"), 4)
fs = ecg.fs / 4
WINDOW, HORIZON, n_train = 50, 10, int(7 * fs)
mu, sd = lead_ii[:n_train].mean(), lead_ii[:n_train].std()
z_ii = ((lead_ii - mu) / sd).astype("float32")
X_tr, Y_tr = sequences.make_windows(z_ii[:n_train], WINDOW, HORIZON)
X_te, Y_te = sequences.make_windows(z_ii[n_train - WINDOW:], WINDOW, HORIZON)
assert np.array_equal(X_tr[1, :, 0], z_ii[1:1 + WINDOW]) and np.array_equal(Y_tr[1], z_ii[1 + WINDOW:1 + WINDOW + HORIZON])
print(f"lead II at {fs:.0f} Hz: {len(z_ii)} samples; training windows {X_tr.shape}, test windows {X_te.shape}")


def rmse_uv(pred: np.ndarray, target: np.ndarray) -> float:
    """RMSE in microvolts (undoing the standardisation)."""
    return float(np.sqrt(np.mean((pred - target) ** 2)) * sd)


# %% [markdown]
# Two baselines first, because a forecast is only useful if it beats simple rules:
# - **persistence**: the next 10 samples equal the last one seen;
# - **linear**: a ridge regression from the 50 past samples to the 10 next ones (an autoregressive model).
#
# Then a GRU with 16 units reads the 50 samples and a `Dense(10)` layer (linear, no softmax) gives the forecast.

# %%
keras.utils.set_random_seed(0)
forecaster = sequences.forecaster(WINDOW, HORIZON, kind="gru", units=16)
forecaster.fit(X_tr, Y_tr, epochs=n_epochs(10), batch_size=32, verbose=0)
Y_gru = forecaster.predict(X_te, verbose=0)
Y_persist = np.repeat(X_te[:, -1, :], HORIZON, axis=1)
ridge = Ridge(alpha=1.0).fit(X_tr[..., 0], Y_tr)
Y_lin = ridge.predict(X_te[..., 0])

# %%
# CHECK_OUTPUT trained
ecg_scores = pd.Series({"persistence": rmse_uv(Y_persist, Y_te), "linear (ridge)": rmse_uv(Y_lin, Y_te),
                        f"GRU(16), {forecaster.count_params()} parameters": rmse_uv(Y_gru, Y_te)},
                       name="test RMSE (µV), last 3 s")
print(ecg_scores.round(1).to_string())
print(f"signal standard deviation: {sd:.1f} µV")

# %% [markdown]
# The figure shows 1.5 s of the test part of lead II (grey) and the 40 ms forecasts of the three methods started
# every 40 ms (each short coloured segment is one forecast from the 200 ms before it).

# %%
# extra code – the true signal and each forecaster's 40 ms forecasts
fig, ax = plt.subplots(figsize=(9, 3.6))
start_i = np.arange(0, int(1.5 * fs) - HORIZON, HORIZON)
t_test = (n_train + np.arange(int(1.5 * fs))) / fs
ax.plot(t_test, z_ii[n_train:n_train + len(t_test)] * sd + mu, color="grey", lw=2.5, alpha=0.6, label="true signal")
for Y, name, colour in [(Y_persist, "persistence", "#E69F00"), (Y_lin, "linear", "#009E73"), (Y_gru, "GRU", "#D55E00")]:
    for j, i in enumerate(start_i):
        ax.plot(t_test[i:i + HORIZON], Y[i] * sd + mu, color=colour, lw=1.2, label=name if j == 0 else None)
ax.set_xlabel("time (s)")
ax.set_ylabel("lead II (µV)")
ax.set_title("40 ms forecasts on the held-out last seconds of a real ECG")
ax.legend(ncol=4, fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What one recording can and cannot show.** This is one person, one 10 s recording, about a dozen heartbeats.
# The test windows overlap and come from the same heart minutes after the training windows, so the result says
# that the model learnt **this** heartbeat's shape, not that it would forecast another patient's ECG, nor anything
# about diagnosis (for that, one needs many labelled recordings, such as the PTB-XL database). The honest
# reading: the recurrent model is judged against two baselines on held-out time; here it clearly beats
# persistence but only roughly matches the linear model, which is much simpler. On one short, regular recording a
# linear autoregression is hard to beat.

# %% [markdown]
# ## Step 4 · Real patients: AdrenalMNIST3D read slice by slice
# AdrenalMNIST3D ships with the course: 1,584 real adrenal glands (left and right of 792 patients, Zhongshan
# Hospital), each outlined in 3D on abdominal CT by an expert and labelled normal (0) or hyperplasia (1), split by
# patient. Only the shapes were released (64 mm cubes, 28³ voxels, values 0-255 at the smoothed border).
# The glands are smooth shapes, so we average 2 × 2 × 2 blocks (14³ voxels, an eighth of the cost, checked below to
# keep each gland's volume) to stay within a laptop's minutes. Three models, the same data, the same 6 epochs:
# - a GRU that reads the 14 axial slices in order, each described by a small CNN (`slice_encoder=True`);
# - a small 3D CNN that sees the whole volume at once (no recurrence);
# - logistic regression on the 2,744 voxels (no deep learning at all), its regularisation `C` chosen on the
#   validation split.
# All three are scored once on the test split, with bootstrap intervals, and compared in pairs on the same cases.

# %%
# CHECK_OUTPUT
adr = {s: data.load("adrenalmnist3d", s) for s in ("train", "val", "test")}


def half_resolution(x: np.ndarray) -> np.ndarray:
    """Mean of each 2×2×2 block: (N, 28, 28, 28) uint8 -> (N, 14, 14, 14) float32 in 0..1."""
    x = x.astype("float32") / 255
    return x.reshape(len(x), 14, 2, 14, 2, 14, 2).mean(axis=(2, 4, 6))


x_adr = {s: half_resolution(ds.x) for s, ds in adr.items()}
y_adr = {s: ds.y for s, ds in adr.items()}
for s, ds in adr.items():
    print(f"{s:5s}: {len(ds.y):4d} glands, {int(ds.y.sum()):3d} with hyperplasia (label 1), shape {ds.x.shape[1:]} -> {x_adr[s].shape[1:]}")
np.testing.assert_allclose(x_adr["train"].sum(axis=(1, 2, 3)) * 8, adr["train"].x.sum(axis=(1, 2, 3)) / 255, rtol=1e-4)
print("OK: block averaging keeps every gland's volume (sum of voxel values x 8)")

# %%
# CHECK_OUTPUT trained
ADR_EPOCHS = n_epochs(6)
keras.utils.set_random_seed(0)
adr_gru = sequences.volume_rnn("gru", units=32, slice_encoder=True, input_shape=(14, 14, 14))
adr_gru.fit(x_adr["train"], y_adr["train"], epochs=ADR_EPOCHS, batch_size=32, verbose=0)

keras.utils.set_random_seed(0)
adr_cnn3d = keras.Sequential([keras.Input((14, 14, 14, 1)), layers.Conv3D(8, 3, activation="relu"), layers.MaxPooling3D(2),
                              layers.Conv3D(16, 3, activation="relu"), layers.GlobalMaxPooling3D(),
                              layers.Dense(1, activation="sigmoid")], name="small_3d_cnn")
adr_cnn3d.compile(optimizer="adam", loss="binary_crossentropy")
adr_cnn3d.fit(x_adr["train"][..., None], y_adr["train"], epochs=ADR_EPOCHS, batch_size=32, verbose=0)

flat = {s: x.reshape(len(x), -1) for s, x in x_adr.items()}
val_auc = {C: roc_auc_score(y_adr["val"], LogisticRegression(C=C, max_iter=2000).fit(flat["train"], y_adr["train"])
                            .predict_proba(flat["val"])[:, 1]) for C in (0.01, 0.1)}
best_C = max(val_auc, key=val_auc.get)
adr_lr = LogisticRegression(C=best_C, max_iter=2000).fit(flat["train"], y_adr["train"])

scores_adr = {"GRU over slices": adr_gru.predict(x_adr["test"], verbose=0)[:, 0],
              "3D CNN": adr_cnn3d.predict(x_adr["test"][..., None], verbose=0)[:, 0],
              "logistic regression": adr_lr.predict_proba(flat["test"])[:, 1]}
params = {"GRU over slices": adr_gru.count_params(), "3D CNN": adr_cnn3d.count_params(),
          "logistic regression": flat["train"].shape[1] + 1}
print(f"logistic regression: C = {best_C} chosen on validation (AUC {val_auc[best_C]:.3f})")
for name, sc in scores_adr.items():
    print(f"{name:20s} {params[name]:6d} parameters  test AUC {metrics.bootstrap_auc(y_adr['test'], sc)}")
for a, b in [("GRU over slices", "3D CNN"), ("GRU over slices", "logistic regression")]:
    d = metrics.paired_bootstrap_auc(y_adr["test"], scores_adr[a], scores_adr[b])  # glands resampled one by one
    print(f"{a} - {b}: {d.estimate:+.3f} (95% CI {d.low:+.3f} to {d.high:+.3f})")
    low2, high2 = d.estimate - np.sqrt(2) * (d.estimate - d.low), d.estimate + np.sqrt(2) * (d.high - d.estimate)
    print(f"    widened by √2 (two alike glands per patient, the worst case): {low2:+.3f} to {high2:+.3f}")

# %% [markdown]
# **Reading it honestly.** Which model wins is the intervals' call, not the point estimates': a paired interval that
# contains 0 means this test set (298 glands of about 150 patients, 69 with hyperplasia) cannot tell the two models
# apart. The glands are not independent cases: each patient gave a left and a right gland, and MedMNIST did not
# release which glands belong together, so the bootstrap above resamples glands one by one, and its intervals are
# too narrow. By how much at most? The variance of a sum of two alike terms is at most twice the sum of their
# variances, $\mathrm{Var}(a+b) \le 2(\mathrm{Var}\,a + \mathrm{Var}\,b)$, so two glands per patient at most double
# the variance, and widen the interval by at most about √2 (the indented lines). Here the GRU and the 3D CNN cannot
# be told apart, and the plain logistic regression on voxels beats the GRU: its paired interval lies below 0, even
# widened. On smooth shape masks, the size and thickness of the gland carry most of the signal, which a linear model
# on voxels can pick up as well as a network can; reading the gland as a sequence of slices is a way to bring the
# RNN to 3D data, not a reason to prefer it. The MedMNIST paper reports baselines for this set too, but trained for
# 100 epochs at full resolution on a GPU; we print no published number here that we could not check.

# %% [markdown]
# ## Summary
# - The article's recurrence is three lines of NumPy; Keras' `SimpleRNN` + `Dense` compute the same numbers once
#   the weights are transposed (Keras multiplies row vectors from the right).
# - The same weights serve every step, so the parameter count does not depend on the sequence length; LSTM and
#   GRU have about four and three times as many parameters as a SimpleRNN of the same width.
# - A volume is a sequence of slices. Fed raw pixels, an RNN learns little from 700 simulated volumes; fed a CNN's
#   description of each slice, all recurrent models separate the simulated lesion volumes well, but none was shown
#   to do better than the simple "most lesion-like slice" rule. Always compare with a baseline, with a paired
#   interval over patients (the 200 test volumes are only 40 patients).
# - Gradients through a recurrent network shrink geometrically with the distance in steps; gated units (LSTM,
#   GRU) can learn to keep a path open, a plain RNN cannot. At 28 slices this did not yet matter here; at
#   hundreds of steps it does.
# - Softmax belongs after the last step when one sequence gets one of several exclusive labels; not on every
#   step, and not at all when the output is a signal value.
# - On a real ECG a small GRU forecasts 40 ms ahead; judged against persistence and a linear model, on held-out
#   time, and with the caveat that one recording is one heart.
# - On real 3D shapes (AdrenalMNIST3D), a GRU reading the gland slice by slice did no better than a small 3D CNN,
#   and worse than logistic regression on the voxels: a baseline without deep learning is the first thing to beat.

# %% [markdown] tags=["exercise"]
# ## Exercises
# **Exercise 1 (the formula).** Extend the NumPy check of section 1: write `softmax(z)` in NumPy,
# $\mathrm{softmax}(z)_i = e^{z_i} / \sum_j e^{z_j}$ along the last axis (so that a batch of rows gives one
# probability vector per row), that does not overflow for large logits (`np.exp(1000)` is `inf`), and run the
# checker. Then turn the last output $y_T$ (2 numbers) into class probabilities, check them against
# `keras.activations.softmax`, and check that they sum to 1. Why may you subtract any constant from the logits?

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_softmax"
from helpers.checks import check_softmax


def softmax(z):
    """exp(z_i) / sum_j exp(z_j) over the last axis; the largest logit is subtracted first (no overflow)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


check_softmax(softmax)
logits = y_np[-1]
p_np = softmax(logits)
p_keras = keras.ops.convert_to_numpy(keras.activations.softmax(logits[None].astype("float32")))[0]
np.testing.assert_allclose(p_np, p_keras, rtol=1e-5)
assert abs(p_np.sum() - 1) < 1e-12
print("OK: NumPy softmax of y_T =", p_np.round(3), "agrees with Keras and sums to 1")
# e^(z_i - c) / sum_j e^(z_j - c) = e^(z_i) / sum_j e^(z_j): the factor e^(-c) cancels. With c = max(z) the largest
# exponent is 0, so nothing overflows, and at least one term of the sum is 1, so nothing divides by 0.

# %% [markdown] tags=["exercise"]
# **Exercise 2 (order matters).** The one-way SimpleRNN of section 2 read the slices from 0 to 27. Feed it the
# same simulated test volumes with the slice order reversed (`f_test[:, ::-1]`), without retraining. What happens
# to its test AUC, and what happens to the bidirectional GRU's? Put the SimpleRNN's test AUC on the reversed volumes
# in `answer` and run the checker. Explain.

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_reversed_auc(answer, seq_models['simplernn'], f_test, test3d.y)"
from helpers.checks import check_reversed_auc

# axis 1 holds the slices: reverse it, keep each slice as it is (no retraining, the same model)
answer = roc_auc_score(test3d.y, seq_models["simplernn"].predict(np.ascontiguousarray(f_test[:, ::-1]), verbose=0)[:, 0])
check_reversed_auc(answer, seq_models["simplernn"], f_test, test3d.y)
for name in ("simplernn", "bigru"):
    p_rev = seq_models[name].predict(np.ascontiguousarray(f_test[:, ::-1]), verbose=0)[:, 0]
    print(f"{name:9s} test AUC forward {roc_auc_score(test3d.y, seq_probs[name]):.3f}, "
          f"slices reversed {roc_auc_score(test3d.y, p_rev):.3f}")
# Almost no change here: the trained models mostly answer "does any slice look lesion-like?", a question whose
# answer does not depend on the order (compare the max-over-slices baseline). A recurrent model is not
# order-invariant in general: where order carries the information (a finding that must grow, then shrink), a
# one-way model trained on one order fails on the other, while a bidirectional one reads both.

# %% [markdown] tags=["exercise"]
# **Exercise 3 (the horizon).** How fast does the persistence baseline get worse when the forecast reaches further
# ahead, and does it keep getting worse?
# (a) For horizons of 4, 10, 25 and 50 samples (16 to 200 ms at 250 Hz), cut the test part of lead II into windows
# with `sequences.make_windows(z_ii[n_train - WINDOW:], WINDOW, h)` as in section 3.1, forecast with persistence and
# compute the test RMSE in µV over all $h$ forecast samples (for $h = 10$ you get the persistence row of the table of
# section 3.1). Put the four numbers in `answer`, in this order, and run the checker.
# (b) Now the error at exactly $k$ samples ahead, for every $k$ from 1 to 300 (4 ms to 1.2 s): the RMSE of
# $s_{t+k} - s_t$, with $s_t$ the last sample of each test window. Plot it against the lead time in ms and explain
# its shape with the ECG figure: why does it rise so fast, where does it level off, and why does it dip again
# near 1 s?
# *Figure (in the solution): the RMSE of persistence against the lead time, from 4 ms to 1.2 s, with the mean RR
# interval (the time between two heartbeats) and √2 × the signal's standard deviation marked.*

# %% tags=["solution"] jupyter={"source_hidden": true} check="check_horizon_rmse(answer, z_ii[n_train - WINDOW:], (4, 10, 25, 50), WINDOW, sd)"
from scipy.signal import find_peaks

from helpers.checks import check_horizon_rmse

# (a) for each horizon h: the test windows for h, persistence repeats the last sample seen h times, and the RMSE
# runs over all windows and all h forecast samples (rmse_uv undoes the standardisation: microvolts)
horizons = (4, 10, 25, 50)
answer = []
for h in horizons:
    Xh, Yh = sequences.make_windows(z_ii[n_train - WINDOW:], WINDOW, h)
    answer.append(rmse_uv(np.repeat(Xh[:, -1, :], h, axis=1), Yh))
check_horizon_rmse(answer, z_ii[n_train - WINDOW:], (4, 10, 25, 50), WINDOW, sd)
for h, e in zip(horizons, answer):
    print(f"horizon {h:2d} samples ({1000 * h / fs:3.0f} ms): persistence RMSE {e:5.1f} µV")

# (b) the error at exactly k samples ahead: s[t + k] against the last sample seen, s[t], t at the end of each window
s_test = z_ii[n_train - WINDOW:]
lags = np.arange(1, 301)
at_lag = np.array([rmse_uv(s_test[WINDOW - 1:len(s_test) - k], s_test[WINDOW - 1 + k:]) for k in lags])
r_ii, _ = find_peaks(lead_ii, height=np.percentile(lead_ii, 99) * 0.5, distance=int(0.3 * fs))  # as in notebook 00
rr_ms = 1000 * np.diff(r_ii).mean() / fs
far = lags > 0.5 * fs
dip = lags[far][at_lag[far].argmin()]
print(f"k samples ahead: {at_lag[0]:.0f} µV at 4 ms, {at_lag[lags == 25][0]:.0f} µV at 100 ms; beyond 0.5 s the "
      f"lowest is {at_lag[far].min():.0f} µV at {1000 * dip / fs:.0f} ms; mean RR interval {rr_ms:.0f} ms; "
      f"√2 × signal SD = {np.sqrt(2) * sd:.0f} µV")

# extra code – the error against the lead time, with the RR interval and √2 × SD marked
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.plot(1000 * lags / fs, at_lag, color="#E69F00", label="persistence, k samples ahead")
ax.axvline(rr_ms, color="grey", ls=":", label=f"mean RR interval ({rr_ms:.0f} ms)")
ax.axhline(np.sqrt(2) * sd, color="grey", ls="--", lw=0.8, label="√2 × signal SD")
ax.set_xlabel("lead time (ms)")
ax.set_ylabel("test RMSE (µV)")
ax.set_title("Persistence on the held-out end of lead II: error against lead time")
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()
# (a) The error climbs from 110 µV at 16 ms to 237 µV at 200 ms. Each number averages over all h forecast samples,
# the easy first ones included, so it lags behind the error at exactly h samples ahead of (b).
# (b) 4 ms ahead the signal has barely moved (49 µV). Within a QRS complex (about 100 ms) the R wave rises and falls
# by more than 1 mV, so persistence loses track within a few tens of milliseconds. From about 60 ms on, the last
# sample seen says nothing about the one to come, and the error levels off near √2 × the signal's SD: the error of
# comparing two unrelated samples. Near one RR interval it dips: the next beat repeats this one, so the sample one
# beat back is a good forecast again. It does not reach 0 because the intervals vary by some tens of ms from beat
# to beat. A learned forecaster earns its keep by using what persistence ignores: the shape of a beat and the
# rhythm.

# %% [markdown]
# ## References
# - Elman JL. Finding structure in time. *Cognitive Science* 14(2):179-211 (1990).
# - Bengio Y, Simard P, Frasconi P. Learning long-term dependencies with gradient descent is difficult. *IEEE
#   Transactions on Neural Networks* 5(2):157-166 (1994) (the vanishing gradient).
# - Hochreiter S, Schmidhuber J. Long short-term memory. *Neural Computation* 9(8):1735-1780 (1997).
# - Cho K, van Merriënboer B, Gulcehre C, et al. Learning phrase representations using RNN encoder-decoder for
#   statistical machine translation. *EMNLP* 2014, 1724-1734 (the GRU).
# - Schuster M, Paliwal KK. Bidirectional recurrent neural networks. *IEEE Transactions on Signal Processing*
#   45(11):2673-2681 (1997).
# - Yang J, Shi R, Wei D, et al. MedMNIST v2: a large-scale lightweight benchmark for 2D and 3D biomedical image
#   classification. *Scientific Data* 10:41 (2023).
