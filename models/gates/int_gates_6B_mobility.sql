{#
  6B gates R1-R3 input, one row: where legit customers are. Consecutive card-present uses of a
  party among its legit flows (R1: how many imply an impossible journey), parties paying in
  person and those who did so abroad (R2), legit e-commerce flows and those from an IP of
  another country than the party's home (R3). Distances and speeds come from auth_features_6B's
  construction (site coordinates, haversine) but over legit flows only. Each statistic is a
  party's own story, so the parties are sampled, each with all its flows: a coin keyed on
  party_id at the share of the gates' flow sample (int_gates_6B_sample), with each ratio's
  standard error over the sampled parties (cluster_ratio).
#}
with share as (
    select coalesce(any_value(sample_share), 1.0) as share from {{ ref('int_gates_6B_sample') }}
),

legit as (
    select f.flow_id, f.scenario_id, f.party_id, f.ts_utc, f.channel, f.is_cross_border, a.card_present,
           a.ip_country_differs_from_home, s.lat_deg, s.lon_deg
    from {{ ref('s3_flow_anchor_with_fraud') }} as f
    join {{ ref('s4_flow_truth_labels') }} as t using (flow_id)
    join {{ ref('s4_auth_features') }} as a using (flow_id)
    join {{ ref('s1_arrival_entities') }} as e on e.arrival_id = f.arrival_id
    left join {{ ref('world_sites') }} as s on s.site_id = e.site_id
    where t.fraud_label = 'LEGIT'
      and rng_u01({{ stream('6B.gates.party_sample', '0') }}, f.party_id) < (select share from share)
),

-- one use per (party, instant), at the first flow's site, as in auth_features
uses as (
    select scenario_id, party_id, ts_utc, arg_min(lat_deg, flow_id) as lat_deg, arg_min(lon_deg, flow_id) as lon_deg
    from legit
    where card_present
    group by all
),

pairs as (
    select
        party_id,
        {{ haversine_km('lag(lat_deg) over w', 'lag(lon_deg) over w', 'lat_deg', 'lon_deg') }} as km,
        (epoch_us(ts_utc) - epoch_us(lag(ts_utc) over w)) / 3.6e9 as hours
    from uses
    window w as (partition by scenario_id, party_id order by ts_utc)
    qualify lag(ts_utc) over w is not null
),

-- per party: x the units a gate counts, y those that meet its condition
party_pairs as (
    select party_id, count(*) as x,
           count(*) filter (where km > {{ gate_param('6B.R1', 'min_km') }}
                            and km / hours > {{ gate_param('6B.R1', 'max_kmh') }}) as y
    from pairs
    group by party_id
),

party_in_person as (
    select party_id, 1 as x, bool_or(is_cross_border)::int as y
    from legit
    where card_present
    group by party_id
),

party_ecom as (
    select party_id, count(*) as x, count(*) filter (where ip_country_differs_from_home) as y
    from legit
    where channel = 'ECOM'
    group by party_id
),

r1 as ({{ cluster_ratio('party_pairs', '(select share from share)') }}),
r2 as ({{ cluster_ratio('party_in_person', '(select share from share)') }}),
r3 as ({{ cluster_ratio('party_ecom', '(select share from share)') }})

select
    coalesce(r1.n, 0) as n_pairs,
    coalesce(r1.k, 0) as n_impossible,
    r1.standard_error as r1_standard_error,
    (select median(km) from pairs) as median_km,
    coalesce(r2.n, 0) as n_in_person_parties,
    coalesce(r2.k, 0) as n_abroad_parties,
    r2.standard_error as r2_standard_error,
    coalesce(r3.n, 0) as n_ecom,
    coalesce(r3.k, 0) as n_ecom_foreign_ip,
    r3.standard_error as r3_standard_error,
    (select share from share) as party_share
from r1, r2, r3
