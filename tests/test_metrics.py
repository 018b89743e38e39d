"""Unit tests of helpers.metrics: known classifiers (perfect, random, inverted) and bad inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import metrics
from helpers.metrics import MetricInputError

RNG = np.random.default_rng(0)
Y = np.repeat([0, 1], 200)
PERFECT = np.where(Y == 1, 0.9, 0.1) + RNG.uniform(-0.05, 0.05, Y.size)
RANDOM = RNG.uniform(0, 1, Y.size)
INVERTED = 1 - PERFECT


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, helpers.metrics; print('tensorflow' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_clinical_metrics_known_counts():
    y_true = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    y_pred = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]
    m = metrics.clinical_metrics(y_true, y_pred)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (3, 1, 1, 5)
    assert m["sensitivity"] == pytest.approx(0.75)
    assert m["specificity"] == pytest.approx(5 / 6)
    assert m["ppv"] == pytest.approx(0.75)
    assert m["npv"] == pytest.approx(5 / 6)
    assert m["f1"] == pytest.approx(0.75)
    assert m["prevalence"] == pytest.approx(0.4)


def test_clinical_metrics_matches_sklearn_and_pos_label_zero():
    from sklearn.metrics import f1_score, precision_score, recall_score

    y_true = RNG.integers(0, 2, 300)
    y_pred = np.where(RNG.uniform(size=300) < 0.8, y_true, 1 - y_true)
    for pos in (0, 1):
        m = metrics.clinical_metrics(y_true, y_pred, pos_label=pos)
        assert m["sensitivity"] == pytest.approx(recall_score(y_true, y_pred, pos_label=pos))
        assert m["ppv"] == pytest.approx(precision_score(y_true, y_pred, pos_label=pos))
        assert m["f1"] == pytest.approx(f1_score(y_true, y_pred, pos_label=pos))
    m0, m1 = (metrics.clinical_metrics(y_true, y_pred, pos_label=p) for p in (0, 1))
    assert m0["sensitivity"] == pytest.approx(m1["specificity"])


def test_no_predicted_positive_gives_nan_ppv():
    m = metrics.clinical_metrics([0, 1, 1], [0, 0, 0])
    assert math.isnan(m["ppv"]) and m["sensitivity"] == 0.0


def test_perfect_classifier():
    ci = metrics.bootstrap_auc(Y, PERFECT, n_boot=200)
    assert (ci.estimate, ci.low, ci.high) == pytest.approx((1.0, 1.0, 1.0))
    m = metrics.clinical_metrics(Y, (PERFECT >= 0.5).astype(int))
    assert m["sensitivity"] == m["specificity"] == m["accuracy"] == 1.0


def test_inverted_classifier():
    ci = metrics.bootstrap_auc(Y, INVERTED, n_boot=200)
    assert (ci.estimate, ci.high) == pytest.approx((0.0, 0.0))
    assert metrics.bootstrap_auc(Y, INVERTED, pos_label=0, n_boot=200).estimate == 1.0


def test_random_classifier_interval_covers_half():
    ci = metrics.bootstrap_auc(Y, RANDOM, n_boot=500)
    assert ci.low < 0.5 < ci.high
    assert 0.05 < ci.high - ci.low < 0.25
    assert str(ci).startswith(f"{ci.estimate:.3f} (95% CI")


def test_bootstrap_is_seeded():
    a = metrics.bootstrap_auc(Y, RANDOM, n_boot=200, seed=3)
    b = metrics.bootstrap_auc(Y, RANDOM, n_boot=200, seed=3)
    assert a == b


def test_resampled_aucs_equal_roc_auc_score_with_ties():
    from sklearn.metrics import roc_auc_score

    y = np.repeat([1, 0, 1, 0], [30, 50, 20, 60])
    score = np.round(RNG.uniform(0, 1, y.size) + 0.3 * y, 1)  # coarse: many tied scores
    positive = y == 1
    rows = metrics._stratified_indices(positive, 300, seed=1)
    expected = [roc_auc_score(positive[r], score[r]) for r in rows]
    np.testing.assert_allclose(metrics._resampled_aucs(positive, score, rows), expected, rtol=0, atol=1e-12)
    ci = metrics.bootstrap_auc(y, score, n_boot=300, seed=1)
    assert (ci.low, ci.high) == tuple(np.quantile(expected, [0.025, 0.975]))


def test_paired_bootstrap():
    same = metrics.paired_bootstrap_auc(Y, RANDOM, RANDOM, n_boot=200)
    assert same.estimate == same.low == same.high == 0.0
    better = metrics.paired_bootstrap_auc(Y, PERFECT, RANDOM, n_boot=200)
    assert better.low > 0.3 and better.p_value < 0.01


def test_ppv_at_prevalence():
    ppv, npv = metrics.ppv_npv_at_prevalence(0.9, 0.9, 0.01)
    assert ppv == pytest.approx(0.009 / (0.009 + 0.099))
    assert npv == pytest.approx(0.891 / (0.891 + 0.001))
    ppv, _ = metrics.ppv_npv_at_prevalence(0.8, 0.95, np.array([0.0, 0.5, 1.0]))
    assert ppv[0] == 0 and ppv[2] == 1
    with pytest.raises(MetricInputError, match="prevalence"):
        metrics.ppv_npv_at_prevalence(0.9, 0.9, 1.5)


def test_calibration_perfectly_calibrated_and_brier():
    p = np.repeat(np.linspace(0.05, 0.95, 10), 1000)
    y = (np.random.default_rng(1).uniform(size=p.size) < p).astype(int)
    cal = metrics.calibration(y, p, n_bins=10)
    assert cal["counts"].sum() == p.size and len(cal["counts"]) == len(cal["prob_true"])
    np.testing.assert_allclose(cal["prob_true"], cal["prob_pred"], atol=0.05)
    assert cal["ece"] < 0.03
    assert metrics.calibration([0, 1], [0.0, 1.0], n_bins=2)["brier"] == 0.0


def test_rate_by_bins():
    rates, counts = metrics.rate_by_bins([0.5, 1.5, 1.6, 2.0], [True, False, True, True], [0, 1, 2])
    np.testing.assert_allclose(rates, [1.0, 2 / 3])
    assert counts.tolist() == [1, 3]
    with pytest.raises(MetricInputError, match="increasing"):
        metrics.rate_by_bins([1.0], [True], [2, 1])


@pytest.mark.parametrize("call, message", [
    (lambda: metrics.bootstrap_auc([1, 1, 1], [0.2, 0.4, 0.6]), "one class only"),
    (lambda: metrics.bootstrap_auc([0, 1, 1], [0.2, 0.4]), "differ in length"),
    (lambda: metrics.calibration([0, 1, 1], [0.2, 0.4, 1.3]), r"\[0, 1\]"),
    (lambda: metrics.calibration([0, 1, 1], [-0.1, 0.4, 0.3]), r"\[0, 1\]"),
    (lambda: metrics.bootstrap_auc([0, 1, 2], [0.2, 0.4, 0.6]), "two classes"),
    (lambda: metrics.bootstrap_auc([0, 1, 1], [0.2, np.nan, 0.6]), "NaN"),
    (lambda: metrics.bootstrap_auc([0, 1], [[0.2, 0.8], [0.4, 0.6]]), "1D"),
    (lambda: metrics.bootstrap_auc(Y, RANDOM, pos_label=2), "pos_label"),
    (lambda: metrics.bootstrap_auc(Y, RANDOM, n_boot=10), "n_boot"),
    (lambda: metrics.bootstrap_auc(Y, RANDOM, level=95), "level"),
    (lambda: metrics.clinical_metrics([0, 1, 1], [0, 1]), "shape"),
    (lambda: metrics.clinical_metrics([0, 1, 1], [0, 1, 2]), "labels"),
    (lambda: metrics.paired_bootstrap_auc(Y, RANDOM, RANDOM[:-1]), "differ in length"),
])
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises(MetricInputError, match=message):
        call()


# ---------------------------------------------------------------- scores as MedMNIST reports them (from test_train)
def test_auc_acc_binary_and_multiclass():
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8]])
    assert metrics.auc_acc(y, p) == {"auc": 1.0, "acc": 0.75}
    assert metrics.auc_acc(y, p, task="binary") == metrics.auc_acc(y, p)
    y3 = np.array([0, 1, 2, 2])
    p3 = np.eye(3)[[0, 1, 2, 1]] * 0.7 + 0.1
    r = metrics.auc_acc(y3, p3)
    assert r["acc"] == 0.75 and 0.5 < r["auc"] <= 1
    assert metrics.auc_acc(y3, p3, task="ordinal") == r      # MedMNIST scores ordinal sets as multi-class
    with pytest.raises(ValueError, match="proba"):
        metrics.auc_acc(y, p[:3])
    with pytest.raises(MetricInputError, match="task"):
        metrics.auc_acc(y, p, task="multi-label, binary-class")
    with pytest.raises(MetricInputError, match="binary"):
        metrics.auc_acc(y3, p3, task="binary")


def test_logit_inverts_the_sigmoid_and_stays_finite():
    p = np.array([0.0, 0.2, 0.5, 0.9, 1.0], dtype=np.float32)
    z = metrics.logit(p)
    assert z.dtype == np.float32 and np.all(np.isfinite(z)) and z[2] == 0
    np.testing.assert_allclose(1 / (1 + np.exp(-z[1:4])), p[1:4], rtol=1e-6)


# ---------------------------------------------------------------- the patient-level bootstrap (from test_subgroups)
N_PAT, PER = 30, 10
PATIENTS = np.repeat(np.arange(N_PAT), PER)
Y_PAT = np.repeat(np.random.default_rng(0).permutation(np.r_[np.zeros(N_PAT // 2), np.ones(N_PAT // 2)]).astype(int),
                  PER)


def test_patient_weights_resample_whole_patients_within_classes():
    W = metrics.patient_weights(Y_PAT, PATIENTS, n_boot=200, seed=0)
    assert W.shape == (200, Y_PAT.size)
    per_patient = W.reshape(200, N_PAT, PER)
    assert np.all(per_patient == per_patient[:, :, :1])  # all images of a patient share its weight
    sick = Y_PAT.reshape(N_PAT, PER)[:, 0] == 1
    np.testing.assert_array_equal(per_patient[:, sick, 0].sum(1), sick.sum())  # as many sick patients every time
    np.testing.assert_array_equal(per_patient[:, ~sick, 0].sum(1), (~sick).sum())
    assert np.array_equal(W, metrics.patient_weights(Y_PAT, PATIENTS, n_boot=200, seed=0))
    together = metrics.patient_weights(None, PATIENTS, n_boot=200, seed=0)   # unstratified: as patient_bootstrap
    assert together.reshape(200, N_PAT, PER)[:, :, 0].sum(1).tolist() == [N_PAT] * 200


def test_patient_weights_bad_inputs():
    with pytest.raises(MetricInputError, match="patients"):
        metrics.patient_weights(Y_PAT, PATIENTS[:5])
    with pytest.raises(MetricInputError, match="n_boot"):
        metrics.patient_weights(Y_PAT, PATIENTS, n_boot=10)
    with pytest.raises(MetricInputError, match="y_true"):
        metrics.patient_weights()


# ---------------------------------------------------------------- AUC intervals over patients (notebooks 02 and 03)
def test_weighted_auc_equals_roc_auc_score_on_the_cases_repeated_by_their_counts():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    y = Y_PAT.copy()
    y[::7] = 1 - y[::7]                                          # some patients with images of both labels
    score = np.round(rng.uniform(0, 1, y.size) + 0.3 * y, 1)     # coarse: many tied scores
    positive = y == 1
    W = metrics.patient_weights(y, PATIENTS, n_boot=200, seed=1)
    counts = W.astype(int)
    expected = [roc_auc_score(np.repeat(positive, c), np.repeat(score, c)) for c in counts]
    np.testing.assert_allclose(metrics.weighted_auc(positive, score, W), expected, rtol=0, atol=1e-12)
    ci = metrics.bootstrap_auc(y, score, n_boot=200, seed=1, patients=PATIENTS)
    np.testing.assert_allclose((ci.low, ci.high), np.quantile(expected, [0.025, 0.975]), rtol=0, atol=1e-12)
    assert ci.estimate == roc_auc_score(positive, score)         # the estimate itself is unweighted


def test_without_patients_the_case_bootstrap_is_unchanged():
    rows = metrics._stratified_indices(Y == 1, 300, seed=4)
    boots = metrics._resampled_aucs(Y == 1, RANDOM, rows)
    ci = metrics.bootstrap_auc(Y, RANDOM, n_boot=300, seed=4, patients=None)
    assert (ci.low, ci.high) == tuple(np.quantile(boots, [0.025, 0.975]))
    assert ci == metrics.bootstrap_auc(Y, RANDOM, n_boot=300, seed=4)
    diffs = metrics._resampled_aucs(Y == 1, PERFECT, rows) - boots
    d = metrics.paired_bootstrap_auc(Y, PERFECT, RANDOM, n_boot=300, seed=4, patients=None)
    assert (d.low, d.high) == tuple(np.quantile(diffs, [0.025, 0.975]))
    assert d.p_value == min(1.0, 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0)))


def test_every_case_its_own_patient_gives_about_the_case_bootstrap():
    own = np.arange(Y.size)
    for a, b in [(metrics.bootstrap_auc(Y, RANDOM), metrics.bootstrap_auc(Y, RANDOM, patients=own)),
                 (metrics.paired_bootstrap_auc(Y, RANDOM, 0.5 * RANDOM + 0.5 * PERFECT),
                  metrics.paired_bootstrap_auc(Y, RANDOM, 0.5 * RANDOM + 0.5 * PERFECT, patients=own))]:
        assert a.estimate == b.estimate
        assert abs(a.low - b.low) < 0.015 and abs(a.high - b.high) < 0.015


def test_images_of_few_patients_give_a_wider_interval():
    # 30 patients of 10 images each; the images of a patient share most of their score (strongly correlated)
    rng = np.random.default_rng(3)
    score = 0.6 * Y_PAT + np.repeat(rng.normal(size=N_PAT), PER) + 0.1 * rng.normal(size=Y_PAT.size)
    other = score + np.repeat(0.5 * rng.normal(size=N_PAT), PER)
    as_images = metrics.bootstrap_auc(Y_PAT, score)
    as_patients = metrics.bootstrap_auc(Y_PAT, score, patients=PATIENTS)
    assert as_patients.estimate == as_images.estimate
    assert as_patients.high - as_patients.low > 2 * (as_images.high - as_images.low)
    d_images = metrics.paired_bootstrap_auc(Y_PAT, score, other)
    d_patients = metrics.paired_bootstrap_auc(Y_PAT, score, other, patients=PATIENTS)
    assert d_patients.high - d_patients.low > 2 * (d_images.high - d_images.low)


@pytest.mark.parametrize("call", [
    lambda: metrics.bootstrap_auc(Y_PAT, Y_PAT * 0.5, patients=PATIENTS[:-1]),
    lambda: metrics.bootstrap_auc(Y_PAT, Y_PAT * 0.5, patients=PATIENTS[:, None]),
    lambda: metrics.paired_bootstrap_auc(Y_PAT, Y_PAT * 0.5, Y_PAT * 0.2, patients=PATIENTS[:5]),
])
def test_auc_intervals_refuse_patients_of_the_wrong_shape(call):
    with pytest.raises(MetricInputError, match=r"patients must be one id per case, shape \(300,\)"):
        call()
