"""Unit tests of helpers.uncertainty: the conformal coverage guarantee checked numerically, sets, MC dropout,
referral."""
from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import uncertainty
from helpers.uncertainty import UncertaintyInputError


def _synthetic(rng, n, k=3):
    """Exchangeable synthetic cases: softmax of noisy logits, labels drawn from a shifted version of them."""
    logits = rng.normal(0, 1.5, (n, k))
    p_true = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = (rng.random((n, 1)) > np.cumsum(p_true, 1)).sum(1)
    noisy = logits + rng.normal(0, 1.0, (n, k))  # the "model" is imperfect: it does not matter for coverage
    return np.exp(noisy) / np.exp(noisy).sum(1, keepdims=True), y


@pytest.mark.parametrize("alpha, n_cal", [(0.1, 100), (0.2, 50), (0.05, 300)])
def test_split_conformal_coverage_guarantee(alpha, n_cal):
    """1 - alpha <= E[coverage] <= 1 - alpha + 1/(n_cal + 1) for exchangeable data (Vovk et al., 2005)."""
    rng = np.random.default_rng(0)
    covers = []
    for _ in range(400):
        p, y = _synthetic(rng, n_cal + 500)
        sets, _ = uncertainty.conformal_sets(p[:n_cal], y[:n_cal], p[n_cal:], alpha=alpha)
        covers.append(uncertainty.coverage(sets, y[n_cal:]))
    mean, se = np.mean(covers), np.std(covers) / math.sqrt(len(covers))
    assert mean >= 1 - alpha - 3 * se
    assert mean <= 1 - alpha + 1 / (n_cal + 1) + 3 * se


def test_class_conditional_coverage_holds_per_class():
    rng = np.random.default_rng(1)
    per_class = []
    for _ in range(200):
        p, y = _synthetic(rng, 1300)
        sets, q = uncertainty.conformal_sets(p[:800], y[:800], p[800:], alpha=0.1, class_conditional=True)
        assert q.shape == (3,)
        per_class.append([uncertainty.coverage(sets[y[800:] == k], y[800:][y[800:] == k]) for k in range(3)])
    assert np.all(np.mean(per_class, axis=0) >= 0.9 - 0.01)


def test_conformal_quantile_rank():
    s = np.arange(1, 11) / 10  # 0.1 .. 1.0
    assert uncertainty.conformal_quantile(s, 0.2) == pytest.approx(0.9)  # rank ceil(11 * 0.8) = 9
    assert uncertainty.conformal_quantile(s, 0.5) == pytest.approx(0.6)  # rank ceil(5.5) = 6
    assert uncertainty.conformal_quantile(s, 0.05) == math.inf  # rank 11 > 10: every set holds every class
    assert uncertainty.conformal_quantile(s[::-1], 0.2) == pytest.approx(0.9)  # order does not matter


def test_prediction_sets_by_hand():
    p = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8]])
    sets = uncertainty.prediction_sets(p, 0.55)  # class k is in when 1 - p_k <= 0.55
    np.testing.assert_array_equal(sets, [[True, False], [True, True], [False, True]])
    assert uncertainty.coverage(sets, np.array([0, 1, 0])) == pytest.approx(2 / 3)
    per_class = uncertainty.prediction_sets(p, [0.05, 0.9])
    np.testing.assert_array_equal(per_class[:, 0], [False, False, False])
    np.testing.assert_array_equal(per_class[:, 1], [True, True, True])
    inf_sets = uncertainty.prediction_sets(p, math.inf)
    assert inf_sets.all()


def test_nonconformity_and_entropy():
    p = np.array([[0.7, 0.3], [0.5, 0.5]])
    np.testing.assert_allclose(uncertainty.nonconformity(p, np.array([1, 0])), [0.7, 0.5])
    np.testing.assert_allclose(uncertainty.predictive_entropy(np.array([[1.0, 0.0], [0.5, 0.5]])), [0.0, math.log(2)])
    agree = np.stack([p, p, p])
    np.testing.assert_allclose(uncertainty.mutual_information(agree), 0.0, atol=1e-12)
    disagree = np.stack([np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])])
    np.testing.assert_allclose(uncertainty.mutual_information(disagree), [math.log(2)])


def test_mc_dropout_head():
    rng = np.random.default_rng(0)
    f, k, b = rng.normal(size=(20, 8)), rng.normal(size=(8, 2)), rng.normal(size=2)
    z = f @ k + b
    ref = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    off = uncertainty.mc_dropout_head(f, k, b, rate=0.0, n_samples=3)
    np.testing.assert_allclose(off, np.broadcast_to(ref, off.shape), rtol=1e-10)
    on = uncertainty.mc_dropout_head(f, k, b, rate=0.5, n_samples=30, seed=1)
    assert on.shape == (30, 20, 2) and on.std(0).mean() > 0.01
    np.testing.assert_allclose(on.sum(2), 1.0)
    assert np.array_equal(on, uncertainty.mc_dropout_head(f, k, b, rate=0.5, n_samples=30, seed=1))


