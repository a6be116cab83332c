"""Train: the only stage that imports TensorFlow and Keras.

Owns the LeNet builder (``model``), the whole-epoch training loop (``fastfit``), the worker entry point
that trains one trial spec and returns a ``TrialResult`` (``worker``), GPU placement (``devices``) and
the machine calibration for the time model (``calibration``). May import ``study.plan`` and
``study.declare``; nothing from running, storing, analysing or reporting.
"""
