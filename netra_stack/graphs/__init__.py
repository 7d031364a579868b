"""The stack drawn: its services and `depends_on` as a picture (picture.py), written as a tree
for the terminal, mermaid or dot (formats.py), or an SVG or PNG image (image.py)."""
