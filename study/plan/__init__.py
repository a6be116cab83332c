"""Plan: a declared study becomes concrete trials, with their data, shapes and cost.

Owns the datasets (``data``: find, read, check, subset, fingerprint), the shapes module (``shapes``:
Equation 4, parameters and MACs, checked against Keras by the tests without importing it), trials and
their stable keys (``trials``) and the time model (``estimate``). May import ``study.declare`` and the
shared records; never TensorFlow (the one exception: ``data``'s Keras download fallback, imported only
on that path).
"""
