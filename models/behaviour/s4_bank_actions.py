"""6B S4: one row per flow the bank acted on: the bank's view of it as a process in time
(s4_bank_view.bank_view): detection at auth or after it, the customer's dispute, a chargeback
and its decision, the case that groups it with the account's other triggered flows of the
scenario (s4_cases.group_cases), and the bank's label with the instant it became final (the
case closing). Every flow goes through the process, but only those it opened a case on (a
detection or a dispute) are written: any other flow is NOT_DETECTED and NO_CASE_OPENED with no
instant, which the view s4_flow_bank_view fills in. The flows with their truth are scattered
once into arrival-id ranges of about chunk_rows flows and processed one range at a time; draws
are keyed per flow and per case, so chunking does not matter.
"""
import numpy as np
import pyarrow as pa

from python_kernels.behaviour import s4_bank_view, s4_cases
from python_kernels.behaviour.flow_columns import ts_array, ts_values
from python_kernels.core.arrow import column, vocab_index
from python_kernels.core.policy_schema.arrivals import DEMAND_CLASSES
from python_kernels.core.vocabulary import (BANK_LABELS, CHARGEBACK_OUTCOMES, DETECTION_OUTCOMES, NO_TIME, SUBTYPES,
                                            TRUTH_LABELS)
from python_kernels.dbt_io import Buckets, Stage, id_buckets, run_context

CASES = "s4_bank_actions__cases"
# the flow's keys the view does not take from the flows: account_id groups the cases and is dropped
KEYS = ("flow_id", "scenario_id", "account_id")


def model(dbt, session):
    dbt.config(materialized="dataset")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    policy = ctx.policies["bank_view"]
    params = s4_bank_view.bank_params(policy)
    session.register("s4_flows", dbt.ref("s3_flow_anchor_with_fraud"))
    session.register("s4_truth", dbt.ref("s4_flow_truth_labels"))
    session.register("s4_classes", dbt.ref("merchant_class_profile_5A"))
    stage, acted = Stage(session, "s4_bank_actions"), None
    query = """
        select f.flow_id, f.scenario_id, f.arrival_id, f.account_id, f.merchant_id, f.campaign_id,
               t.fraud_label, t.truth_subtype, f.auth_outcome, f.decline_reason, f.amount_usd,
               f.ts_auth_response, f.ts_clearing, c.primary_demand_class
        from s4_flows as f
        join s4_truth as t using (flow_id)
        join s4_classes as c using (merchant_id)
    """
    with Buckets(session, "s4_bank_actions", query, *id_buckets(session, "s4_flows", "arrival_id", ctx.preset["chunk_rows"])) as b:
        for arr in b.tables("flow_id"):
            acted = _bank_chunk(ctx.seed, arr, params)
            if acted.num_rows:  # a bucket the bank never acted on adds no file
                stage.append(acted)
    if acted is None:
        raise ValueError("s4_bank_actions: there are no flows")
    if not stage.chunks:  # the bank acted on no flow: an empty dataset
        session.register(stage.name, acted)

    # cases: the acted flows of each account in a scenario, in time order, grouped by the window rule
    trig = session.sql(f"""
        select flow_id, dense_rank() over (order by scenario_id, account_id) as case_key,
               epoch_us(case_trigger_utc) as trigger_us, epoch_us(last_step_utc) as last_us
        from {stage.name}
        order by case_key, trigger_us, flow_id
    """).to_arrow_table()
    case_id = s4_cases.group_cases(column(trig, "case_key"), column(trig, "trigger_us"), column(trig, "flow_id"),
                                   int(policy["cases"]["group_window_seconds"] * 1e6))
    closed = s4_cases.close_cases(ctx.seed, case_id, column(trig, "last_us"), params.delays[-1])
    opened = _case_min(case_id, column(trig, "trigger_us"))
    session.register("s4_case_map", pa.table({
        "flow_id": column(trig, "flow_id"), "case_id": case_id,
        "case_opened_utc": ts_array(opened), "case_closed_utc": ts_array(closed)}))
    session.execute(f"create or replace temp table {CASES} as select * from s4_case_map")
    session.unregister("s4_case_map")
    return session.sql(f"""
        select s.* exclude (account_id, case_trigger_utc, last_step_utc), c.case_id, c.case_opened_utc, c.case_closed_utc,
               c.case_closed_utc as bank_label_utc
        from {stage.name} as s join {CASES} as c using (flow_id)
    """)


def _case_min(case_id, values):
    uniq, inv = np.unique(case_id, return_inverse=True)
    first = np.full(uniq.size, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, inv, values)
    return first[inv]


def _bank_chunk(seed, arr, params):
    declined = column(arr, "auth_outcome") == "DECLINED"
    reason = arr.column("decline_reason").fill_null("").to_numpy(zero_copy_only=False)
    flows = {
        "flow_id": column(arr, "flow_id"),
        "subtype": vocab_index(arr, "truth_subtype", SUBTYPES),
        "label": vocab_index(arr, "fraud_label", TRUTH_LABELS),
        "klass": vocab_index(arr, "primary_demand_class", DEMAND_CLASSES),
        "amount_usd": column(arr, "amount_usd"),
        "screened": declined & (reason == "SUSPECTED_FRAUD"),
        "t_response": ts_values(arr, "ts_auth_response"),
        "t_clearing": ts_values(arr, "ts_clearing"),
    }
    b = s4_bank_view.bank_view(seed, flows, params)
    acted = np.flatnonzero(b["trigger"] != NO_TIME)
    arr = arr.take(pa.array(acted))
    b = {k: v[acted] for k, v in b.items()}
    outcome = pa.array(CHARGEBACK_OUTCOMES, pa.string()).take(pa.array(np.maximum(b["outcome"], 0),
                                                                       mask=b["outcome"] < 0))
    bank_label = pa.array(BANK_LABELS, pa.string()).take(pa.array(b["label"]))
    return pa.table({
        **{name: arr.column(name) for name in KEYS},
        "detection_outcome": pa.array(DETECTION_OUTCOMES, pa.string()).take(pa.array(b["detect_kind"])),
        "detection_utc": ts_array(b["detect"]),
        "dispute_utc": ts_array(b["dispute"]),
        "chargeback_utc": ts_array(b["chargeback"]),
        "chargeback_outcome": outcome,
        "chargeback_decision_utc": ts_array(b["decision"]),
        "investigation_confirmed_fraud": b["confirmed"],
        "bank_label": bank_label,
        "is_fraud_bank_view": np.isin(b["label"], [BANK_LABELS.index("BANK_CONFIRMED_FRAUD"),
                                                   BANK_LABELS.index("CHARGEBACK_WRITTEN_OFF")]),
        "case_trigger_utc": ts_array(b["trigger"]),
        "last_step_utc": ts_array(b["last"]),
    })
