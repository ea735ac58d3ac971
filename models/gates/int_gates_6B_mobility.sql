{#
  6B gates R1-R3 input, one row: where legit customers are. Consecutive card-present uses of a
  party among its legit flows (R1: how many imply an impossible journey), parties paying in
  person and those who did so abroad (R2), legit e-commerce flows and those from an IP of
  another country than the party's home (R3). Distances and speeds come from auth_features_6B's
  construction (site coordinates, haversine) but over legit flows only.
#}
with legit as (
    select f.flow_id, f.scenario_id, f.party_id, f.ts_utc, f.channel, f.is_cross_border, a.card_present,
           a.ip_country_differs_from_home, s.lat_deg, s.lon_deg
    from {{ ref('s3_flow_anchor_with_fraud') }} as f
    join {{ ref('s4_flow_truth_labels') }} as t using (flow_id)
    join {{ ref('s4_auth_features') }} as a using (flow_id)
    join {{ ref('s1_arrival_entities') }} as e on e.arrival_id = f.arrival_id
    left join {{ ref('world_sites') }} as s on s.site_id = e.site_id
    where t.fraud_label = 'LEGIT'
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
        {{ haversine_km('lag(lat_deg) over w', 'lag(lon_deg) over w', 'lat_deg', 'lon_deg') }} as km,
        (epoch_us(ts_utc) - epoch_us(lag(ts_utc) over w)) / 3.6e9 as hours
    from uses
    window w as (partition by scenario_id, party_id order by ts_utc)
    qualify lag(ts_utc) over w is not null
),

parties as (
    select party_id, bool_or(is_cross_border) as abroad
    from legit
    where card_present
    group by party_id
)

select
    (select count(*) from pairs) as n_pairs,
    (select count(*) from pairs
     where km > {{ gate_param('6B.R1', 'min_km') }} and km / hours > {{ gate_param('6B.R1', 'max_kmh') }}) as n_impossible,
    (select median(km) from pairs) as median_km,
    (select count(*) from parties) as n_in_person_parties,
    (select count(*) filter (where abroad) from parties) as n_abroad_parties,
    (select count(*) from legit where channel = 'ECOM') as n_ecom,
    (select count(*) from legit where channel = 'ECOM' and ip_country_differs_from_home) as n_ecom_foreign_ip
