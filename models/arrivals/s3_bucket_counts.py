"""5B S3: NB2 arrivals count per (series, bucket) with mean λ_realised; λ ≤ ε gives 0 with no draw."""
import numpy as np
import pyarrow as pa

from python_kernels.arrivals import s3_counts
from python_kernels.core import rng
from python_kernels.core.arrow import codes, column
from python_kernels.dbt_io import run_context, series_bucket_key


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    counts_policy = ctx.policies["arrivals"]["counts"]
    rows = dbt.ref("s2_realised_intensity").to_arrow_table()

    band, band_labels = codes(rows, "scenario_band")
    dclass, class_labels = codes(rows, "demand_class")
    kappa_table = np.array([[counts_policy["kappa_base"][b] * counts_policy["kappa_class_mult"][c]
                             for c in class_labels] for b in band_labels])
    kappa = np.clip(kappa_table[band, dclass], counts_policy["kappa_min"], counts_policy["kappa_max"])
    mu = column(rows, "lambda_realised")
    keys = rng.combine_keys(column(rows, "series_key"), column(rows, "bucket_index").astype(np.int64))
    streams = rng.stream_keys(ctx.seed, "s3_bucket_counts.nb2", keys)
    n = s3_counts.bucket_counts(streams, mu, kappa, counts_policy["lambda_zero_eps"])
    cap = counts_policy["max_count_per_bucket"]
    out = pa.table({
        **series_bucket_key(rows),
        "lambda_realised": mu,
        "kappa": kappa,
        "count_n": np.minimum(n, cap),
        "count_capped": n > cap,
    })
    return out
