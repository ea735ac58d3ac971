{#
  One row per flow of s3_flow_anchor_with_fraud: what a bank knows at the flow's auth request
  from the past alone. Every window ends strictly before the request (peers at the same
  microsecond are not past) and reads only flows, never labels. Velocity counts attempts,
  declined ones too; "new" means not seen in the party's flows since the horizon start. Device
  and IP features describe the customer's own device and connection: a payment through the
  merchant's terminal has none (null), the bank sees the terminal, not the customer's network.
#}
with flows as (
    select
        f.flow_id,
        f.scenario_id,
        f.ts_utc,
        f.party_id,
        f.instrument_id,
        f.device_id,
        f.ip_id,
        f.merchant_id,
        f.channel,
        m.mcc,
        hour(a.ts_local_primary) as local_hour,
        f.amount_usd,
        f.is_cross_border,
        s.lat_deg,
        s.lon_deg,
        f.channel in ('POS', 'ATM', 'HYBRID') and e.site_id is not null as card_present,
        d.site_id is not null as via_terminal
    from {{ ref('s3_flow_anchor_with_fraud') }} as f
    join {{ ref('s1_arrival_entities') }} as e using (arrival_id)
    join {{ ref('s4_arrival_events') }} as a on a.arrival_id = f.arrival_id
    join {{ ref('world_merchants') }} as m on m.merchant_id = f.merchant_id
    left join {{ ref('world_sites') }} as s on s.site_id = e.site_id
    left join {{ ref('s4_device_base_6A') }} as d on d.device_id = f.device_id
),

velocity as (
    select
        flow_id,
        {%- for who in ['party', 'card'] %}
        {%- for name, span in [('1h', '1 hour'), ('24h', '24 hours'), ('7d', '7 days')] %}
        count(*) over ({{ who }}_window range between interval {{ span }} preceding and interval 1 microsecond preceding)
            as {{ who }}_flows_{{ name }},
        {%- endfor %}
        {%- endfor %}
        count(*) over (party_window range between unbounded preceding and interval 1 microsecond preceding)
            as party_prior_flows,
        -- an exact integer sum (nano-log units), so the mean does not depend on summation order
        sum(round(ln(amount_usd) * 1e9)::hugeint) over (party_window range between unbounded preceding
                                                        and interval 1 microsecond preceding) as party_log_amount_sum
    from flows
    window
        party_window as (partition by scenario_id, party_id order by ts_utc),
        card_window as (partition by scenario_id, instrument_id order by ts_utc)
),

-- the first flow of a (party, entity) pair is the one at its earliest instant
novelty as (
    select
        flow_id,
        ts_utc > min(ts_utc) over (partition by scenario_id, party_id, device_id) as seen_device,
        ts_utc > min(ts_utc) over (partition by scenario_id, party_id, ip_id) as seen_ip,
        ts_utc > min(ts_utc) over (partition by scenario_id, party_id, merchant_id) as seen_merchant
        -- a flow without a device or IP is neither new nor seen (null below)
    from flows
),

-- each card-present flow against the party's previous card-present flow (an earlier instant)
card_present as (
    select
        scenario_id,
        party_id,
        ts_utc,
        lat_deg,
        lon_deg,
        lag(lat_deg) over w as prev_lat_deg,
        lag(lon_deg) over w as prev_lon_deg,
        lag(ts_utc) over w as prev_ts_utc
    from (
        -- one row per (party, instant): card-present flows at one instant are one use (at the first flow's site)
        select scenario_id, party_id, ts_utc, arg_min(lat_deg, flow_id) as lat_deg, arg_min(lon_deg, flow_id) as lon_deg
        from flows
        where card_present
        group by all
    )
    window w as (partition by scenario_id, party_id order by ts_utc)
),

travel as (
    select
        c.scenario_id,
        c.party_id,
        c.ts_utc,
        {{ haversine_km('c.prev_lat_deg', 'c.prev_lon_deg', 'c.lat_deg', 'c.lon_deg') }} as km_from_prev_card_present,
        epoch_us(c.ts_utc) - epoch_us(c.prev_ts_utc) as us_since_prev_card_present
    from card_present as c
    where c.prev_ts_utc is not null
),

homes as (
    select party_id, country_iso as home_country_iso from {{ ref('s1_party_base_6A') }}
),

ips as (
    select ip_id, country_iso as ip_country_iso from {{ ref('s4_ip_base_6A') }}
),

final as (
    select
        f.flow_id,
        f.scenario_id,
        f.ts_utc,
        f.channel,
        f.mcc,
        f.local_hour,
        f.amount_usd,
        f.card_present,
        f.is_cross_border,
        v.party_flows_1h,
        v.party_flows_24h,
        v.party_flows_7d,
        v.card_flows_1h,
        v.card_flows_24h,
        v.card_flows_7d,
        v.party_prior_flows,
        f.amount_usd / exp(v.party_log_amount_sum::double / 1e9 / nullif(v.party_prior_flows, 0))
            as amount_vs_party_history,
        case when f.device_id is not null and not f.via_terminal then not n.seen_device end as is_new_device,
        case when f.ip_id is not null and not f.via_terminal then not n.seen_ip end as is_new_ip,
        not n.seen_merchant as is_new_merchant,
        t.km_from_prev_card_present,
        t.km_from_prev_card_present / (t.us_since_prev_card_present / 3.6e9) as kmh_from_prev_card_present,
        case when not f.via_terminal then i.ip_country_iso end as ip_country_iso,
        case when not f.via_terminal then i.ip_country_iso <> h.home_country_iso end as ip_country_differs_from_home
    from flows as f
    join velocity as v using (flow_id)
    join novelty as n using (flow_id)
    left join travel as t
        on f.card_present and t.scenario_id = f.scenario_id and t.party_id = f.party_id and t.ts_utc = f.ts_utc
    join homes as h on h.party_id = f.party_id
    left join ips as i on i.ip_id = f.ip_id
)

select * from final
