"""Unit tests of helpers.subgroups: weighted metrics equal scikit-learn's, patient bootstrap, subgroup table."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from helpers import metrics, subgroups
from helpers.subgroups import SubgroupInputError

RNG = np.random.default_rng(0)
N_PAT, PER = 30, 10
PATIENTS = np.repeat(np.arange(N_PAT), PER)
Y = np.repeat(RNG.permutation(np.r_[np.zeros(N_PAT // 2), np.ones(N_PAT // 2)]).astype(int), PER)
SCORE = np.clip(0.5 + 0.25 * (2 * Y - 1) + RNG.normal(0, 0.2, Y.size), 0, 1).round(2)  # rounding makes ties


def test_unweighted_metrics_equal_the_usual_ones():
    ones = np.ones((1, Y.size))
    assert subgroups.weighted_metric("auc", Y, SCORE, ones)[0] == pytest.approx(roc_auc_score(Y, SCORE))
    assert subgroups.weighted_metric("brier", Y, SCORE, ones)[0] == pytest.approx(brier_score_loss(Y, SCORE))
    m = metrics.clinical_metrics(Y, (SCORE >= 0.5).astype(int))
    for name in ("sensitivity", "specificity", "accuracy"):
        assert subgroups.weighted_metric(name, Y, SCORE, ones)[0] == pytest.approx(m[name])
    assert subgroups.weighted_metric("ece", Y, SCORE, ones)[0] == pytest.approx(metrics.calibration(Y, SCORE)["ece"])


def test_integer_weights_equal_repeated_cases():
    w = RNG.integers(0, 4, Y.size).astype(float)
    rep = np.repeat(np.arange(Y.size), w.astype(int))
    for name, ref in [("auc", roc_auc_score(Y[rep], SCORE[rep])), ("brier", brier_score_loss(Y[rep], SCORE[rep])),
                      ("ece", metrics.calibration(Y[rep], SCORE[rep])["ece"])]:
        assert subgroups.weighted_metric(name, Y, SCORE, w[None])[0] == pytest.approx(ref), name


def test_patient_bootstrap_is_wider_than_image_bootstrap_for_clustered_data():
    # scores shared within a patient: 300 images carry the information of 30 patients
    s = np.repeat(RNG.normal(0, 1, N_PAT), PER) + 0.8 * Y
    by_patient = subgroups.bootstrap_metric("auc", Y, s, patients=PATIENTS, n_boot=500)
    by_image = subgroups.bootstrap_metric("auc", Y, s, patients=None, n_boot=500)
    assert by_patient.high - by_patient.low > 1.5 * (by_image.high - by_image.low)
    assert by_patient.low <= by_patient.estimate <= by_patient.high


def test_subgroup_table_rows_and_shared_negatives():
    groups = np.where(Y == 0, "healthy", np.where(PATIENTS % 2 == 0, "small", "large"))
    rows = subgroups.subgroup_table(Y, SCORE, groups, patients=PATIENTS, n_boot=200)
    by = {r["group"]: r for r in rows}
    assert list(by) == ["all", *dict.fromkeys(groups.tolist())]
    assert by["all"]["n"] == Y.size and by["all"]["n_patients"] == N_PAT
    assert by["all"]["auc"].estimate == pytest.approx(roc_auc_score(Y, SCORE))
    small = groups == "small"
    # a group of positives only: AUC against all negatives, specificity not applicable
    ref = roc_auc_score(Y[small | (Y == 0)], SCORE[small | (Y == 0)])
    assert by["small"]["auc"].estimate == pytest.approx(ref)
    assert np.isnan(by["small"]["specificity"].estimate)
    assert by["small"]["sensitivity"].estimate == pytest.approx(np.mean(SCORE[small] >= 0.5))
    assert np.isnan(by["healthy"]["sensitivity"].estimate)
    text = subgroups.format_table(rows)
    assert "n/a" in text and text.splitlines()[1].startswith("all")


def test_per_class_recall():
    r = subgroups.per_class_recall(np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 0, 0]), n_classes=4)
    np.testing.assert_allclose(r[:3], [0.5, 1.0, 0.0])
    assert np.isnan(r[3])


def test_bad_inputs_rejected():
    with pytest.raises(SubgroupInputError, match="unknown metric"):
        subgroups.weighted_metric("f2", Y, SCORE, np.ones((1, Y.size)))
    with pytest.raises(SubgroupInputError, match="weights must be"):
        subgroups.weighted_metric("auc", Y, SCORE, np.ones((1, 5)))
    with pytest.raises(SubgroupInputError, match="non-negative"):
        subgroups.weighted_metric("auc", Y, SCORE, -np.ones((1, Y.size)))
    with pytest.raises(SubgroupInputError, match="groups"):
        subgroups.subgroup_table(Y, SCORE, ["a"] * 3)
    with pytest.raises(SubgroupInputError, match="level"):
        subgroups.bootstrap_metric("auc", Y, SCORE, level=95)
    with pytest.raises(metrics.MetricInputError, match="probabilities"):
        subgroups.weighted_metric("brier", Y, SCORE * 3, np.ones((1, Y.size)))
    with pytest.raises(SubgroupInputError, match="integer class"):
        subgroups.per_class_recall(np.array([0.0, 1.0]), np.array([0, 1]))
