"""Numba kernels and thin orchestration helpers of the Fraud Data Engine.

Kernels take arrays and return arrays (no I/O); dbt Python models in `models/` are thin
shells around them. numba's `omp` threading layer is chosen explicitly: it is thread-safe
when dbt runs two Python models at once (the `workqueue` layer aborts the process).
"""
import numba

numba.config.THREADING_LAYER = "omp"
