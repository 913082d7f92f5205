"""Home: what CNN Lab teaches, and a link to every lesson."""

import streamlit as st

from ui.widgets import tr

t = tr()
st.title(t("home.title"))
st.markdown(t("home.intro"))
st.subheader(t("home.lessons"))
for path, key in [
    ("lessons/convolution.py", "convolution"),
    ("lessons/edges.py", "edges"),
    ("lessons/activations.py", "activations"),
    ("lessons/pooling.py", "pooling"),
    ("lessons/transposed_convolution.py", "transposed"),
    ("lessons/features.py", "features"),
    ("lessons/architectures.py", "architectures"),
    ("lessons/segmentation.py", "segmentation"),
    ("lessons/instances.py", "instances"),
    ("lessons/training.py", "training"),
    ("lessons/detection.py", "detection"),
    ("lessons/quiz.py", "quiz"),
]:
    st.page_link(path, label=t(f"nav.{key}"), icon=":material/arrow_forward:")
    st.caption(t(f"home.{key}"))
st.markdown(t("home.howto"))
