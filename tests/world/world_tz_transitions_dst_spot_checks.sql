-- Known civil-time facts of Q1 2026 (tzdata): each row is an instant and the offset it must have.
with expected(tzid, at_utc, offset_minutes) as (
    values
        ('America/New_York', timestamp '2026-03-08 06:30:00', -300),
        ('America/New_York', timestamp '2026-03-08 07:30:00', -240),
        ('Europe/Paris', timestamp '2026-03-29 00:59:59', 60),
        ('Europe/Paris', timestamp '2026-03-29 01:00:00', 120),
        ('Africa/Casablanca', timestamp '2026-02-15 01:59:59', 60),
        ('Africa/Casablanca', timestamp '2026-02-15 02:00:00', 0),
        ('Africa/Casablanca', timestamp '2026-03-22 01:59:59', 0),
        ('Africa/Casablanca', timestamp '2026-03-22 02:00:00', 60),
        ('America/St_Johns', timestamp '2026-03-08 05:30:00', -150),
        ('Asia/Kathmandu', timestamp '2026-03-15 12:00:00', 345),
        ('Etc/UTC', timestamp '2026-03-15 12:00:00', 0)
),

in_range as (
    select e.*
    from expected as e
    where e.at_utc >= (select min(valid_from_utc) from {{ ref('world_tz_transitions') }})
      and e.at_utc < (select max(valid_to_utc) from {{ ref('world_tz_transitions') }})
),

-- a zone on one offset through every scenario horizon
constant(tzid, offset_minutes) as (
    values ('Australia/Sydney', 660), ('Asia/Kathmandu', 345), ('Asia/Kolkata', 330)
),

point_failures as (
    select i.tzid, i.at_utc, i.offset_minutes as expected, t.offset_minutes as actual
    from in_range as i
    left join {{ ref('world_tz_transitions') }} as t
        on t.tzid = i.tzid and i.at_utc >= t.valid_from_utc and i.at_utc < t.valid_to_utc
    where t.offset_minutes is distinct from i.offset_minutes
),

constant_failures as (
    select c.tzid, null::timestamp as at_utc, c.offset_minutes as expected, t.offset_minutes as actual
    from constant as c
    inner join {{ ref('world_tz_transitions') }} as t using (tzid)
    where t.offset_minutes <> c.offset_minutes
      and t.valid_from_utc < (select max(horizon_end_utc) from {{ ref('scenario_manifest_5A') }})
      and t.valid_to_utc > (select min(horizon_start_utc) from {{ ref('scenario_manifest_5A') }})
)

select * from point_failures
union all
select * from constant_failures
