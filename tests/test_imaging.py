"""Real images shipped with packages: DICOM, Hounsfield units, windows, the ECG."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import imaging


def test_hounsfield_matches_pydicom():
    from pydicom.pixels import apply_modality_lut

    ds = imaging.read_dicom("ct")
    np.testing.assert_allclose(imaging.to_hounsfield(ds), apply_modality_lut(ds.pixel_array, ds))


def test_hounsfield_only_for_ct():
    with pytest.raises(ValueError, match="CT only"):
        imaging.to_hounsfield(imaging.read_dicom("mr"))


def test_window_landmarks_and_bad_width():
    np.testing.assert_allclose(imaging.window(np.array([-1000, 30, 40, 50, 1000]), 40, 20), [0, 0, 0.5, 1, 1])
    with pytest.raises(ValueError, match="positive"):
        imaging.window(np.zeros(3), 0, 0)


def test_unknown_dicom_name():
    with pytest.raises(KeyError, match="Unknown DICOM sample"):
        imaging.read_dicom("pet")


def test_ecg():
    ecg = imaging.load_ecg(units="mV")
    assert ecg.signals.shape == (10000, 12) and ecg.fs == 1000 and ecg.seconds == 10
    assert 0.3 < np.ptp(ecg.lead("II")) < 10  # millivolts, not microvolts
    with pytest.raises(KeyError, match="no lead"):
        ecg.lead("V9")


def test_header_fields():
    h = imaging.header(imaging.read_dicom("ct"))
    assert h["Modality"] == "CT" and h["PixelSpacing"] == pytest.approx([0.661468, 0.661468])


# moved from test_sequences: the same recording in microvolts, as notebook 02 reads it
def test_load_ecg_in_microvolts():
    ecg = imaging.load_ecg(units="uV")
    assert ecg.signals.shape == (10000, 12) and ecg.fs == 1000.0 and len(ecg.leads) == 12
    ii = ecg.lead("II")
    assert ii.dtype == np.float32 and ii.shape == (10000,)
    np.testing.assert_allclose(ecg.lead("I"), ecg.lead("Lead I (Einthoven)"))
    # Einthoven's law, II = I + III, holds on the real recording (to the 1.25 µV quantisation step, per lead)
    assert np.max(np.abs(ecg.lead("II") - ecg.lead("I") - ecg.lead("III"))) < 5
    with pytest.raises(KeyError, match="no lead"):
        ecg.lead("V7")
    with pytest.raises(ValueError, match="group"):
        imaging.load_ecg(group=5, units="uV")
