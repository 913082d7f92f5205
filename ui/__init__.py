"""Streamlit-side helpers shared by the pages: the matrix renderer, step controls, translation."""
