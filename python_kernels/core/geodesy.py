"""Distances on the Earth, shared by the kernels that place people and check where they can be."""
import numpy as np
from numba import njit

EARTH_KM = 6371.0088  # mean Earth radius (IUGG)


@njit(cache=True)
def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle km between points in degrees; scalars in kernels, arrays from Python."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2.0 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
