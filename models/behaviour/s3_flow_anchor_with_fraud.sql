{#
  One row per baseline flow after the fraud overlay: the baseline with the rows of
  s3_overlay_delta laid over it. A flow a campaign took takes every overlaid column from the
  delta (null there means null: a declined flow has no clearing), the others are the baseline
  flow as it was. A view: S3 writes only what the campaigns changed.
#}
{#- the columns in the order the written dataset had them, so its content digest is unchanged -#}
{%- set kept = ['flow_id', 'arrival_id', 'flow_index', 'retry_of_flow_id', 'session_id', 'merchant_id',
                'arrival_seq', 'channel', 'party_id', 'account_id', 'instrument_id'] -%}
{%- set swapped = ['device_id', 'ip_id'] -%}
{%- set kept_after_ip = ['currency_code', 'currency_minor_units', 'flow_type', 'ts_utc'] -%}
{%- set outcome = ['amount_minor', 'amount', 'has_step_up', 'auth_outcome', 'decline_reason', 'flow_status',
                   'ts_step_up_challenge', 'ts_step_up_complete', 'ts_auth_response', 'auth_latency_seconds',
                   'ts_clearing', 'clearing_amount_minor', 'ts_reversal', 'ts_refund', 'refund_amount_minor'] -%}
{%- set tactics = ['amount_mutated', 'device_swapped', 'ip_swapped', 'step_up_forced', 'card_declined',
                   'screen_declined', 'refund_added'] -%}
with baseline as (
    select * from {{ ref('s2_flow_anchor_baseline') }}
),

delta as (
    select * from {{ ref('s3_overlay_delta') }}
),

final as (
    select
        {%- for c in kept %}
        b.{{ c }},
        {%- endfor %}
        {%- for c in swapped %}
        case when d.flow_id is null then b.{{ c }} else d.{{ c }} end as {{ c }},
        {%- endfor %}
        {%- for c in kept_after_ip %}
        b.{{ c }},
        {%- endfor %}
        {%- for c in outcome %}
        case when d.flow_id is null then b.{{ c }} else d.{{ c }} end as {{ c }},
        {%- endfor %}
        b.legal_country_iso,
        b.is_cross_border,
        d.flow_id is not null as fraud_flag,
        d.campaign_id,
        d.campaign_type,
        case when d.flow_id is null then b.amount_usd else d.amount_usd end as amount_usd,
        b.amount_minor as origin_amount_minor,
        b.device_id as origin_device_id,
        b.ip_id as origin_ip_id,
        {%- for c in tactics %}
        coalesce(d.{{ c }}, false) as {{ c }},
        {%- endfor %}
        -- last, where a scenario dataset read back from its partitioned Parquet has it
        b.scenario_id
    from baseline as b
    left join delta as d using (flow_id)
)

select * from final
