"""Checkers: right answers pass, wrong ones get a specific hint, broken ones get words, never a traceback."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import checks


# ---------------------------------------------------------------- answers a learner might write
def max_pool(x, size=2):
    rows, cols = x.shape[0] // size, x.shape[1] // size
    return x[:rows * size, :cols * size].reshape(rows, size, cols, size).max(axis=(1, 3))


def average_pool(x, size=2):
    rows, cols = x.shape[0] // size, x.shape[1] // size
    return x[:rows * size, :cols * size].reshape(rows, size, cols, size).mean(axis=(1, 3))


def strided_pool(x, size=3, stride=1):
    rows, cols = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1
    out = np.empty((rows, cols))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = x[r * stride:r * stride + size, c * stride:c * stride + size].max()
    return out


def loop_pool_max_from_zero(x, size=2):
    """A classic bug: the running maximum starts at 0, wrong for negative images."""
    out = np.zeros((x.shape[0] // size, x.shape[1] // size))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            best = 0.0
            for v in x[r * size:(r + 1) * size, c * size:(c + 1) * size].ravel():
                best = max(best, v)
            out[r, c] = best
    return out


def check(fn, *args, **kwargs):
    return fn(*args, quiet=True, **kwargs)


# ---------------------------------------------------------------- pooling
def test_pool_right_answers():
    assert check(checks.check_max_pool, max_pool)
    assert check(checks.check_average_pool, average_pool)
    assert check(checks.check_max_pool, max_pool, size=3)
    assert check(checks.check_max_pool, strided_pool, size=3, stride=1)
    assert check(checks.check_max_pool, lambda x, s: max_pool(x, s).tolist())      # a list is fine too


def test_pool_wrong_answers_get_specific_hints():
    fb = check(checks.check_max_pool, average_pool)
    assert not fb and "this is average pooling" in fb.message and "input 1" in fb.message
    fb = check(checks.check_average_pool, max_pool)
    assert not fb and "this is max pooling" in fb.message
    fb = check(checks.check_max_pool, loop_pool_max_from_zero)
    assert not fb and "input 2 (6x6, negative values)" in fb.message and "expected" in fb.message
    fb = check(checks.check_max_pool, lambda x, size, stride: max_pool(x, size), size=3, stride=1)
    assert not fb and "(2, 2)" in fb.message and "stride" in fb.message


def test_pool_broken_answers_are_reported_not_raised(capsys):
    fb = checks.check_max_pool(lambda x, size: x[0, 0] + undefined_name)  # noqa: F821
    out = capsys.readouterr().out
    assert not fb and out.startswith("not yet:") and "NameError" in out and "undefined_name" in out
    fb = check(checks.check_max_pool, lambda x, size: np.zeros((3, 3)))
    assert "shape (3, 3)" in fb.message and "expected (2, 2)" in fb.message and "// size" in fb.message
    fb = check(checks.check_max_pool, lambda x, size: None)
    assert "forget `return`" in fb.message
    fb = check(checks.check_max_pool, lambda x, size: "nonsense")
    assert "not an array" in fb.message
    fb = check(checks.check_max_pool, 42)
    assert "expected a function" in fb.message
    fb = check(checks.check_max_pool, ...)
    assert "replace the `...`" in fb.message
    fb = check(checks.check_max_pool, lambda x: x)                                  # wrong signature
    assert "TypeError" in fb.message


def test_pool_reference_equals_keras():
    keras = pytest.importorskip("keras")
    for _, x in checks._pool_inputs():
        for size, stride in [(2, 2), (3, 1), (2, 1)]:
            x4 = x.astype("float32")[None, :, :, None]
            for kind, layer in [("max", keras.layers.MaxPooling2D), ("average", keras.layers.AveragePooling2D)]:
                ref = np.asarray(layer(size, strides=stride)(x4))[0, :, :, 0]
                np.testing.assert_allclose(checks._pool_reference(x, size, stride, kind), ref, rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------- CT
def test_window():
    from helpers import imaging

    assert check(checks.check_window, imaging.window)
    fb = check(checks.check_window, lambda hu, c, w: (hu - (c - w / 2)) / w)
    assert not fb and "clip" in fb.message and "soft-tissue" in fb.message
    fb = check(checks.check_window, lambda hu, c, w: np.clip((hu - c) / w, 0, 1))
    assert not fb and "center - width/2" in fb.message
    fb = check(checks.check_window, lambda hu, c, w: 255 * imaging.window(hu, c, w))
    assert "0..255" in fb.message
    assert "ValueError" in check(checks.check_window, lambda hu, c, w: int("x")).message


def test_hounsfield():
    assert check(checks.check_hounsfield, lambda s, m, b: s.astype(np.float32) * m + b)
    fb = check(checks.check_hounsfield, lambda s, m, b: s * m + b)          # uint16 + int overflows in NumPy 2
    assert not fb and "float" in fb.message and "integer slope" in fb.message
    fb = check(checks.check_hounsfield, lambda s, m, b: s * np.uint16(m) + np.uint16(b % 65536))
    assert not fb and "wrapped around" in fb.message
    assert "intercept is missing" in check(checks.check_hounsfield, lambda s, m, b: s * float(m)).message
    assert "swapped" in check(checks.check_hounsfield, lambda s, m, b: s * float(b) + m).message


# ---------------------------------------------------------------- evaluation
Y_TRUE = np.array([1, 1, 1, 0, 0, 0, 0, 1, 0, 0])
Y_PRED = np.array([1, 0, 1, 0, 1, 0, 0, 1, 0, 1])   # tp 3, fn 1, fp 2, tn 4


def test_confusion_counts():
    assert check(checks.check_confusion_counts, (3, 2, 1, 4), Y_TRUE, Y_PRED)
    assert check(checks.check_confusion_counts, {"tp": 3, "fp": 2, "fn": 1, "tn": 4}, Y_TRUE, Y_PRED)
    assert check(checks.check_confusion_counts, (np.int64(3), 2, 1, 4), Y_TRUE, Y_PRED)
    assert "swapped" in check(checks.check_confusion_counts, (3, 1, 2, 4), Y_TRUE, Y_PRED).message
    assert "negative class" in check(checks.check_confusion_counts, (4, 1, 2, 3), Y_TRUE, Y_PRED).message
    assert "add up to 9" in check(checks.check_confusion_counts, (3, 2, 1, 3), Y_TRUE, Y_PRED).message
    assert "tuple" in check(checks.check_confusion_counts, 3, Y_TRUE, Y_PRED).message
    assert "lacks the keys" in check(checks.check_confusion_counts, {"tp": 3}, Y_TRUE, Y_PRED).message
    assert check(checks.check_confusion_counts, (4, 1, 2, 3), Y_TRUE, Y_PRED, pos_label=0)   # label 0 = disease


def test_sensitivity_specificity():
    assert check(checks.check_sensitivity_specificity, (0.75, 4 / 6), Y_TRUE, Y_PRED)
    assert "swapped" in check(checks.check_sensitivity_specificity, (4 / 6, 0.75), Y_TRUE, Y_PRED).message
    assert "precision" in check(checks.check_sensitivity_specificity, (0.6, 4 / 6), Y_TRUE, Y_PRED).message
    assert "fractions" in check(checks.check_sensitivity_specificity, (75, 66.7), Y_TRUE, Y_PRED).message
    fb = check(checks.check_sensitivity_specificity, (0.75, 0.5), Y_TRUE, Y_PRED)
    assert not fb and "specificity is off" in fb.message


def test_ppv():
    sens, spec, prev = 0.9, 0.8, 0.01
    ref = sens * prev / (sens * prev + (1 - spec) * (1 - prev))
    assert check(checks.check_ppv, ref, sens, spec, prev)
    assert "sensitivity" in check(checks.check_ppv, 0.9, sens, spec, prev).message
    assert "too high" in check(checks.check_ppv, 0.5, sens, spec, prev).message


def test_threshold():
    scores = np.array([0.9, 0.2, 0.8, 0.1, 0.7, 0.3, 0.05, 0.6, 0.15, 0.25])
    assert check(checks.check_threshold, 0.2, Y_TRUE, scores, min_sensitivity=0.95)
    assert check(checks.check_threshold, 0.18, Y_TRUE, scores, min_sensitivity=0.95)   # flags the same cases
    fb = check(checks.check_threshold, 0.5, Y_TRUE, scores, min_sensitivity=0.95)
    assert not fb and "lower the threshold" in fb.message
    fb = check(checks.check_threshold, 0.1, Y_TRUE, scores, min_sensitivity=0.95)
    assert not fb and "higher" in fb.message
    assert "one number" in check(checks.check_threshold, [0.1, 0.2], Y_TRUE, scores).message


# ---------------------------------------------------------------- shapes and parameter counts
def test_output_shape():
    assert check(checks.check_output_shape, (None, 3, 3, 64), (3, 3, 64))
    assert check(checks.check_output_shape, np.zeros((8, 2)), (None, 2))
    fb = check(checks.check_output_shape, (None, 5, 5, 64), (None, 3, 3, 64))
    assert not fb and "axis 1 is 5, expected 3" in fb.message
    assert "axes" in check(checks.check_output_shape, (None, 576), (3, 3, 64)).message
    assert "cannot read a shape" in check(checks.check_output_shape, object(), (2,)).message


def test_output_shape_and_param_count_of_a_keras_model():
    pytest.importorskip("keras")
    from helpers import models

    for shape, n in [((28, 28, 1), 2), ((32, 32, 3), 10), ((64, 64, 1), 2)]:
        model = models.article_cnn(shape, n, compile=False)
        assert check(checks.check_output_shape, model, (None, n))
        assert check(checks.check_article_cnn_params, model.count_params(), shape, n)
    assert not check(checks.check_output_shape, model, (None, 3))
    fb = check(checks.check_article_cnn_params, 92802 - 234)
    assert not fb and "biases" in fb.message and "92802" not in fb.message.replace(",", "")
    fb = check(checks.check_article_cnn_params, 122570)          # the 32x32x3 count, for 28x28x1
    assert not fb and "more than" in fb.message


# ---------------------------------------------------------------- layers by hand
def test_collapsed_dense():
    assert check(checks.check_collapsed_dense, lambda W1, b1, W2, b2: (W2 @ W1, W2 @ b1 + b2))
    assert check(checks.check_collapsed_dense, lambda W1, b1, W2, b2: [(W2 @ W1).tolist(), W2 @ b1 + b2])
    fb = check(checks.check_collapsed_dense, lambda W1, b1, W2, b2: (W1 @ W2, W2 @ b1 + b2))  # wrong order
    assert not fb and "W2 @ W1" in fb.message
    fb = check(checks.check_collapsed_dense, lambda W1, b1, W2, b2: (W2 @ W1, W2 @ b1))
    assert not fb and "b2 is missing" in fb.message
    fb = check(checks.check_collapsed_dense, lambda W1, b1, W2, b2: (W2 @ W1, b2))
    assert not fb and "b1 is missing" in fb.message
    fb = check(checks.check_collapsed_dense, lambda W1, b1, W2, b2: W2 @ W1)
    assert not fb and "pair (W, b)" in fb.message
    assert not check(checks.check_collapsed_dense, ...)


def stable_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax():
    assert check(checks.check_softmax, stable_softmax)
    fb = check(checks.check_softmax, lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True))
    assert not fb and "overflow" in fb.message and "largest logit" in fb.message
    fb = check(checks.check_softmax, lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum())
    assert not fb and "each row" in fb.message and "batch" in fb.message
    fb = check(checks.check_softmax, lambda z: 1 / (1 + np.exp(-z)))
    assert not fb and "sigmoid" in fb.message
    fb = check(checks.check_softmax, lambda z: None)
    assert not fb and "return" in fb.message
    assert "ZeroDivisionError" in check(checks.check_softmax, lambda z: 1 / 0).message


def test_softmax_reference_equals_keras():
    keras = pytest.importorskip("keras")
    z = np.array([[1.0, 2.0, 3.0, 4.0], [-2.0, 5.0, 0.5, 1.0]], dtype="float32")
    np.testing.assert_allclose(checks._softmax_reference(z.astype(np.float64)),
                               keras.ops.convert_to_numpy(keras.activations.softmax(z)), rtol=1e-6)


def test_evaluation_checkers_with_label_0_as_disease():
    # BreastMNIST / Wisconsin: label 0 = malignant; predictions in the same coding
    y_true = 1 - Y_TRUE
    y_pred = 1 - Y_PRED
    assert check(checks.check_confusion_counts, (3, 2, 1, 4), y_true, y_pred, pos_label=0)
    assert check(checks.check_sensitivity_specificity, (0.75, 4 / 6), y_true, y_pred, pos_label=0)
    scores = np.array([0.9, 0.2, 0.8, 0.1, 0.7, 0.3, 0.05, 0.6, 0.15, 0.25])   # P(label 0)
    assert check(checks.check_threshold, 0.2, y_true, scores, min_sensitivity=0.95, pos_label=0)
    assert not check(checks.check_threshold, 0.5, y_true, scores, min_sensitivity=0.95, pos_label=0)


def test_bad_input_gives_a_clear_error():
    with pytest.raises(ValueError, match="differ in length"):
        checks.check_confusion_counts((1, 0, 0, 0), [1, 0], [1], quiet=True)
    with pytest.raises(ValueError, match="differ in length"):
        checks.check_threshold(0.5, [1, 0, 1], [0.2, 0.9], quiet=True)
    with pytest.raises(ValueError, match="both classes"):
        checks.check_threshold(0.5, [1, 1], [0.2, 0.9], quiet=True)
    assert "one number" in check(checks.check_ppv, [0.1, 0.2], 0.9, 0.8, 0.01).message
    assert not check(checks.check_ppv, ..., 0.9, 0.8, 0.01)
    assert not check(checks.check_window, ...) and not check(checks.check_hounsfield, None)


# ---------------------------------------------------------------- the module itself
def test_feedback_is_printed_once_and_shows_nothing_more_in_a_notebook(capsys):
    fb = checks.check_max_pool(max_pool)
    assert capsys.readouterr().out.strip() == fb.message and fb.message.startswith("correct:")
    assert fb._ipython_display_() is None and bool(fb) is True and str(fb) == fb.message


def test_no_checker_reveals_its_reference_in_the_stubs():
    for name, stub in checks.STUBS.items():
        assert f"{name}(" in stub and "TODO" in stub
        namespace: dict = {}
        exec(compile(stub.replace(f"\n{name}(", f"\n_fb = {name}("), name, "exec"), namespace)
        assert not namespace["_fb"]                    # an unedited stub is "not yet", not an error


def test_stub_for():
    assert checks.stub_for("check_max_pool") == checks.STUBS["check_max_pool"]
    assert checks.stub_for("check_ppv").endswith("answer = ...\ncheck_ppv(answer)")
    assert "answer = ..." not in checks.stub_for("check_max_pool(pool_strided, 3, 1)")
    with pytest.raises(ValueError, match="known"):
        checks.stub_for("print")


def test_tensorflow_not_imported_at_module_level():
    import subprocess
    import sys

    code = "import sys, helpers.checks; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


# ---------------------------------------------------------------- notebook 00: heart rate, images per patient
def r_peak_rate(signal, fs):
    from scipy.signal import find_peaks

    peaks, _ = find_peaks(signal, height=np.percentile(signal, 99) * 0.5, distance=int(0.3 * fs))
    return 60 / (np.diff(peaks).mean() / fs)


def test_heart_rate_right_answers():
    assert check(checks.check_heart_rate, r_peak_rate)

    def median_rate(signal, fs):                       # another sound method: the median RR interval
        from scipy.signal import find_peaks

        peaks, _ = find_peaks(signal, height=0.6 * signal.max(), distance=int(0.4 * fs))
        return np.float32(60 / np.median(np.diff(peaks) / fs))

    assert check(checks.check_heart_rate, median_rate)
    # the reference on the made-up ECG is the rate it was made with
    assert abs(r_peak_rate(checks._synthetic_ecg(), 500.0) - 72) < 0.1


def test_heart_rate_wrong_answers_get_specific_hints():
    from scipy.signal import find_peaks

    def peaks_of(s, fs, height=None):
        h = np.percentile(s, 99) * 0.5 if height is None else height
        return find_peaks(s, height=h, distance=int(0.3 * fs))[0]

    fb = check(checks.check_heart_rate, lambda s, fs: r_peak_rate(s, fs) / 60)
    assert not fb and "beats per second" in fb.message and "multiply by 60" in fb.message
    fb = check(checks.check_heart_rate, lambda s, fs: 60 / np.diff(peaks_of(s, fs)).mean())
    assert not fb and "in samples" in fb.message and "divide them by fs" in fb.message
    fb = check(checks.check_heart_rate, lambda s, fs: np.diff(peaks_of(s, fs)).mean() / fs)
    assert not fb and "RR interval in seconds" in fb.message
    fb = check(checks.check_heart_rate, lambda s, fs: peaks_of(s, fs))
    assert not fb and "R peaks themselves" in fb.message
    fb = check(checks.check_heart_rate, lambda s, fs: len(peaks_of(s, fs)))
    assert not fb and "number of beats" in fb.message
    fb = check(checks.check_heart_rate, lambda s, fs: 60 * len(peaks_of(s, fs)) / (len(s) / fs))
    assert not fb and "partial beats" in fb.message and "lead II (1000 Hz" in fb.message
    fb = check(checks.check_heart_rate, lambda s, fs: r_peak_rate(s, 1000.0))          # ignores fs
    assert not fb and "250 Hz" in fb.message and "argument fs" in fb.message
    fb = check(checks.check_heart_rate, lambda s, fs: 60 / (np.diff(peaks_of(s, fs, height=0.5)).mean() / fs))
    assert not fb and "microvolts" in fb.message and "relative" in fb.message


def test_heart_rate_broken_answers_are_reported_not_raised():
    assert "replace the `...`" in check(checks.check_heart_rate, ...).message
    assert "forget `return`" in check(checks.check_heart_rate, lambda s, fs: None).message
    assert "expected a function" in check(checks.check_heart_rate, 61.0).message
    assert "TypeError" in check(checks.check_heart_rate, lambda s: 61.0).message
    assert "one number" in check(checks.check_heart_rate, lambda s, fs: "sixty").message
    assert not check(checks.check_heart_rate, lambda s, fs: float("nan"))
    assert "ZeroDivisionError" in check(checks.check_heart_rate, lambda s, fs: 1 / 0).message


PATIENTS = np.array([5, 5, 7, 7, 7, 9, 9, 9, 9, 2])      # ids 2, 5, 7, 9 with 1, 2, 3, 4 images


def test_images_per_patient_right_answers():
    pd = pytest.importorskip("pandas")
    assert check(checks.check_images_per_patient, np.array([1, 2, 3, 4]), PATIENTS)
    assert check(checks.check_images_per_patient, [1.0, 2.0, 3.0, 4.0], PATIENTS)
    assert check(checks.check_images_per_patient, {9: 4, 2: 1, 7: 3, 5: 2}, PATIENTS)
    assert check(checks.check_images_per_patient, {np.int32(2): np.int64(1), 5: 2, 7: 3, 9: 4}, PATIENTS)
    assert check(checks.check_images_per_patient, pd.Series(PATIENTS).value_counts(), PATIENTS)   # indexed by id
    fb = check(checks.check_images_per_patient, [1, 2, 3, 4], PATIENTS)
    assert "4 patients, 10 images" in fb.message


def test_images_per_patient_wrong_answers_get_specific_hints():
    pd = pytest.importorskip("pandas")
    C = checks.check_images_per_patient
    fb = check(C, np.bincount(PATIENTS), PATIENTS)
    assert not fb and "np.bincount" in fb.message and "np.unique(patients)" in fb.message
    fb = check(C, pd.Series(PATIENTS).value_counts().to_numpy(), PATIENTS)            # sorted by count
    assert not fb and "another order" in fb.message and "sort_index" in fb.message
    fb = check(C, [2, 3, 4, 2], PATIENTS)
    assert not fb and "add up to 11" in fb.message and "10 images" in fb.message
    fb = check(C, [2, 2, 4, 2], PATIENTS)
    assert not fb and "patient 2 has 1 image, you have 2" in fb.message
    fb = check(C, [6, 4], PATIENTS)
    assert not fb and "4 patients" in fb.message and "per label" in fb.message
    fb = check(C, np.ones(10), PATIENTS)
    assert not fb and "one number per image" in fb.message
    fb = check(C, {2: 1, 5: 2, 7: 3}, PATIENTS)
    assert not fb and "no entry for patient 9" in fb.message
    fb = check(C, {2: 1, 5: 2, 7: 3, 9: 4, 3: 0}, PATIENTS)
    assert not fb and "[3]" in fb.message and "leave them out" in fb.message
    fb = check(C, {2: 1, 5: 2, 7: 3, 9: 4, 11: 2}, PATIENTS)
    assert not fb and "11 does not occur" in fb.message
    fb = check(C, 3, np.repeat([1, 4, 6], 3))
    assert not fb and "every patient here has 3 images" in fb.message
    fb = check(C, 3, PATIENTS)
    assert not fb and "one number for 4 patients" in fb.message


def test_images_per_patient_broken_answers_are_reported_not_raised():
    pd = pytest.importorskip("pandas")
    C = checks.check_images_per_patient
    assert "replace the `...`" in check(C, ..., PATIENTS).message
    assert "replace the `...`" in check(C, None, PATIENTS).message
    assert "got str" in check(C, "four", PATIENTS).message
    assert "shape (4, 1)" in check(C, np.array([[1], [2], [3], [4]]), PATIENTS).message
    assert "a table" in check(C, pd.DataFrame({"n": [1, 2, 3, 4]}), PATIENTS).message
    assert "nan" in check(C, [1, 2, np.nan, 4], PATIENTS).message
    assert "patient ids" in check(C, {"a": 1}, PATIENTS).message
    assert "one number" in check(C, {2: [1, 1], 5: 2, 7: 3, 9: 4}, PATIENTS).message


def test_images_per_patient_on_the_simulated_training_set():
    from helpers import data

    pid = data.load("simlesion2d", "train").extras["patients"]
    ids, counts = np.unique(pid, return_counts=True)
    assert check(checks.check_images_per_patient, counts, pid)
    assert "np.bincount" in check(checks.check_images_per_patient, np.bincount(pid), pid).message


# ---------------------------------------------------------------- notebook 02: the forecasting horizon
def horizon_case():
    rng = np.random.default_rng(0)
    t = np.arange(400) / 250
    series = (np.sin(2 * np.pi * 1.1 * t) ** 15 + 0.05 * rng.normal(size=t.size)).astype(np.float32)
    return series, (4, 10, 25), 50, 160.0


def persistence_answers(series, horizons, window, scale, last=-1, extra_h=0, fixed=False):
    from helpers import sequences

    out = []
    longest = len(series) - window - max(horizons) + 1
    for h in horizons:
        X, Y = sequences.make_windows(series, window, h + extra_h)
        if fixed:
            X, Y = X[:longest], Y[:longest]
        out.append(float(np.sqrt(np.mean((np.repeat(X[:, last, :], h + extra_h, 1) - Y) ** 2)) * scale))
    return np.array(out)


def test_horizon_rmse_right_answers():
    pd = pytest.importorskip("pandas")
    s, hs, w, sd = horizon_case()
    ref = persistence_answers(s, hs, w, sd)
    assert np.all(np.diff(ref) > 0)
    assert check(checks.check_horizon_rmse, ref, s, hs, w, sd)
    assert check(checks.check_horizon_rmse, ref.tolist(), s, hs, w, sd)
    assert check(checks.check_horizon_rmse, dict(zip(hs, ref)), s, hs, w, sd)
    assert check(checks.check_horizon_rmse, pd.Series(ref, index=hs), s, hs, w, sd)
    assert check(checks.check_horizon_rmse, ref * 1.001, s, hs, w, sd)              # float32 sums: within 0.2 %
    assert check(checks.check_horizon_rmse, ref / sd, s, hs, w)                     # scale 1: standardised units


def test_horizon_rmse_wrong_answers_get_specific_hints():
    s, hs, w, sd = horizon_case()
    ref = persistence_answers(s, hs, w, sd)
    K = checks.check_horizon_rmse

    def hint(answer):
        fb = check(K, answer, s, hs, w, sd)
        assert not fb
        return fb.message

    assert "multiply by sd" in hint(ref / sd)
    assert "mean squared error" in hint(ref ** 2)
    assert "squared error in standardised units" in hint((ref / sd) ** 2)
    assert "reverse order" in hint(ref[::-1])
    assert "off by one horizon" in hint(persistence_answers(s, hs, w, sd, extra_h=1))
    assert "[5, 11, 26]" in hint(persistence_answers(s, hs, w, sd, extra_h=1))
    assert "off by one horizon" in hint(persistence_answers(s, hs, w, sd, extra_h=-1))
    assert "the one before it" in hint(persistence_answers(s, hs, w, sd, last=-2))
    assert "not the first" in hint(persistence_answers(s, hs, w, sd, last=0))
    assert "same 326 windows" in hint(persistence_answers(s, hs, w, sd, fixed=True))
    at_h = []
    for h in hs:
        n = len(s) - w - h + 1
        at_h.append(float(np.sqrt(np.mean((s[w + h - 1:w + h - 1 + n] - s[w - 1:w - 1 + n]) ** 2)) * sd))
    assert "exactly h samples ahead" in hint(at_h)
    msg = hint(np.r_[ref[:2], ref[2] * 0.9])
    assert "at horizon 25" in msg and "too low" in msg and "table of step 3" in msg


def test_horizon_rmse_broken_answers_are_reported_not_raised():
    s, hs, w, sd = horizon_case()
    K = checks.check_horizon_rmse
    assert "replace the `...`" in check(K, ..., s, hs, w, sd).message
    assert "replace the `...`" in check(K, None, s, hs, w, sd).message
    assert "2 numbers for 3 horizons" in check(K, [1.0, 2.0], s, hs, w, sd).message
    assert "one error per step ahead" in check(K, np.zeros(25), s, hs, w, sd).message
    assert "one number for 3 horizons" in check(K, 100.0, s, hs, w, sd).message
    assert "no entry for horizon 10" in check(K, {4: 1.0}, s, hs, w, sd).message
    assert "keys of your dict" in check(K, {"four": 1.0}, s, hs, w, sd).message
    assert "got list" in check(K, ["a", "b", "c"], s, hs, w, sd).message
    assert "nan" in check(K, [np.nan, 1.0, 2.0], s, hs, w, sd).message


def test_horizon_rmse_on_the_ecg_of_notebook_02():
    from scipy.signal import decimate

    from helpers import imaging

    ecg = imaging.load_ecg(units="uV")
    lead_ii = decimate(ecg.lead("II"), 4)
    n_train = int(7 * ecg.fs / 4)
    sd = lead_ii[:n_train].std()
    z = ((lead_ii - lead_ii[:n_train].mean()) / sd).astype("float32")
    series, hs = z[n_train - 50:], (4, 10, 25, 50)
    assert check(checks.check_horizon_rmse, persistence_answers(series, hs, 50, sd), series, hs, 50, sd)


def test_stubs_of_the_new_checkers():
    assert "def heart_rate(signal, fs)" in checks.stub_for("check_heart_rate")
    call = "check_images_per_patient(answer, train.extras['patients'])"
    assert checks.stub_for(call).endswith(f"answer = ...\n{call}")
    call = "check_horizon_rmse(answer, z_ii[n_train - WINDOW:], (4, 10, 25, 50), WINDOW, sd)"
    assert checks.stub_for(call).endswith(f"answer = ...\n{call}")
    # the unedited stubs run and say "not yet", with the names the notebooks define
    namespace = {"train": type("T", (), {"extras": {"patients": PATIENTS}})(), "np": np}
    s, hs, w, sd = horizon_case()
    namespace.update(z_ii=np.r_[np.zeros(10, np.float32), s], n_train=10 + w, WINDOW=w, sd=sd)
    for stub in (checks.stub_for("check_images_per_patient(answer, train.extras['patients'])"),
                 checks.stub_for("check_horizon_rmse(answer, z_ii[n_train - WINDOW:], (4, 10, 25), WINDOW, sd)"),
                 checks.stub_for("check_heart_rate")):
        name = stub.rsplit("\n", 1)[1].split("(", 1)[0]
        exec(compile(stub.replace(f"\n{name}(", f"\n_fb = {name}("), name, "exec"), namespace)
        assert not namespace["_fb"] and namespace["_fb"].message.startswith("not yet:")


def test_images_per_patient_other_forms():
    C = checks.check_images_per_patient
    ids, counts = np.unique(PATIENTS, return_counts=True)
    assert "keep the counts only" in check(C, (ids, counts), PATIENTS).message
    assert "dict(pairs)" in check(C, list(zip(ids, counts)), PATIENTS).message
    assert check(C, dict(zip(ids, counts)), PATIENTS)
    names = np.array(["ann", "bob", "bob"])                  # ids need not be numbers
    assert check(C, [1, 2], names)
    assert not check(C, [1, 2, 0], names)
    assert check(C, {"ann": 1, "bob": 2}, names)
    assert "no entry for patient bob" in check(C, {"ann": 1}, names).message


# ---------------------------------------------------------------- checkers of notebooks 01, 02, 05 and 06 (issue 16)
class _FakeModel:
    """A stand-in for a Keras model: ``predict`` gives (N, 2) probabilities from a fixed function of the input."""

    def __init__(self, columns: int = 2):
        self.columns = columns

    def predict(self, x, verbose=0):
        x = np.asarray(x, dtype=np.float64)
        n = len(x)
        flat = x.reshape(n, -1)
        weights = np.linspace(-1.0, 2.0, flat.shape[1]) ** 2          # not symmetric: order and flips matter
        p = 1 / (1 + np.exp(-(flat @ weights / flat.shape[1] - 0.8) * 4))
        return p[:, None] if self.columns == 1 else np.column_stack([1 - p, p])


def _pointing_inputs():
    rng = np.random.default_rng(0)
    n = 30
    centers = rng.uniform(6, 22, (n, 2))
    radii = rng.uniform(1.0, 2.5, n)
    maps = np.zeros((n, 28, 28))
    for i, (r, c) in enumerate(centers):
        off = rng.integers(0, 5, 2)                                  # peaks 0 to 4 px from the centre
        maps[i, int(r) + off[0], int(c) + off[1]] = 1.0
    return maps, centers, radii


def test_pointing_game_checker():
    from helpers import explain

    maps, centers, radii = _pointing_inputs()
    ref = explain.pointing_game(maps, centers, radii, 2.0).mean()
    assert check(checks.check_pointing_game, ref, maps, centers, radii, 2.0)
    assert check(checks.check_pointing_game, np.float32(ref), maps, centers, radii, 2.0)
    fb = check(checks.check_pointing_game, explain.pointing_game(maps, centers, radii, 0.0).mean(), maps, centers,
               radii, 2.0)
    assert not fb and "tolerance 0 px" in fb.message
    fb = check(checks.check_pointing_game, 100 * ref, maps, centers, radii, 2.0)
    assert not fb and "percentage" in fb.message
    fb = check(checks.check_pointing_game, explain.pointing_game(maps, centers, radii, 2.0), maps, centers, radii, 2.0)
    assert not fb and "hits themselves" in fb.message
    fb = check(checks.check_pointing_game, explain.chance_hit_rate((28, 28), centers, radii, 2.0), maps, centers,
               radii, 2.0)
    assert not fb and "chance level" in fb.message
    fb = check(checks.check_pointing_game, float(explain.pointing_game(maps, centers, radii, 2.0).sum()), maps,
               centers, radii, 2.0)
    assert not fb and "number of hits" in fb.message
    for bad in ("0.5", {"a": 1}, [0.1, 0.2]):
        fb = check(checks.check_pointing_game, bad, maps, centers, radii, 2.0)
        assert not fb and "expected one number" in fb.message
    for unanswered in (..., None):
        assert "replace the `...`" in check(checks.check_pointing_game, unanswered, maps, centers, radii).message


def _fusion_inputs():
    rng = np.random.default_rng(1)
    n = 120
    y = (rng.random(2 * n) < 0.5).astype(int)
    x = rng.normal(0.5, 0.3, (2 * n, 4, 4, 1)) + 0.05 * y[:, None, None, None]
    marker = rng.normal(0, 1, 2 * n) + 1.2 * y
    return x[:n], marker[:n], y[:n], x[n:], marker[n:], y[n:]


def test_late_fusion_auc_checker():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from helpers import metrics

    model = _FakeModel()
    x_tr, m_tr, y_tr, x_te, m_te, y_te = _fusion_inputs()
    p_tr, p_te = model.predict(x_tr)[:, 1], model.predict(x_te)[:, 1]
    late = LogisticRegression().fit(np.column_stack([metrics.logit(p_tr), m_tr]), y_tr)
    f_te = np.column_stack([metrics.logit(p_te), m_te])
    auc = roc_auc_score(y_te, late.predict_proba(f_te)[:, 1])
    args = (model, x_tr, m_tr, y_tr, x_te, m_te, y_te)
    assert check(checks.check_late_fusion_auc, auc, *args)
    fb = check(checks.check_late_fusion_auc, roc_auc_score(y_te, p_te), *args)
    assert not fb and "image CNN alone" in fb.message
    fb = check(checks.check_late_fusion_auc, roc_auc_score(y_te, m_te), *args)
    assert not fb and "marker alone" in fb.message
    fb = check(checks.check_late_fusion_auc, 1 - auc, *args)
    assert not fb and "1 - AUC" in fb.message
    fb = check(checks.check_late_fusion_auc, roc_auc_score(y_te, late.predict(f_te)), *args)
    assert not fb and "hard decisions" in fb.message
    fb = check(checks.check_late_fusion_auc, late.predict_proba(f_te)[:, 1], *args)
    assert not fb and "roc_auc_score" in fb.message
    assert "replace the `...`" in check(checks.check_late_fusion_auc, ..., *args).message


def test_reversed_auc_checker():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    y = np.r_[np.zeros(40, int), np.ones(40, int)]
    vol = rng.normal(0.5, 0.3, (80, 6, 5)) + 0.3 * y[:, None, None] * np.linspace(0, 1, 6)[None, :, None]
    for model in (_FakeModel(1), _FakeModel(2)):
        rev = roc_auc_score(y, model.predict(vol[:, ::-1])[:, -1])
        assert check(checks.check_reversed_auc, rev, model, vol, y)
        fb = check(checks.check_reversed_auc, roc_auc_score(y, model.predict(vol)[:, -1]), model, vol, y)
        assert not fb and "usual order" in fb.message
        fb = check(checks.check_reversed_auc, 1 - rev, model, vol, y)
        assert not fb and "1 - AUC" in fb.message
        fb = check(checks.check_reversed_auc, roc_auc_score(y, model.predict(vol[:, :, ::-1])[:, -1]), model, vol, y)
        assert not fb and "axis 2" in fb.message
    assert "expected one number" in check(checks.check_reversed_auc, "0.8", _FakeModel(), vol, y).message
    assert "replace the `...`" in check(checks.check_reversed_auc, None, _FakeModel(), vol, y).message


def test_tta_gain_checker():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(30, int), np.ones(30, int)]
    x = rng.normal(0.5, 0.6, (60, 6, 6)) + 0.3 * y[:, None, None] * np.linspace(0, 1, 6)[None, None, :]
    model = _FakeModel()
    plain, mirror = model.predict(x)[:, 1], model.predict(x[:, :, ::-1])[:, 1]
    gain = roc_auc_score(y, (plain + mirror) / 2) - roc_auc_score(y, plain)
    assert abs(gain) > 0.01
    assert check(checks.check_tta_gain, gain, model, x, y)
    fb = check(checks.check_tta_gain, -gain, model, x, y)
    assert not fb and "sign is reversed" in fb.message
    fb = check(checks.check_tta_gain, roc_auc_score(y, (plain + mirror) / 2), model, x, y)
    assert not fb and "subtract the AUC without it" in fb.message
    fb = check(checks.check_tta_gain, 100 * gain, model, x, y)
    assert not fb and "percentage points" in fb.message
    fb = check(checks.check_tta_gain, roc_auc_score(y, (plain + model.predict(x[:, ::-1])[:, 1]) / 2)
               - roc_auc_score(y, plain), model, x, y)
    assert not fb and "up-down" in fb.message
    assert "expected one number" in check(checks.check_tta_gain, [gain, gain], model, x, y).message
    assert "replace the `...`" in check(checks.check_tta_gain, ..., model, x, y).message


def test_otsu_dice_checker():
    from skimage.filters import threshold_otsu

    rng = np.random.default_rng(4)
    truth = np.zeros((5, 16, 16), bool)
    truth[:, 4:12, 3:10] = True
    imgs = np.where(truth, 150.0, 60.0) + rng.normal(0, 35, truth.shape) + np.arange(5)[:, None, None] * 20
    pred = np.stack([im > threshold_otsu(im) for im in imgs])
    per = [2 * (t & p).sum() / (t.sum() + p.sum()) for t, p in zip(truth, pred)]
    assert check(checks.check_otsu_dice, np.mean(per), imgs, truth)
    assert check(checks.check_otsu_dice, np.mean(per), imgs[..., None], truth)
    fb = check(checks.check_otsu_dice, np.mean([(t & p).sum() / (t | p).sum() for t, p in zip(truth, pred)]),
               imgs, truth)
    assert not fb and "IoU" in fb.message
    fb = check(checks.check_otsu_dice, np.mean([2 * (t & ~p).sum() / (t.sum() + (~p).sum())
                                                for t, p in zip(truth, pred)]), imgs, truth)
    assert not fb and "bright side" in fb.message
    fb = check(checks.check_otsu_dice, per, imgs, truth)
    assert not fb and "give their mean" in fb.message
    assert "replace the `...`" in check(checks.check_otsu_dice, ..., imgs, truth).message


def test_unedited_stubs_of_the_issue_16_checkers_say_not_yet():
    namespace = {"np": np, "cnn": _FakeModel(), "x_pos": np.zeros((2, 4, 4)), "centers": np.ones((2, 2)),
                 "radii": np.ones(2), "TOL": 1.0, "maps": {"Grad-CAM conv 2 (11×11)": np.zeros((2, 4, 4))}}
    for call in ("check_pointing_game(answer, maps['Grad-CAM conv 2 (11×11)'], centers, radii, 0.0)",
                 "check_late_fusion_auc(answer, cnn, x_pos, radii, radii, x_pos, radii, radii)",
                 "check_reversed_auc(answer, cnn, x_pos, radii)", "check_tta_gain(answer, cnn, x_pos, radii)",
                 "check_otsu_dice(answer, x_pos, x_pos)"):
        stub = checks.stub_for(call)
        assert stub.endswith(f"answer = ...\n{call}")
        name = call.split("(", 1)[0]
        exec(compile(stub.replace(f"\n{name}(", f"\n_fb = {name}("), name, "exec"), namespace)
        assert not namespace["_fb"] and "not yet" in namespace["_fb"].message


def test_stray_pixel_metrics_checker():
    from helpers import metrics

    truth = np.zeros((20, 20), bool)
    truth[8:14, 8:14] = True
    mask = np.zeros_like(truth)
    mask[9:15, 8:13] = True
    noisy = mask.copy()
    noisy[0, 0] = True

    def three(m):
        return metrics.dice(truth, m), metrics.hausdorff(truth, m), metrics.hausdorff(truth, m, percentile=95)

    ans = three(noisy)
    assert check(checks.check_stray_pixel_metrics, ans, truth, mask)
    assert check(checks.check_stray_pixel_metrics, list(ans), truth[..., None], mask[..., None])
    fb = check(checks.check_stray_pixel_metrics, three(mask), truth, mask)
    assert not fb and "without the stray pixel" in fb.message
    fb = check(checks.check_stray_pixel_metrics, (ans[0], ans[2], ans[1]), truth, mask)
    assert not fb and "swapped" in fb.message
    fb = check(checks.check_stray_pixel_metrics, (100 * ans[0], ans[1], ans[2]), truth, mask)
    assert not fb and "percent" in fb.message
    corner = mask.copy()
    corner[-1, -1] = True
    fb = check(checks.check_stray_pixel_metrics, three(corner), truth, mask)
    assert not fb and "bottom right corner" in fb.message
    for bad in ((0.5, 1.0), "0.5", {"dice": 0.5}):
        fb = check(checks.check_stray_pixel_metrics, bad, truth, mask)
        assert not fb and "expected (dice, hausdorff, hd95)" in fb.message
    for unanswered in (..., None, (..., 1.0, 1.0)):
        assert "replace the `...`" in check(checks.check_stray_pixel_metrics, unanswered, truth, mask).message


def _patient_auc_inputs():
    rng = np.random.default_rng(5)
    pid = np.repeat(np.arange(40), 30)
    y = (rng.random(1200) < 0.5).astype(int)
    s = rng.normal(0, 1, 40)[pid] + y + rng.normal(0, 0.7, 1200)
    return y, s, pid


def test_patient_bootstrap_ci_checker():
    from sklearn.metrics import roc_auc_score

    from helpers import metrics

    y, s, pid = _patient_auc_inputs()
    rng, ids = np.random.default_rng(0), np.unique(pid)
    rows = {p: np.flatnonzero(pid == p) for p in ids}
    boot = []
    for _ in range(1000):                                   # the notebook's solution, verbatim
        idx = np.concatenate([rows[p] for p in rng.choice(ids, len(ids))])
        if len(np.unique(y[idx])) == 2:
            boot.append(roc_auc_score(y[idx], s[idx]))
    lo, hi = np.quantile(boot, [0.025, 0.975])
    lo1, hi1, _ = checks._patient_bootstrap_ci(y == 1, s, pid, 1000, 0)
    assert abs(lo - lo1) < 1e-9 and abs(hi - hi1) < 1e-9    # the checker's fast engine is the same bootstrap
    assert check(checks.check_patient_bootstrap_ci, (lo, hi), y, s, pid)
    other_seed = checks._patient_bootstrap_ci(y == 1, s, pid, 1000, 7)[:2]
    assert check(checks.check_patient_bootstrap_ci, other_seed, y, s, pid)
    image = metrics.bootstrap_auc(y, s)
    fb = check(checks.check_patient_bootstrap_ci, image, y, s, pid)
    assert not fb and "resample images instead of patients" in fb.message
    fb = check(checks.check_patient_bootstrap_ci, (hi, lo), y, s, pid)
    assert not fb and "reversed" in fb.message
    fb = check(checks.check_patient_bootstrap_ci, (100 * lo, 100 * hi), y, s, pid)
    assert not fb and "percentages" in fb.message
    fb = check(checks.check_patient_bootstrap_ci, (lo, hi + 0.05), y, s, pid)
    assert not fb and "high end" in fb.message and "too high" in fb.message
    fb = check(checks.check_patient_bootstrap_ci, roc_auc_score(y, s), y, s, pid)
    assert not fb and "expected (low, high)" in fb.message
    assert "replace the `...`" in check(checks.check_patient_bootstrap_ci, ..., y, s, pid).message


def test_unedited_stubs_of_the_tuple_checkers_say_not_yet():
    y, s, pid = _patient_auc_inputs()
    namespace = {"np": np, "m_test": np.zeros((2, 4, 4), bool), "pred": np.zeros((2, 4, 4), bool), "i": 0,
                 "y_test": y, "p_test": s, "test": type("T", (), {"extras": {"patients": pid}})()}
    for call in ("check_stray_pixel_metrics(answer, m_test[i], pred[i])",
                 "check_patient_bootstrap_ci(answer, y_test, p_test, test.extras['patients'])"):
        stub = checks.stub_for(call)
        assert stub.endswith(f"answer = ...\n{call}")
        name = call.split("(", 1)[0]
        exec(compile(stub.replace(f"\n{name}(", f"\n_fb = {name}("), name, "exec"), namespace)
        assert not namespace["_fb"] and "not yet" in namespace["_fb"].message


def _lesion_group_inputs(seed=0):
    """40 lesion images (small/large, bright/dark) and 40 lesion-free ones; maps often peak on the lesion."""
    rng = np.random.default_rng(seed)
    n = 40
    lesion = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    centers = rng.uniform(6, 22, (n, 2))
    radii = rng.uniform(1.0, 4.0, n)
    contrasts = rng.choice([-1.0, 1.0], n) * rng.uniform(0.2, 0.6, n)
    maps = rng.random((2 * n, 28, 28))
    for i in range(n):
        if rng.random() < 0.3 + 0.15 * radii[i]:
            maps[i, int(centers[i, 0]), int(centers[i, 1])] = 5.0
    peak = maps.reshape(2 * n, -1).max(1) + rng.normal(0, 0.5, 2 * n) + 0.5 * lesion
    return maps, peak, lesion, centers, radii, contrasts


def test_lesion_groups_checker():
    from sklearn.metrics import roc_auc_score

    from helpers import explain

    maps, peak, lesion, centers, radii, contrasts = _lesion_group_inputs()
    args = (maps, peak, lesion, centers, radii, contrasts)
    hits = explain.pointing_game(maps[lesion], centers, radii, tolerance=1.5)
    groups = {"small": radii <= np.median(radii), "large": radii > np.median(radii),
              "bright": contrasts > 0, "dark": contrasts < 0}
    right = {}
    for g, mask in groups.items():
        y = np.r_[np.zeros((~lesion).sum()), np.ones(mask.sum())]
        right[g] = (hits[mask].mean(), roc_auc_score(y, np.r_[peak[~lesion], peak[lesion][mask]]))
    assert checks.check_lesion_groups(right, *args, quiet=True)
    assert "not yet" in checks.check_lesion_groups(..., *args, quiet=True).message
    assert "expected a dict" in checks.check_lesion_groups([1, 2], *args, quiet=True).message
    assert "no entry for dark" in checks.check_lesion_groups({k: v for k, v in right.items() if k != "dark"},
                                                             *args, quiet=True).message
    swapped = {**right, "small": right["small"][::-1]}
    assert "swapped" in checks.check_lesion_groups(swapped, *args, quiet=True).message
    flipped = {**right, "bright": (right["bright"][0], 1 - right["bright"][1])}
    assert "1 − AUC" in checks.check_lesion_groups(flipped, *args, quiet=True).message
    wrong_group = {**right, "small": right["large"]}
    assert "of the large lesions" in checks.check_lesion_groups(wrong_group, *args, quiet=True).message
    hits0 = explain.pointing_game(maps[lesion], centers, radii, tolerance=0.0)
    if abs(hits0[groups["small"]].mean() - right["small"][0]) > 0.002:
        tol0 = {**right, "small": (hits0[groups["small"]].mean(), right["small"][1])}
        assert "tolerance of 0 px" in checks.check_lesion_groups(tol0, *args, quiet=True).message
    within = {**right, "dark": (right["dark"][0], roc_auc_score(
        np.r_[np.zeros(groups["bright"].sum()), np.ones(groups["dark"].sum())],
        np.r_[peak[lesion][groups["bright"]], peak[lesion][groups["dark"]]]))}
    msg = checks.check_lesion_groups(within, *args, quiet=True)
    assert not msg and ("lesion-free" in msg.message or "1 − AUC" in msg.message)
    assert "two numbers" in checks.check_lesion_groups({**right, "large": 0.5}, *args, quiet=True).message
    stub = checks.stub_for("check_lesion_groups(answer, maps, peak, lesion, centers, radii, contrasts)")
    ns = {"maps": maps, "peak": peak, "lesion": lesion, "centers": centers, "radii": radii, "contrasts": contrasts}
    exec(compile(stub.replace("\ncheck_lesion_groups(", "\n_fb = check_lesion_groups("), "stub", "exec"), ns)
    assert not ns["_fb"] and "not yet" in ns["_fb"].message


def test_leaky_cv_checker():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_score

    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(40), 10)
    y = np.repeat(np.arange(40) % 2, 10)
    x = rng.normal(size=(40, 3))[patients] + rng.normal(scale=0.3, size=(400, 3)) + 0.3 * y[:, None]
    est = LogisticRegression()
    by_image = cross_val_score(est, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring="roc_auc")
    by_patient = cross_val_score(est, x, y, groups=patients, scoring="roc_auc",
                                 cv=StratifiedGroupKFold(5, shuffle=True, random_state=0))
    right = (by_image.mean(), by_patient.mean())
    assert by_image.mean() > by_patient.mean() + 0.05  # the by-image folds leak here too
    args = (est, x, y, patients)
    assert checks.check_leaky_cv(right, *args, quiet=True)
    assert "not yet" in checks.check_leaky_cv(..., *args, quiet=True).message
    assert "swapped" in checks.check_leaky_cv(right[::-1], *args, quiet=True).message
    assert "percentages" in checks.check_leaky_cv([100 * v for v in right], *args, quiet=True).message
    assert "means" in checks.check_leaky_cv((by_image.std(ddof=1), by_patient.std(ddof=1)), *args, quiet=True).message
    assert "by-image result" in checks.check_leaky_cv((right[0], right[0]), *args, quiet=True).message
    assert "folds by patient" in checks.check_leaky_cv((right[0], right[1] + 0.1), *args, quiet=True).message
    assert "two numbers" in checks.check_leaky_cv(0.9, *args, quiet=True).message
    stub = checks.stub_for("check_leaky_cv(answer, est, x, y, patients)")
    ns = {"est": est, "x": x, "y": y, "patients": patients}
    exec(compile(stub.replace("\ncheck_leaky_cv(", "\n_fb = check_leaky_cv("), "stub", "exec"), ns)
    assert not ns["_fb"] and "not yet" in ns["_fb"].message
