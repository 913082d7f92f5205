"""The engine runs headless (no Streamlit) and picks the best device."""

import pkgutil
import subprocess
import sys

import torch

import cnnlab
from cnnlab import device


def test_cnnlab_never_imports_streamlit():
    modules = [m.name for m in pkgutil.iter_modules(cnnlab.__path__, "cnnlab.")]
    assert {"cnnlab.arithmetic", "cnnlab.steps", "cnnlab.presets"} <= set(modules)
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "assert 'streamlit' not in sys.modules, 'cnnlab pulled in streamlit'\n"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_device_badge_names_the_gpu(monkeypatch):
    device.best_device.cache_clear()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d=None: "NVIDIA H100 80GB HBM3")
    try:
        assert device.best_device().type == "cuda"
        assert device.device_label() == "CUDA · NVIDIA H100 80GB HBM3"
    finally:
        device.best_device.cache_clear()


def test_device_badge_without_gpu(monkeypatch):
    device.best_device.cache_clear()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    try:
        assert device.device_label() == "CPU"
    finally:
        device.best_device.cache_clear()
