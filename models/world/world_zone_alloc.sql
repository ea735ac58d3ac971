-- The zone universe of 5A (upstream §2.1): every (merchant, country, tzid) holding a site, plus
-- one settlement zone per VIRTUAL_ONLY merchant sized by its edge count. No zero-site zones.
with classification as (
    select merchant_id, virtual_mode from {{ ref('world_virtual_classification') }}
),

site_zones as (
    select s.merchant_id, s.legal_country_iso, s.tzid, count(*) as zone_site_count
    from {{ ref('world_sites') }} as s
    inner join classification as c on c.merchant_id = s.merchant_id
    where c.virtual_mode <> 'VIRTUAL_ONLY'
    group by s.merchant_id, s.legal_country_iso, s.tzid
),

virtual_zones as (
    select
        v.merchant_id,
        v.settlement_country_iso as legal_country_iso,
        v.tzid_settlement as tzid,
        greatest(1, round(count(e.edge_id) / {{ pval('world.zones.edges_per_virtual_site') }}))::bigint as zone_site_count
    from {{ ref('world_virtual_settlement') }} as v
    inner join classification as c on c.merchant_id = v.merchant_id
    inner join {{ ref('world_edges') }} as e on e.merchant_id = v.merchant_id
    where c.virtual_mode = 'VIRTUAL_ONLY'
    group by v.merchant_id, v.settlement_country_iso, v.tzid_settlement
),

zones as (
    select *, 'sites' as zone_source from site_zones
    union all
    select *, 'virtual_settlement' as zone_source from virtual_zones
),

totals as (
    select
        *,
        sum(zone_site_count) over (partition by merchant_id, legal_country_iso)::bigint as zone_site_count_sum,
        sum(zone_site_count) over (partition by merchant_id)::bigint as site_count
    from zones
)

select
    merchant_id,
    legal_country_iso,
    tzid,
    zone_site_count,
    zone_site_count_sum,
    site_count,
    zone_site_count / zone_site_count_sum as country_site_share,
    case
        when zone_site_count / zone_site_count_sum >= {{ pval('world.zones.primary_min_share') }} then 'primary_zone'
        when zone_site_count / zone_site_count_sum <= {{ pval('world.zones.tail_max_share') }} then 'tail_zone'
        else 'secondary_zone'
    end as zone_role,
    zone_source
from totals
order by merchant_id, legal_country_iso, tzid
