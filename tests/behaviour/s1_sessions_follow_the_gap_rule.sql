-- Sessions are the policy's inactivity-gap sessions: inside a session no gap exceeds the
-- inactivity gap, and a party's next session starts after a gap above it unless a cap
-- (max arrivals or max duration) closed the previous one; no session exceeds a cap.
-- depends_on: {{ ref('world_policy_params') }}
{%- set gap_us = pval('attachment.sessions.inactivity_gap_seconds') ~ ' * 1e6' %}
with ordered as (
    select
        party_id,
        session_id,
        scenario_id,
        ts_utc,
        lag(session_id) over w as prev_session,
        epoch_us(ts_utc) - epoch_us(lag(ts_utc) over w) as gap_us
    from {{ ref('s1_arrival_entities') }}
    window w as (partition by scenario_id, party_id order by ts_utc, arrival_id)
),

capped as (
    select session_id,
           arrival_count >= {{ pval('attachment.sessions.max_arrivals') }}
           or duration_seconds * 1e6 + {{ gap_us }} > {{ pval('attachment.sessions.max_session_seconds') }} * 1e6 as may_be_capped
    from {{ ref('s1_session_index') }}
)

select o.party_id, o.session_id, o.gap_us, 'gap above the inactivity gap inside a session' as problem
from ordered as o
where o.prev_session = o.session_id and o.gap_us > {{ gap_us }}
union all
select o.party_id, o.session_id, o.gap_us, 'new session after a short gap without a cap'
from ordered as o
join capped as c on c.session_id = o.prev_session
where o.prev_session <> o.session_id and o.gap_us <= {{ gap_us }} and not c.may_be_capped
union all
select party_id, session_id, null, 'session above a cap'
from {{ ref('s1_session_index') }}
where arrival_count > {{ pval('attachment.sessions.max_arrivals') }}
   or duration_seconds > {{ pval('attachment.sessions.max_session_seconds') }}