def test_referral_curve():
    correct = np.array([True, True, False, True, False, True, True, True, True, False])
    unc = np.array([0.1, 0.2, 0.9, 0.3, 0.8, 0.15, 0.05, 0.25, 0.35, 0.7])  # the errors are the least certain
    shares, acc = uncertainty.referral_curve(correct, unc, shares=[0.0, 0.1, 0.3])
    np.testing.assert_allclose(acc, [0.7, 7 / 9, 1.0])


def test_bad_inputs_rejected():
    with pytest.raises(UncertaintyInputError, match="n_classes"):
        uncertainty.check_probs(np.array([0.2, 0.8]))
    with pytest.raises(UncertaintyInputError, match="sum to 1"):
        uncertainty.check_probs(np.array([[0.2, 0.2]]))
    with pytest.raises(UncertaintyInputError, match="logits"):
        uncertainty.check_probs(np.array([[2.0, -1.0]]))
    with pytest.raises(UncertaintyInputError, match="alpha"):
        uncertainty.conformal_quantile(np.ones(5), alpha=1.5)
    with pytest.raises(UncertaintyInputError, match="alpha"):
        uncertainty.conformal_quantile(np.ones(5), alpha=True)
    with pytest.raises(UncertaintyInputError, match="labels must lie"):
        uncertainty.nonconformity(np.array([[0.5, 0.5]]), np.array([2]))
    with pytest.raises(UncertaintyInputError, match="no calibration case"):
        uncertainty.conformal_sets(np.array([[0.6, 0.4]] * 3), np.array([0, 0, 0]), np.array([[0.5, 0.5]]),
                                   class_conditional=True)
    with pytest.raises(UncertaintyInputError, match="qhat"):
        uncertainty.prediction_sets(np.array([[0.5, 0.5]]), [0.1, 0.2, 0.3])
    with pytest.raises(UncertaintyInputError, match="rate"):
        uncertainty.mc_dropout_head(np.ones((2, 3)), np.ones((3, 2)), np.ones(2), rate=1.0)
    with pytest.raises(UncertaintyInputError, match="shapes"):
        uncertainty.mc_dropout_head(np.ones((2, 3)), np.ones((4, 2)), np.ones(2), rate=0.3)
    with pytest.raises(UncertaintyInputError, match="shares"):
        uncertainty.referral_curve([True, False], [0.1, 0.2], shares=[1.0])
    with pytest.raises(UncertaintyInputError, match="n_members"):
        uncertainty.train_ensemble(None, None, None, None, n_members=0)


def test_mc_dropout_predict_matches_the_model_with_dropout_off():
    """On a tiny untrained better_cnn, plain and with flip averaging: rate 0 gives model.predict."""
    import keras

    from helpers.models import better_cnn, flip_average

    keras.utils.set_random_seed(0)
    inner = better_cnn((12, 12, 1), 2, widths=(4, 8), augment=False)
    x = np.random.default_rng(0).uniform(0, 255, (5, 12, 12, 1)).astype("float32")
    for model in (inner, flip_average(inner, "horizontal")):
        ref = model.predict(x, verbose=0)
        got = uncertainty.mc_dropout_predict(model, x, n_samples=2, rate=0.0)
        np.testing.assert_allclose(got[0], ref, rtol=1e-4, atol=1e-5)
        on = uncertainty.mc_dropout_predict(model, x, n_samples=5, seed=1)
        assert on.shape == (5, 5, 2)
    with pytest.raises(UncertaintyInputError, match="better_cnn"):
        plain = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
        uncertainty.mc_dropout_predict(plain, x)


def test_checkers_of_notebook_07():
    from helpers import shift
    from helpers.checks import check_conformal_quantile, check_corruption, stub_for

    s = np.arange(1, 11) / 10
    assert check_conformal_quantile(0.9, s, alpha=0.2, quiet=True)
    wrong = check_conformal_quantile(float(np.quantile(s, 0.8)), s, alpha=0.2, quiet=True)
    assert not wrong and "plain" in wrong.message
    assert not check_conformal_quantile(..., s, quiet=True)
    assert check_corruption(lambda x, sev: shift.corrupt(x, "contrast", sev), quiet=True)
    assert not check_corruption(lambda x, sev: x / 255.0, quiet=True)
    assert "check_corruption(lower_contrast)" in stub_for("check_corruption")
    assert "answer = ..." in stub_for("check_conformal_quantile(answer, val_scores, alpha=0.2)")
