"""CNN Lab engine: the maths behind every lesson, in torch and NumPy, with no UI code.

It runs headless (a GPU box, a notebook, a benchmark); the Streamlit pages call it.
"""
