"""The report's Jinja2 template and print CSS, shipped inside the wheel as package data.

    from report_templates import template_folder
    template_folder() / "report.html.j2"   # found in an editable checkout and a plain `pip install .` alike
"""

from importlib import resources
from pathlib import Path


def template_folder() -> Path:
    """The folder that holds ``report.html.j2`` and ``report.css`` wherever the package is installed."""
    return Path(str(resources.files(__name__)))
