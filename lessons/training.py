"""Lesson: watch a CNN learn — live training, data augmentation, transfer learning."""

import numpy as np
import streamlit as st

from cnnlab.augment import GROUPS, TRANSFORMS, augment, to_rgb, to_tensor
from cnnlab.errors import LessonInputError
from cnnlab.training import (
    ACTIVATIONS,
    BACKGROUNDS,
    DEFAULT,
    KERNELS,
    LEARNING_RATES,
    MAX_CHANNELS,
    MAX_EPOCHS,
    MAX_LAYERS,
    MAX_TRAIN,
    MIN_TRAIN,
    NEW_CLASSES,
    OPTIMISERS,
    POOLINGS,
    SHAPES,
    STARTS,
    TrainSettings,
    augmentation_pair,
    dataset,
    error_reduction,
    presets,
    trainable_parameters,
    transfer_trio,
)
from cnnlab.training_runs import hall
from ui.selfcheck import self_check
from ui.stepper import stepper
from ui.training import (
    cached_picture,
    compare_curves,
    confusion_figure,
    end_message,
    failures,
    filter_change,
    filter_strip,
    filters_picture,
    filters_trace,
    follow,
    predictions,
    run_curves,
    shape_label,
    shared_chart,
    shared_note,
    strip_epochs,
    viewer,
)
from ui.widgets import (
    int_input,
    intro,
    num,
    pct,
    read_url_choice,
    show_error,
    sig,
    tr,
    translated_key,
    url_choice,
    write_url_choice,
)

NOISES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
PER_CLASS = (5, 10, 20, 50)  # transfer learning: training pictures of each new shape

t = tr()
st.title(t("train.title"))
intro(t("train.intro"))
section = url_choice(
    st.radio,
    t("train.section"),
    ["train", "augment", "transfer"],
    key="train.section",
    horizontal=True,
    format_func=lambda s: t(f"train.section.{s}"),
)


def watch(key: str, wanted: list[TrainSettings], go: bool, stop: bool) -> list | None:
    """The shared runs of `wanted` for this session: started or joined on Train, left on Stop.

    Returns the runs to draw, or None when this session has not asked for them (or stopped them).
    """
    me = viewer()
    if go:
        st.session_state[key] = tuple(wanted)
    if st.session_state.get(key) != tuple(wanted):
        return None
    try:
        runs = [hall().join(s, me) for s in wanted]
    except LessonInputError as err:
        show_error(err)
        return None
    if stop:
        del st.session_state[key]
        if all(run.finished for run in runs):
            return None  # nothing trains any more: Stop just puts the result away
        stopped = [hall().stop(run, me) for run in runs]
        st.info(t("train.stopped_all") if all(stopped) else t("train.stopped_watching"), icon=":material/stop_circle:")
        return None
    return runs


def buttons(key: str) -> tuple[bool, bool]:
    left, right, _ = st.columns([1, 1, 4])
    go = left.button(t("train.go"), key=f"{key}.go", type="primary", icon=":material/play_arrow:")
    stop = right.button(t("train.stop"), key=f"{key}.stop", icon=":material/stop:", help=t("train.stop_help"))
    return go, stop


# ---------------------------------------------------------------- 1. training a CNN

FIELDS = {  # TrainSettings field -> widget key
    "classes": "train.classes",
    "backgrounds": "train.backgrounds",
    "noise": "train.noise",
    "train_size": "train.size",
    "layers": "train.layers",
    "channels": "train.channels",
    "kernel": "train.kernel",
    "pooling": "train.pooling",
    "activation": "train.activation",
    "batch_norm": "train.bn",
    "optimiser": "train.optimiser",
    "learning_rate": "train.lr",
    "epochs": "train.epochs",
    "seed": "train.seed",
}


CHOICES = {  # widget key -> the options a link may name (?train.kernel=3)
    "train.backgrounds": BACKGROUNDS,
    "train.noise": NOISES,
    "train.kernel": KERNELS,
    "train.pooling": POOLINGS,
    "train.activation": ACTIVATIONS,
    "train.optimiser": OPTIMISERS,
    "train.lr": LEARNING_RATES,
}
VISITED = "train.visited"


