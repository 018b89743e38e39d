"""Real medical images that ship inside packages, and the basics of reading them.

Everything here works offline: the files come with pydicom, scikit-image and nilearn.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# DICOM test files that pydicom ships (never downloaded): name -> what it shows
DICOM_FILES = {
    "ct": "CT_small.dcm",
    "ct_head": "693_J2KI.dcm",
    "mr": "MR_small.dcm",
    "mr_abdomen": "examples_overlay.dcm",
    "ultrasound": "examples_ybr_color.dcm",
    "ecg": "waveform_ecg.dcm",
}

# Common CT windows (centre, width) in Hounsfield units
WINDOWS = {
    "brain": (40, 80),
    "soft tissue": (50, 400),
    "lung": (-600, 1500),
    "bone": (400, 1800),
}


def read_dicom(name: str) -> Any:
    """Read one of the DICOM files pydicom ships, by key of :data:`DICOM_FILES` (or file name). Never downloads."""
    from pydicom.data import get_testdata_file

    fname = DICOM_FILES.get(name, name)
    if fname not in DICOM_FILES.values():
        raise KeyError(f"Unknown DICOM sample {name!r}; use one of {', '.join(DICOM_FILES)}.")
    ds = get_testdata_file(fname, read=True, download=False)
    if ds is None:
        raise FileNotFoundError(f"pydicom's test file {fname} is missing; reinstall pydicom (it ships the file).")
    return ds


def to_hounsfield(ds: Any) -> np.ndarray:
    """CT pixel values → Hounsfield units: HU = stored value × RescaleSlope + RescaleIntercept."""
    if getattr(ds, "Modality", None) != "CT":
        raise ValueError(f"Hounsfield units exist for CT only; this image is {getattr(ds, 'Modality', 'unknown')}.")
    slope = float(getattr(ds, "RescaleSlope", 1))
    intercept = float(getattr(ds, "RescaleIntercept", 0))
    return ds.pixel_array.astype(np.float32) * slope + intercept


def window(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map Hounsfield units to display grey levels 0..1 for a window (centre, width).

    Values below ``center - width/2`` turn black, above ``center + width/2`` white, linear between.
    """
    if width <= 0:
        raise ValueError(f"window width must be positive; got {width}.")
    lo = center - width / 2
    return np.clip((np.asarray(hu, dtype=np.float32) - lo) / width, 0.0, 1.0)


def header(ds: Any) -> dict[str, Any]:
    """The header fields a reader checks first, as a plain dict (missing ones are None)."""
    keys = ["Modality", "Rows", "Columns", "PixelSpacing", "SliceThickness", "BitsStored",
            "PhotometricInterpretation", "RescaleSlope", "RescaleIntercept", "Manufacturer"]
    out = {}
    for k in keys:
        v = getattr(ds, k, None)
        out[k] = [float(x) for x in v] if k == "PixelSpacing" and v is not None else v
    return out


@dataclass(frozen=True)
class ECG:
    """A multi-lead ECG: ``signals`` (n_samples, n_leads), sampling rate ``fs`` in Hz, lead names, ``units``."""

    signals: np.ndarray
    fs: float
    leads: tuple[str, ...]
    units: str = "mV"

    @property
    def seconds(self) -> float:
        return len(self.signals) / self.fs

    def lead(self, name: str) -> np.ndarray:
        """One lead's signal (float32) by name, e.g. ``"II"``, ``"V1"`` or ``"Lead I (Einthoven)"``."""
        short = [n.replace("Lead ", "").split(" ")[0] for n in self.leads]
        if name not in short and name not in self.leads:
            raise KeyError(f"no lead {name!r}; this ECG has {', '.join(short)}.")
        k = short.index(name) if name in short else self.leads.index(name)
        return self.signals[:, k].astype(np.float32)


def load_ecg(group: int = 0, *, units: str) -> ECG:
    """The real 12-lead ECG that pydicom ships (``waveform_ecg.dcm``), offline, in the ``units`` you name.

    group: 0 is the 10 s rhythm at 1000 Hz; 1 a 1.2 s median beat.
    units (required): ``"mV"`` (as a clinician reads an ECG) or ``"uV"`` (microvolts, as the file stores
    them: ``waveform_array`` applies each channel's sensitivity). Taught in 00, step 6 (mV); reused in 02,
    step 3 (µV, for forecasting).
    """
    if units not in ("mV", "uV"):
        raise ValueError(f"units must be 'mV' or 'uV'; got {units!r}.")
    ds = read_dicom("ecg")
    n = len(ds.WaveformSequence)
    if not 0 <= group < n:
        raise ValueError(f"group must be 0..{n - 1} (this file has {n} multiplex groups); got {group}.")
    seq = ds.WaveformSequence[group]
    signals = np.asarray(ds.waveform_array(group), dtype=np.float64)
    stored = seq.ChannelDefinitionSequence[0].ChannelSensitivityUnitsSequence[0].CodeValue
    if stored != units:
        signals = signals / 1000.0 if (stored, units) == ("uV", "mV") else signals * 1000.0
    leads = tuple(str(c.ChannelSourceSequence[0].CodeMeaning) for c in seq.ChannelDefinitionSequence)
    return ECG(signals=signals, fs=float(seq.SamplingFrequency), leads=leads, units=units)


def load_mni(resolution: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MNI152 T1 brain template that nilearn ships: (volume, brain mask, affine). Axes x, y, z (RAS), 1 mm."""
    from nilearn import datasets

    img = datasets.load_mni152_template(resolution=resolution)
    mask = datasets.load_mni152_brain_mask(resolution=resolution)
    return (np.asarray(img.get_fdata(), dtype=np.float32), np.asarray(mask.get_fdata()) > 0.5, img.affine)


def modality_gallery() -> list[tuple[str, np.ndarray, str]]:
    """One real example per modality: ``(title, image, source)``, images as float 0..1 or RGB uint8."""
    from skimage import data as skdata

    ct = to_hounsfield(read_dicom("ct"))
    mr = read_dicom("mr_abdomen").pixel_array.astype(np.float32)
    us = read_dicom("ultrasound").pixel_array[0]
    t1, _, _ = load_mni()
    mri_brain = np.rot90(t1[:, :, 95])
    return [
        ("CT (chest), soft-tissue window", window(ct, *WINDOWS["soft tissue"]), "pydicom CT_small.dcm"),
        ("MR (abdomen)", mr / mr.max(), "pydicom examples_overlay.dcm"),
        ("MR (brain, T1 template)", mri_brain / mri_brain.max(), "nilearn MNI152"),
        ("ultrasound (frame 1 of 30)", us, "pydicom examples_ybr_color.dcm"),
        ("fundus photo (retina)", skdata.retina(), "scikit-image retina()"),
        ("histology (IHC stain)", skdata.immunohistochemistry(), "scikit-image immunohistochemistry()"),
        ("microscopy (phase contrast cell)", skdata.cell(), "scikit-image cell()"),
    ]
