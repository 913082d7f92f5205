"""Registry, weights management and loading: generated checkpoints in a temporary TORCH_HOME."""

import io
import urllib.error

import pytest
import torch
import torchvision

from cnnlab import models, weights
from cnnlab.models import get_model, list_models
from cnnlab.shapes import CLASSES
from cnnlab.weights import WeightsError, checkpoint_path
from tests.checkpoints import torch_home, write_checkpoint


@pytest.fixture
def home(tmp_path):
    with torch_home(tmp_path) as path:
        yield path


def test_registry_names_separate_architecture_from_weights():
    assert {"lab.shapes", "alexnet.imagenet", "vgg16.imagenet", "vgg19.imagenet"} <= set(list_models())
    assert set(weights.downloadable()) == {
        "alexnet.imagenet",
        "vgg16.imagenet",
        "vgg19.imagenet",
        "fcn_resnet50.voc",
        "deeplabv3_resnet50.voc",
        "maskrcnn_resnet50_fpn_v2.coco",
    }


def test_checkpoint_file_names_are_torchvision_s():
    for name, weights_enum in [
        ("alexnet.imagenet", torchvision.models.AlexNet_Weights),
        ("vgg16.imagenet", torchvision.models.VGG16_Weights),
        ("vgg19.imagenet", torchvision.models.VGG19_Weights),
    ]:
        assert checkpoint_path(name).name == weights_enum.IMAGENET1K_V1.url.rsplit("/", 1)[1]


def test_lab_model_loads_offline_in_eval_mode_and_is_shared():
    loaded = get_model("lab.shapes", "cpu")
    assert not loaded.model.training
    assert all(not p.requires_grad for p in loaded.model.parameters())
    assert loaded.categories == list(CLASSES)
    assert get_model("lab.shapes", "cpu") is loaded


def test_generated_alexnet_checkpoint_loads_through_the_real_path(home):
    state = write_checkpoint("alexnet.imagenet", seed=3)
    assert weights.is_cached("alexnet.imagenet")
    loaded = get_model("alexnet.imagenet", "cpu")
    assert not loaded.model.training
    assert len(loaded.categories) == 1000 and loaded.categories[0] == "tench"
    assert torch.equal(loaded.model.features[0].weight, state["features.0.weight"])
    assert loaded.preprocess(__import__("PIL.Image").Image.new("RGB", (300, 200))).shape == (3, 224, 224)


def test_missing_weights_name_the_download_command(home):
    with pytest.raises(WeightsError) as err:
        get_model("vgg16.imagenet", "cpu")
    assert err.value.key == "weights.error.not_cached"
    assert "python -m cnnlab.weights download vgg16.imagenet" in str(err.value)


def test_truncated_checkpoint_is_a_clear_error(home):
    write_checkpoint("alexnet.imagenet")
    path = checkpoint_path("alexnet.imagenet")
    path.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(WeightsError) as err:
        get_model("alexnet.imagenet", "cpu")
    assert err.value.key == "weights.error.corrupt" and str(path) not in str(err.value) and not path.exists()


def test_checkpoint_of_another_network_is_a_clear_error(home):
    path = checkpoint_path("alexnet.imagenet")
    path.parent.mkdir(parents=True)
    torch.save(torchvision.models.resnet18().state_dict(), path)
    with pytest.raises(WeightsError) as err:
        get_model("alexnet.imagenet", "cpu")
    assert err.value.key == "weights.error.corrupt"


def test_pickled_code_is_refused(home):
    path = checkpoint_path("alexnet.imagenet")
    path.parent.mkdir(parents=True)
    torch.save({"x": torch.nn.ReLU()}, path)  # a module object: needs full unpickling
    with pytest.raises(WeightsError) as err:
        weights.load_state_dict("alexnet.imagenet")
    assert err.value.key == "weights.error.corrupt"


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(WeightsError) as err:
        get_model("resnet9000.imagenet")
    assert "vgg16.imagenet" in str(err.value)


def test_offline_download_fails_fast_with_the_command(home, monkeypatch):
    calls = {}

    def offline(url, timeout):
        calls["timeout"] = timeout
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(weights.urllib.request, "urlopen", offline)
    with pytest.raises(WeightsError) as err:
        weights.download("vgg19.imagenet")
    assert err.value.key == "weights.error.offline" and "download vgg19.imagenet" in str(err.value)
    assert 0 < calls["timeout"] <= 60
    assert list(home.rglob("*")) == [] or not any(p.is_file() for p in home.rglob("*"))


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def test_download_with_a_wrong_checksum_is_discarded(home, monkeypatch):
    monkeypatch.setattr(weights.urllib.request, "urlopen", lambda url, timeout: FakeResponse(b"x" * 3_000_000))
    progress = []
    with pytest.raises(WeightsError) as err:
        weights.download("alexnet.imagenet", progress=lambda done, total: progress.append((done, total)))
    assert err.value.key == "weights.error.hash"
    assert progress[-1] == (3_000_000, 3_000_000) and len(progress) >= 2
    assert not any(p.is_file() for p in home.rglob("*"))


def test_download_with_the_right_checksum_lands_in_the_cache(home, monkeypatch):
    buffer = io.BytesIO()
    torch.save(torchvision.models.alexnet().state_dict(), buffer)
    data = buffer.getvalue()
    monkeypatch.setattr(weights.urllib.request, "urlopen", lambda url, timeout: FakeResponse(data))
    monkeypatch.setattr(weights.hashlib, "sha256", lambda: _PrefixHash(checkpoint_path("alexnet.imagenet").name))
    path = weights.download("alexnet.imagenet")
    assert path == checkpoint_path("alexnet.imagenet") and path.read_bytes() == data
    assert get_model("alexnet.imagenet", "cpu").model.features[0].out_channels == 64


class _PrefixHash:
    """A sha256 stand-in that reports the prefix torchvision put in the file name."""

    def __init__(self, file_name: str):
        self.prefix = file_name.rsplit("-", 1)[1].split(".")[0]

    def update(self, chunk: bytes) -> None:
        pass

    def hexdigest(self) -> str:
        return self.prefix + "0" * 40


def test_cli_status_and_unknown_names(home, capsys):
    write_checkpoint("alexnet.imagenet")
    assert weights.main(["status"]) == 0
    out = capsys.readouterr().out
    assert str(home) in out
    states = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}
    assert states["alexnet.imagenet"] == "cached" and list(states.values()).count("not") == 5
    assert weights.main(["download", "lab.shapes"]) == 2
    assert weights.main([]) == 2


def test_cuda_out_of_memory_falls_back_to_the_cpu(monkeypatch):
    models._cache.clear()
    real_to = torch.nn.Module.to

    def to(self, *args, **kwargs):
        if any(torch.device(a).type == "cuda" for a in args if isinstance(a, (str, torch.device))):
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_to(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "to", to)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    loaded = get_model("lab.shapes", "cuda")
    assert loaded.device.type == "cpu" and loaded.note == "cuda_oom"
    models._cache.clear()