def apply_preset(settings: TrainSettings, skip: set[str] = frozenset()) -> None:
    for name, key in FIELDS.items():
        if key not in skip:
            value = getattr(settings, name)
            st.session_state[key] = list(value) if isinstance(value, tuple) else value


def first_visit(chosen: str) -> None:
    """A link's settings (?train.kernel=3&train.classes=circle,ring …) where it has them, the preset's elsewhere."""
    for key, options in CHOICES.items():
        read_url_choice(key, list(options))
    wanted = [c for c in st.query_params.get("train.classes", "").split(",") if c in SHAPES]
    if len(set(wanted)) >= 2:
        st.session_state["train.classes"] = list(dict.fromkeys(wanted))
    apply_preset(presets().get(chosen, presets()["good"]), skip={k for k in FIELDS.values() if k in st.session_state})
    st.session_state[VISITED] = True


def choose_preset() -> str:
    options = [*presets(), "custom"]

    def load() -> None:
        chosen = st.session_state["train.preset"]
        if chosen in presets():
            apply_preset(presets()[chosen])

    chosen = url_choice(
        st.selectbox,
        t("train.preset.label"),
        options,
        key=translated_key("train.preset"),
        on_change=load,
        format_func=lambda p: t(f"train.preset.{p}") if p != "custom" else t("preset.custom"),
    )
    if VISITED not in st.session_state:
        first_visit(chosen)
    return chosen


def choice(label: str, options: tuple, key: str, prefix: str | None = None, where=st):
    """A select box whose choice lives in the URL by its code (not by its translated label)."""
    value = where.selectbox(
        label,
        list(options),
        key=translated_key(key) if prefix else key,
        format_func=(lambda o: t(f"{prefix}.{o}")) if prefix else str,
    )
    write_url_choice(key, value, getattr(DEFAULT, next(f for f, k in FIELDS.items() if k == key)))
    return value


def slider_choice(label: str, options: tuple, key: str, format_func) -> float:
    value = st.select_slider(label, options, key=key, format_func=format_func)
    write_url_choice(key, value, getattr(DEFAULT, next(f for f, k in FIELDS.items() if k == key)))
    return value


def settings_form() -> TrainSettings | None:
    chosen = choose_preset()
    data, net, learn = st.columns(3)
    with data:
        st.markdown(t("train.group.data"))
        classes = st.multiselect(t("train.classes"), list(SHAPES), key="train.classes", format_func=shape_label)
        write_url_choice("train.classes", ",".join(classes), ",".join(DEFAULT.classes))
        backgrounds = choice(t("train.backgrounds"), BACKGROUNDS, "train.backgrounds", "train.background")
        noise = slider_choice(t("train.noise"), NOISES, "train.noise", sig)
        size = int_input(t("train.size"), "train.size", 2000, MIN_TRAIN, MAX_TRAIN, t("train.size_help"))
    with net:
        st.markdown(t("train.group.net"))
        layers = int_input(t("train.layers"), "train.layers", 3, 1, MAX_LAYERS)
        channels = int_input(t("train.channels"), "train.channels", 8, 1, MAX_CHANNELS, t("train.channels_help"))
        kernel = choice(t("param.kernel"), KERNELS, "train.kernel")
        pooling = choice(t("train.pooling"), POOLINGS, "train.pooling", "train.pool")
        activation = choice(t("train.activation"), ACTIVATIONS, "train.activation", "train.act")
        batch_norm = st.checkbox(t("train.bn"), key="train.bn", help=t("train.bn_help"), bind="query-params")
    with learn:
        st.markdown(t("train.group.learn"))
        optimiser = choice(t("train.optimiser"), OPTIMISERS, "train.optimiser", "train.opt")
        lr = slider_choice(t("train.lr"), LEARNING_RATES, "train.lr", sig)  # 0.0001 and 0.0003 apart, not both "0"
        epochs = int_input(t("train.epochs"), "train.epochs", 10, 1, MAX_EPOCHS)
        seed = int_input(t("train.seed"), "train.seed", 0, 0, 9999, t("train.seed_help"))
    try:
        settings = TrainSettings(
            classes=tuple(classes),
            backgrounds=backgrounds,
            noise=float(noise),
            train_size=size,
            layers=layers,
            channels=channels,
            kernel=int(kernel),
            pooling=pooling,
            activation=activation,
            batch_norm=bool(batch_norm),
            optimiser=optimiser,
            learning_rate=float(lr),
            epochs=epochs,
            seed=seed,
        ).checked()
    except LessonInputError as err:
        show_error(err)
        return None
    if chosen in presets():
        if settings == presets()[chosen]:
            st.caption(t(f"train.preset.{chosen}.note"))
        else:
            st.caption(t("train.preset.edited"))
    return settings


