"""Report: frozen numbers become words, figures and pages.

Owns the sentences (``wording``: the only module that writes prose), the figures (``figures``:
matplotlib, pixels only), and the renderer (``render``: CSVs, HTML through the Jinja2 templates in
``templates/``, PDF through WeasyPrint). May import ``study.analyse`` and everything below it; never
TensorFlow or the runner.
"""
