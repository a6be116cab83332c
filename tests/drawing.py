"""A report figure drawn in a test and kept open for inspection: ``study.report.figures`` closes each figure it
saves, so ``plt.close`` is held back while it draws.

    returned, fig = drawn(monkeypatch, figures.final_figure, analysis, "kernel_size", tmp_path)
    ...
    plt.close(fig)   # the caller closes it
"""

from study.report import figures


def drawn(monkeypatch, draw, *args):
    """Call ``draw(*args)`` with ``plt.close`` held back; return (what it returned, the figure it closed)."""
    kept = []
    with monkeypatch.context() as patch:
        patch.setattr(figures.plt, "close", kept.append)
        returned = draw(*args)
    return returned, kept[0]
