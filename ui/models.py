"""Choosing a model on a page: cached weights are used, missing ones can be fetched, the lab model is the fallback."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from cnnlab import weights
from cnnlab.i18n import DEFAULT_LANGUAGE, class_name, dataset_of
from cnnlab.inference import backend
from cnnlab.models import LoadedModel, get_model
from cnnlab.segmentation import SegmentationModel, get_segmentation_model
from cnnlab.weights import WeightsError
from ui.widgets import tr, translated_key


def shared_model(name: str) -> LoadedModel:
    """One classifier instance per process and model, shared read-only by every session.

    cnnlab's model cache holds it (one per process, evicted beyond its memory budget); a second
    cache here would keep evicted models alive and load them twice.
    """
    return get_model(name)


def shared_segmentation_model(name: str) -> SegmentationModel:
    """One segmentation model instance per process and model, shared read-only by every session (see shared_model)."""
    return get_segmentation_model(name)


def class_labeller(model_name: str) -> Callable[[str], str]:
    """category -> its name in the page's language: the lab models' shapes from the catalog, a
    published dataset's classes (VOC, COCO, ImageNet) where the language has a name for them.

    The language is read now, not when the function is called: a select box calls its
    format_func outside the page's run too.
    """
    t, lang = tr(), st.session_state.get("lang", DEFAULT_LANGUAGE)
    dataset = dataset_of(model_name)

    def label(category: str) -> str:
        if dataset is None:
            return t(f"seg.class.{category}")
        if category == "__background__":
            return t("seg.class.background")
        return class_name(lang, dataset, category)

    return label


def _download(name: str) -> None:
    t = tr()
    bar = st.progress(0.0, text=t("models.downloading", name=name))

    def progress(done: int, total: int) -> None:
        fraction = done / total if total else 0.0
        bar.progress(min(fraction, 1.0), text=t("models.progress", name=name, mb=round(done / 2**20)))

    try:
        weights.download(name, progress=progress)
    except WeightsError as err:
        bar.empty()
        st.session_state[f"models.failed.{name}"] = err.message(t)
        return
    bar.empty()
    st.session_state.pop(f"models.failed.{name}", None)


def _download_button(key: str, name: str) -> None:
    """A button that downloads the weights of `name`, then runs the page again."""
    t = tr()
    if st.button(t("models.download", name=name), key=f"{key}.download", icon=":material/download:"):
        _download(name)
        st.rerun()


def model_picker(key: str, names: list[str], load: Callable[[str], object], fallback: str):
    """A model select box; returns load(chosen), or load(fallback) with a message when it cannot be had."""
    t = tr()
    name = st.selectbox(
        t("models.label"),
        names,
        key=translated_key(key),
        format_func=lambda n: t(f"model.{n}"),
        persist_state="session",
    )
    if name != fallback and not weights.is_cached(name):
        failed = st.session_state.get(f"models.failed.{name}")
        if failed:
            st.error(failed, icon=":material/cloud_off:")
        else:
            st.info(
                t("weights.error.not_cached", name=name, command=f"{weights.DOWNLOAD_COMMAND} {name}"),
                icon=":material/download:",
            )
        _download_button(key, name)
        st.warning(t("models.fallback", wanted=t(f"model.{name}"), shown=t(f"model.{fallback}")))
        name = fallback
    try:
        loaded = load(name)
    except WeightsError as err:
        st.error(err.message(t), icon=":material/error:")
        if name == fallback:
            st.stop()
        if not weights.is_cached(name):  # a damaged file was removed: it can be downloaded again at once
            _download_button(key, name)
        st.warning(t("models.fallback", wanted=t(f"model.{name}"), shown=t(f"model.{fallback}")))
        loaded = load(fallback)
    if loaded.note == "cuda_oom":
        st.warning(t("models.cuda_oom", name=name))
    return loaded


def inference_caption(catalog_key: str, result, picture_size: tuple[int, int]) -> None:
    """The time, device and working size of a Segmentation or Detection, in the words of catalog_key."""
    t = tr()
    w, h = result.working_size
    st.caption(
        t(
            catalog_key,
            ms=round(result.seconds * 1000),  # a number: 1 932 ms in Russian
            device=result.device.upper(),
            w=w,
            h=h,
            W=picture_size[0],
            H=picture_size[1],
        )
    )
    service_notice()


def service_notice() -> None:
    """Where the networks ran, when an inference service is configured: on it, or here because it is down."""
    service = backend()
    if service.where != "service":
        return
    t = tr()
    status = service.status()
    if status == "ok":
        st.caption(t("service.used", url=service.url))
    elif status == "fallback":
        st.warning(t("service.fallback", url=service.url), icon=":material/cloud_off:")
