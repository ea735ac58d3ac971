"""5B S2: one stationary AR(1) latent path per (scenario, group) scales each series' λ."""
import numpy as np
import pyarrow as pa

from python_kernels.arrivals import s2_latent
from python_kernels.core import rng
from python_kernels.core.arrow import codes, column
from python_kernels.dbt_io import run_context, series_bucket_key


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    lgcp = ctx.policies["arrivals"]["lgcp"]
    rows = dbt.ref("s1_series_intensity").to_arrow_table()

    group_key = column(rows, "group_key")
    groups, group_of_row = np.unique(group_key, return_inverse=True)
    first = np.unique(group_of_row, return_index=True)[1]
    band, dclass, channel, vband = ([labels[i] for i in idx[first]] for idx, labels in
                                    (codes(rows, c) for c in ("scenario_band", "demand_class", "channel_group", "virtual_band")))
    sigma = np.array([lgcp["sigma_base"][b] * lgcp["sigma_class_mult"][c] * lgcp["sigma_channel_mult"][ch]
                      * lgcp["sigma_virtual_mult"][v] for b, c, ch, v in zip(band, dclass, channel, vband)])
    sigma = np.clip(sigma, lgcp["sigma_min"], lgcp["sigma_max"])
    length = np.array([lgcp["length_scale_hours"][b] * lgcp["length_class_mult"][c] for b, c in zip(band, dclass)])
    length = np.clip(length, lgcp["length_min_hours"], lgcp["length_max_hours"])

    bucket = column(rows, "bucket_index").astype(np.int64)
    streams = rng.stream_keys(ctx.seed, "s2_realised_intensity.latent", groups)
    factors = s2_latent.latent_factors(streams, sigma, length, int(bucket.max()) + 1,
                                       lgcp["factor_min"], lgcp["factor_max"])
    factor = factors[group_of_row, bucket]
    lam = column(rows, "lambda_baseline")
    out = pa.table({
        **series_bucket_key(rows),
        "group_id": rows.column("group_id"),
        "demand_class": rows.column("demand_class"),
        "scenario_band": rows.column("scenario_band"),
        "lambda_baseline": lam,
        "sigma": sigma[group_of_row],
        "length_scale_hours": length[group_of_row],
        "lambda_random_component": factor,
        "lambda_realised": lam * factor,
    })
    return out
