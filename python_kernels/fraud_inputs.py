"""Inputs of the 6B S3 models read from the world: merchants with their demand class and
fraud role, and the country codes, in the order the campaign arrays index them."""
from __future__ import annotations

import numpy as np

from python_kernels.dbt_io import column


def campaign_merchants(session, classes: str, roles: str) -> dict:
    """{"id", "class", "role"} arrays by merchant_id, from the registered relations `classes`
    (merchant_class_profile_5A) and `roles` (s5_merchant_fraud_roles_6A)."""
    t = session.sql(f"""
        select c.merchant_id, c.primary_demand_class as class, r.fraud_role_merchant as role
        from {classes} as c join {roles} as r using (merchant_id) order by c.merchant_id
    """).to_arrow_table()
    return {"id": column(t, "merchant_id"), "class": np.array(t.column("class").to_pylist()),
            "role": np.array(t.column("role").to_pylist())}


def country_codes(session, countries: str) -> list:
    """Sorted country codes of the registered relation `countries` (world_countries)."""
    return [r[0] for r in session.sql(f"select country_iso from {countries} order by 1").fetchall()]