def architecture_line(settings: TrainSettings) -> None:
    from cnnlab.training import build_model

    model = build_model(settings)
    st.caption(
        t(
            "train.architecture",
            layers=" → ".join(architecture_words(settings)),
            weights=num(trainable_parameters(model)),
        )
    )


def architecture_words(s: TrainSettings) -> list[str]:
    words, side, c_in = [t("train.arch.input", size=s.image_size)], s.image_size, 3
    for i in range(s.layers):
        c_out = min(64, s.channels * 2**i)
        part = t("train.arch.conv", k=s.kernel, c=c_out)
        if s.batch_norm:
            part += " · BN"
        if s.activation != "none":
            part += f" · {t(f'train.act.{s.activation}')}"
        if s.pooling != "none" and side >= 2:
            side //= 2
            part += f" · {t(f'train.pool.{s.pooling}')}"
        words.append(part)
        c_in = c_out
    words.append(t("train.arch.linear", inputs=num(c_in * side * side), classes=len(s.classes)))
    return words


def draw_run(settings: TrainSettings, snap, area, tag: str) -> None:
    """The run's state: numbers, curves, filters and predictions; at the end (tag "final") also the
    confusion matrix and the filters epoch by epoch."""
    records = snap.records
    if not records:
        return
    last = records[-1]
    final = tag == "final"
    with area.container():
        m = st.columns(4)
        m[0].metric(t("train.metric.epoch"), f"{last.epoch} / {settings.epochs}")
        m[1].metric(t("train.metric.train_accuracy"), pct(last.train_accuracy, 1))
        m[2].metric(t("train.metric.val_accuracy"), pct(last.val_accuracy, 1))
        m[3].metric(
            t("train.metric.change"), pct(filter_change(records[0], last), 0), help=t("train.metric.change_help")
        )
        run_curves(records, snap.key, f"train.fig.{tag}")
        left, right = st.columns([3, 2])
        picture, width = cached_picture(
            (snap.key, "filters", last.epoch), lambda: filters_picture([records[0].first_layer, last.first_layer])
        )
        left.image(
            picture,
            width=width,
            caption=t("train.filters.caption", epoch=last.epoch, count=len(last.first_layer), k=settings.kernel),
        )
        with right:
            predictions(settings, last)
        if not final:
            return
        end_message(last, snap)
        st.caption(
            t("train.timing", seconds=num(last.seconds, 1), cpu=num(last.cpu_seconds, 1), device=snap.device.upper())
        )
        shared_note(snap)
        c1, c2 = st.columns([3, 2])
        labels = [shape_label(c) for c in settings.classes]
        confusion = (snap.key, "confusion", last.epoch)
        shared_chart(c1, confusion, lambda: confusion_figure(last.confusion, labels), "train.fig.confusion")
        epochs = [records[i].epoch for i in strip_epochs(records)]
        strip, width = cached_picture((snap.key, "strip", last.epoch), lambda: filter_strip(records)[0])
        c2.image(strip, width=width, caption=t("train.strip.caption", epochs=", ".join(map(str, epochs))))
        st.subheader(t("train.steps.title"))
        st.markdown(t("train.steps.intro"))
        stepper("train.filters", lambda: filters_trace(records))


