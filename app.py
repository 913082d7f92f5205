"""CNN Lab: entry point. Sidebar (language, lecture layout, device) and navigation; nothing heavy."""

import streamlit as st

from cnnlab.device import device_label
from cnnlab.i18n import DEFAULT_LANGUAGE, languages
from ui.widgets import inject_style, tr

st.set_page_config(page_title="CNN Lab", page_icon="🧠", layout="wide")
st.session_state.setdefault("lang", DEFAULT_LANGUAGE)
names = languages()
with st.sidebar:
    st.selectbox("🌐 Language / Limba", list(names), key="lang", format_func=names.get)
    t = tr()
    st.toggle(t("sidebar.lecture_mode"), key="lecture_mode", help=t("sidebar.lecture_mode_help"))
    st.caption(t("sidebar.device", device=device_label()))

pages = [
    st.Page("pages/home.py", title=t("nav.home"), icon="🏠", default=True),
    st.Page("pages/convolution.py", title=t("nav.convolution"), icon="🔲", url_path="convolution"),
    st.Page("pages/transposed_convolution.py", title=t("nav.transposed"), icon="🔳", url_path="transposed-convolution"),
]
navigation = st.navigation(pages)
inject_style()
navigation.run()
