"""6B gate R7 input: one row per bank-view delay with a policy law (policies/bank_view.yaml
delays): how many the flows and cases realised and their Kolmogorov-Smirnov distance from the
law (python_kernels/gates/delays.py). The chargeback delay is left out: a chargeback exists only
within the scheme window after clearing, so its realised delays are a truncated sample."""
import pyarrow as pa

from python_kernels.dbt_io import run_context
from python_kernels.gates.delays import BINS_PER_LN, ks_from_bins

# delay -> SQL of its realised delays in microseconds (one row each) over the registered relations
DELAYS = {
    "detection": """select epoch_us(b.detection_utc) - epoch_us(f.ts_auth_response)
                    from gates_6B_bank as b join gates_6B_flows as f using (flow_id)
                    where b.detection_outcome = 'DETECTED_POST_AUTH'""",
    "dispute": """select epoch_us(b.dispute_utc) - epoch_us(f.ts_clearing)
                  from gates_6B_bank as b join gates_6B_flows as f using (flow_id)
                  where b.dispute_utc is not null""",
    "chargeback_decision": """select epoch_us(chargeback_decision_utc) - epoch_us(chargeback_utc)
                              from gates_6B_bank where chargeback_decision_utc is not null""",
    # closing follows the case's last step, the event before CASE_CLOSED
    "case_close": """select gap from (
                         select case_event_type,
                                epoch_us(ts_utc) - lag(epoch_us(ts_utc)) over (partition by case_id order by case_event_seq) as gap
                         from gates_6B_cases)
                     where case_event_type = 'CASE_CLOSED'""",
}


def model(dbt, session):
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    delays = ctx.policies["bank_view"]["delays"]
    session.register("gates_6B_bank", dbt.ref("s4_flow_bank_view"))
    session.register("gates_6B_flows", dbt.ref("s3_flow_anchor_with_fraud"))
    session.register("gates_6B_cases", dbt.ref("s4_case_timeline"))
    rows = []
    for name, sql in DELAYS.items():
        spec = [delays[name][k] for k in ("median_seconds", "sigma", "min_seconds", "max_seconds")]
        t = session.sql(f"""
            select floor(ln(greatest(d, 1) / 1e6) * {BINS_PER_LN})::bigint as bin, count(*) as n
            from ({sql}) as t(d) group by 1
        """).fetchnumpy()
        rows.append({"delay": name, "n_delays": int(t["n"].sum()), "ks": ks_from_bins(t["bin"], t["n"], spec)})
    for name in ("gates_6B_bank", "gates_6B_flows", "gates_6B_cases"):
        session.unregister(name)
    return pa.Table.from_pylist(rows, schema=pa.schema([("delay", pa.string()), ("n_delays", pa.int64()),
                                                        ("ks", pa.float64())]))