def training_section() -> None:
    settings = settings_form()
    if settings is None:
        return
    architecture_line(settings)
    go, stop = buttons("train")
    runs = watch("train.watching", [settings], go, stop)
    if runs is None:
        st.info(t("train.press"), icon=":material/model_training:")
        return
    progress, area = st.empty(), st.empty()
    snaps = follow(runs, lambda s, tag: draw_run(settings, s[0], area, tag), progress)
    draw_run(settings, snaps[0], area, "final")
    if failures(snaps):
        st.session_state.pop("train.watching", None)  # a failed run is not tried again until Train is pressed


# ---------------------------------------------------------------- 2. data augmentation


def transform_label(name: str) -> str:
    group = next(g for g, names in GROUPS.items() if name in names)
    return f"{t(f'aug.group.{group}')} · {t(f'aug.name.{name}')}"


def params_text(name: str, params: dict) -> str:
    """'rotation: angle −12.3°' in the page's language; the seeds of noise, fog and rain are left out."""
    title = t(f"aug.name.{name}")
    if name == "perspective":
        return f"{title}: {t('aug.param.corners')} ≤ {num(max(params.values()))} px"
    units = {"angle": "°", "top": " px", "left": " px", "height": " px", "width": " px"}
    shown = [
        f"{t(f'aug.param.{k}')} {num(v) if isinstance(v, int) else sig(v)}{units.get(k, '')}"
        for k, v in params.items()
        if k != "seed"
    ]
    return f"{title}: {', '.join(shown)}" if shown else title


def augmentation_section() -> None:
    from ui.widgets import image_picker

    st.markdown(t("aug.intro"))
    image = image_picker("aug.image", default_sample="chelsea")
    if image is not None:
        picture = to_tensor(image.image, 256)
        st.subheader(t("aug.each.title"))
        seed = int_input(t("aug.seed"), "aug.seed", 1, 0, 9999, t("aug.seed_help"))
        tiles, captions = [to_rgb(picture)], [t("aug.original")]
        for k, name in enumerate(TRANSFORMS):
            out, applied = augment(picture, [name], seed * 100 + k)
            tiles.append(to_rgb(out))
            captions.append(params_text(name, applied[0].params))
        st.image(tiles, caption=captions, width=180)
        st.subheader(t("aug.pipeline.title"))
        names = st.multiselect(
            t("aug.pipeline.names"),
            list(TRANSFORMS),
            default=["hflip", "rotation", "crop", "color_jitter", "erasing"],
            key="aug.names",
            format_func=transform_label,
        )
        if names:
            tiles, captions = [], []
            for k in range(8):
                out, applied = augment(picture, names, seed * 1000 + k)
                tiles.append(to_rgb(out))
                captions.append("; ".join(params_text(a.name, a.params) for a in applied))
            st.image(tiles, caption=captions, width=180)
    st.subheader(t("aug.compare.title"))
    without, _ = augmentation_pair()
    train_names = st.multiselect(
        t("aug.compare.names"),
        list(TRANSFORMS),
        default=list(augmentation_pair()[1].augment),
        key="aug.train_names",
        format_func=transform_label,
    )
    st.markdown(t("aug.compare.intro", size=without.train_size, epochs=without.epochs, classes=len(without.classes)))
    if not train_names:
        st.info(t("aug.compare.none"))
        return
    pair = [without, without.with_(augment=tuple(train_names))]
    go, stop = buttons("aug")
    runs = watch("aug.watching", pair, go, stop)
    if runs is None:
        st.info(t("train.press"), icon=":material/model_training:")
        return
    snaps = follow_comparison(runs, [t("aug.series.without"), t("aug.series.with")], "aug")
    if snaps is None:
        return
    if all(s.state == "done" and s.records for s in snaps):
        old, new = (1 - s.records[-1].val_accuracy for s in snaps)
        formula(old, new)


