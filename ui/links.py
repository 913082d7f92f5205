"""'Copy link' for any page: the URL holds the page's settings, the language and the lecture layout."""

from __future__ import annotations

import streamlit as st

from ui.widgets import tr

_JS = """
export default function ({ data, parentElement }) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "cl-link";
  button.setAttribute("data-testid", "copy-link");
  button.textContent = data.copy;
  button.addEventListener("click", async () => {
    const href = window.location.href;
    let ok = true;
    try {
      await navigator.clipboard.writeText(href);
    } catch (e) {
      ok = false;
    }
    button.dataset.copiedLink = href;
    button.textContent = ok ? "✓ " + data.copied : href;
    setTimeout(() => (button.textContent = data.copy), 2500);
  });
  parentElement.appendChild(button);
  return () => button.remove();
}
"""
_CSS = """
.cl-link {font:inherit; width:100%; padding:0.35em 0.7em; border-radius:0.5rem; cursor:pointer;
  border:1px solid var(--st-border-color, #ccc); background:var(--st-secondary-background-color, #f0f2f6);
  color:var(--st-text-color, #111); overflow-wrap:anywhere;}
"""
_component = st.components.v2.component("cnnlab_copy_link", js=_JS, css=_CSS, isolate_styles=True)


def copy_link() -> None:
    """A button that copies this page's URL (with its settings) to the clipboard, in the browser."""
    t = tr()
    _component(key="copy_link", data={"copy": t("link.copy_page"), "copied": t("steps.copied")})
