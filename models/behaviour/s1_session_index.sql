{#
  One row per session: the party's run of arrivals cut by the inactivity gap and caps of
  policies/behaviour.yaml (sessions). Primary entities are the dominant ones of the session
  (most arrivals, lowest id on a tie), so the index does not depend on row order.
#}
{%- set dominant = ['device_id', 'account_id', 'instrument_id', 'ip_id', 'merchant_id'] -%}

with arrivals as (
    select * from {{ ref('s1_arrival_entities') }}
),

sessions as (
    select
        session_id,
        any_value(scenario_id) as scenario_id,
        min(party_id) as party_id,
        count(distinct party_id) as n_parties,
        count(*) as arrival_count,
        min(ts_utc) as session_start_utc,
        max(ts_utc) as session_end_utc,
        count(distinct merchant_id) as n_merchants,
        count(distinct device_id) as n_devices,
        string_agg(distinct channel, ',' order by channel) as channels,
        bool_or(is_cross_border) as any_cross_border
    from arrivals
    group by session_id
),
{% for col in dominant %}
dominant_{{ col }} as (
    select session_id, first({{ col }} order by n desc, {{ col }}) as primary_{{ col }}
    from (select session_id, {{ col }}, count(*) as n from arrivals group by all)
    group by session_id
){{ "," if not loop.last }}
{% endfor %}

select
    s.session_id,
    s.scenario_id,
    s.party_id,
    {%- for col in dominant %}
    d_{{ loop.index }}.primary_{{ col }},
    {%- endfor %}
    s.arrival_count,
    s.session_start_utc,
    s.session_end_utc,
    (epoch_us(s.session_end_utc) - epoch_us(s.session_start_utc)) / 1e6 as duration_seconds,
    s.n_merchants,
    s.n_devices,
    s.channels,
    s.any_cross_border,
    s.n_parties
from sessions as s
{%- for col in dominant %}
join dominant_{{ col }} as d_{{ loop.index }} using (session_id)
{%- endfor %}
