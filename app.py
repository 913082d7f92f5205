"""CNN Lab: entry point. Sidebar (language, lecture layout, device) and navigation; nothing heavy per run."""

import streamlit as st

from cnnlab.device import device_label
from cnnlab.i18n import languages, pick_language
from ui.links import copy_link
from ui.server import prepare_process
from ui.widgets import forget_translated_selectboxes, inject_style, relabel_selectboxes, tr

prepare_process()  # once per process: heavy imports, then gc.freeze() (see ui/server.py)

# A link opened with ?lecture=true is a projector: the sidebar starts folded to give the demo the width.
projector = st.query_params.get("lecture", "").lower() == "true"
st.set_page_config(
    page_title="CNN Lab", page_icon="🧠", layout="wide", initial_sidebar_state="collapsed" if projector else "auto"
)
names = languages()
if "lang" not in st.session_state:  # first run of this session: a link's ?lang=, else the browser's language
    st.session_state["lang"] = pick_language(st.query_params.get("lang"), st.context.locale)
with st.sidebar:
    st.selectbox(
        ":material/translate: Language",  # short: the options name each language in its own words
        list(names),
        key="lang",
        format_func=names.get,
        on_change=relabel_selectboxes,
    )
    # ?lang=ro (the code, not the name a bound selectbox would write), English too: a shared link opens
    # in the language it was copied in, whatever the browser that opens it prefers.
    if st.query_params.get("lang") != st.session_state["lang"]:
        st.query_params["lang"] = st.session_state["lang"]
    t = tr()
    st.toggle(t("sidebar.lecture_mode"), key="lecture", help=t("sidebar.lecture_mode_help"), bind="query-params")
    copy_link()
    st.caption(t("sidebar.device", device=device_label()))

pages = [
    st.Page("lessons/home.py", title=t("nav.home"), icon=":material/home:", default=True),
    st.Page("lessons/convolution.py", title=t("nav.convolution"), icon=":material/grid_on:", url_path="convolution"),
    st.Page("lessons/edges.py", title=t("nav.edges"), icon=":material/filter_b_and_w:", url_path="edges"),
    st.Page("lessons/activations.py", title=t("nav.activations"), icon=":material/show_chart:", url_path="activations"),
    st.Page("lessons/pooling.py", title=t("nav.pooling"), icon=":material/compress:", url_path="pooling"),
    st.Page(
        "lessons/transposed_convolution.py",
        title=t("nav.transposed"),
        icon=":material/open_in_full:",
        url_path="transposed-convolution",
    ),
    st.Page("lessons/features.py", title=t("nav.features"), icon=":material/layers:", url_path="feature-maps"),
    st.Page(
        "lessons/architectures.py",
        title=t("nav.architectures"),
        icon=":material/account_tree:",
        url_path="architectures",
    ),
    st.Page(
        "lessons/segmentation.py",
        title=t("nav.segmentation"),
        icon=":material/format_paint:",
        url_path="segmentation",
    ),
    st.Page(
        "lessons/instances.py",
        title=t("nav.instances"),
        icon=":material/category:",
        url_path="instance-segmentation",
    ),
    st.Page("lessons/training.py", title=t("nav.training"), icon=":material/model_training:", url_path="training"),
    st.Page(
        "lessons/detection.py",
        title=t("nav.detection"),
        icon=":material/center_focus_strong:",
        url_path="object-detection",
    ),
    st.Page("lessons/quiz.py", title=t("nav.quiz"), icon=":material/quiz:", url_path="quiz"),
]
navigation = st.navigation(pages)
inject_style()
forget_translated_selectboxes()
navigation.run()
