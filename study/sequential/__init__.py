"""Seeds in stages (a sequential design): run the first look, analyse it, give more seeds only where a
comparison is undecided.

This stage sits above the runner and the analysis (it is the one place that uses both): each look is a
``study.run.runner.run_study`` of the study with the seeds chosen so far, followed by
``study.analyse.comparisons.analyse`` of what the store holds and ``study.analyse.sequential.next_look``.
A look only trains what the store lacks, so a finished run replays its looks without training, and a run
with a larger cap continues where the last one stopped.

    counts = run_in_stages(default_study(), get_profile("quick"), "output/study.sqlite", Execution.build())

``forecast`` computes what ``study plan`` shows before a run: the first look, the worst case of the looks.
"""