def formula(old: float, new: float) -> None:
    """The notes' error-reduction formula (003), with their numbers and then with ours."""
    comma = "{,}" if num(0.5, 1) != "0.5" else "."

    def n(v: float, digits: int = 3) -> str:
        return f"{v:.{digits}f}".replace(".", comma)

    st.markdown(t("aug.formula.notes"))
    st.latex(
        r"\text{" + t("aug.formula.name") + r"} = \frac{E_{old} - E_{new}}{E_{old}} \cdot 100\% = "
        r"\frac{" + n(0.143) + " - " + n(0.058) + "}{" + n(0.143) + r"} \cdot 100\% = " + n(59.4, 1) + r"\%"
    )
    reduction = error_reduction(old, new)
    st.markdown(t("aug.formula.ours", old=n(old), new=n(new)))
    if reduction is None:
        st.info(t("aug.formula.no_errors"))
        return
    st.latex(
        r"\text{"
        + t("aug.formula.name")
        + r"} = \frac{"
        + n(old)
        + " - "
        + n(new)
        + "}{"
        + n(old)
        + r"} \cdot 100\% = "
        + n(100 * reduction, 1)
        + r"\%"
    )
    st.markdown(t("aug.verdict.better" if reduction > 0 else "aug.verdict.worse", reduction=pct(abs(reduction), 1)))


# ---------------------------------------------------------------- 3. transfer learning


def training_picture(settings: TrainSettings, index: int) -> np.ndarray:
    """(S, S, 3) uint8: training picture `index` of a run's dataset (its class is NEW_CLASSES[index % 4] here)."""
    images, _ = dataset(settings, "train")
    return (images[index].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def follow_comparison(runs, names: list[str], section: str):
    """Curves of runs trained side by side, live, then each run's end message; the runs' last snapshots,
    or None when one failed (the section's watching is forgotten, so Train starts afresh)."""
    progress, area = st.empty(), st.empty()

    def draw(snaps, tag: str) -> None:
        with area.container():
            runs_drawn = {n: s.records for n, s in zip(names, snaps, strict=True)}
            compare_curves(runs_drawn, [s.key for s in snaps], f"{section}.fig.{tag}")

    snaps = follow(runs, draw, progress, names)
    draw(snaps, "final")
    for snap in snaps:
        end_message(snap.records[-1] if snap.records else None, snap)
    if failures(snaps):
        st.session_state.pop(f"{section}.watching", None)
        return None
    return snaps


def transfer_section() -> None:
    st.markdown(t("transfer.intro"))
    per_class = st.select_slider(t("transfer.per_class"), PER_CLASS, value=10, key="transfer.per_class")
    trio = transfer_trio(train_size=per_class * len(NEW_CLASSES))
    examples = [
        cached_picture(("transfer-example", k), lambda k=k: training_picture(trio["scratch"], k))[0]
        for k in range(2 * len(NEW_CLASSES))
    ]
    st.image(examples, caption=[shape_label(NEW_CLASSES[k % len(NEW_CLASSES)]) for k in range(len(examples))], width=80)
    new_classes = ", ".join(shape_label(c) for c in NEW_CLASSES)
    st.caption(t("transfer.task", classes=new_classes, count=trio["scratch"].train_size))
    go, stop = buttons("transfer")
    runs = watch("transfer.watching", list(trio.values()), go, stop)
    if runs is None:
        st.info(t("train.press"), icon=":material/model_training:")
        return
    names = [t(f"transfer.way.{s}") for s in STARTS]
    snaps = follow_comparison(runs, names, "transfer")
    if snaps is None:
        return
    if not all(s.state == "done" and s.records for s in snaps):
        return
    from cnnlab.training import build_model

    finals = [s.records[-1].val_accuracy for s in snaps]
    st.table(
        {
            t("transfer.col.way"): names,
            t("transfer.col.trained"): [num(trainable_parameters(build_model(s))) for s in trio.values()],
            t("transfer.col.accuracy"): [pct(a, 1) for a in finals],
            t("transfer.col.change"): [pct(filter_change(s.records[0], s.records[-1]), 0) for s in snaps],
        }
    )
    winner = STARTS[int(np.argmax(finals))]
    st.success(
        t(f"transfer.won.{winner}", accuracy=pct(max(finals), 1), count=per_class), icon=":material/emoji_events:"
    )
    st.markdown(t("transfer.notes"))


if section == "train":
    training_section()
elif section == "augment":
    augmentation_section()
else:
    transfer_section()

self_check("training", "train.selfcheck")
