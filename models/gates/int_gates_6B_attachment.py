"""6B gate T20 input: one row per kind of attachment (a device shared by parties, an IP by
devices, an account by instruments) with how many owners there are and how many are shared.
Distinct pairs first, then plain counts: both aggregates spill, where count(distinct) per group
may not. One query per kind, one after the other: as branches of one query the three distinct
pair sets were built at once and, with the other gate queries, outgrew memory at `large`."""
import pyarrow as pa

# kind: (owner, attached) - an owner is shared when more than one attached id uses it
PAIRS = {"device": ("device_id", "party_id"), "ip": ("ip_id", "device_id"), "account": ("account_id", "instrument_id")}


def model(dbt, session):
    session.register("gates_6B_entities", dbt.ref("s1_arrival_entities"))
    counts = [
        session.execute(f"""
            select count(*), count(*) filter (where n > 1)
            from (select {owner}, count(*) as n
                  from (select distinct {owner}, {attached} from gates_6B_entities)
                  group by all)
        """).fetchall()[0]
        for owner, attached in PAIRS.values()
    ]
    session.unregister("gates_6B_entities")
    return pa.table({"kind": list(PAIRS),
                     "n_owners": pa.array([c[0] for c in counts], pa.int64()),
                     "n_shared": pa.array([c[1] for c in counts], pa.int64())})
