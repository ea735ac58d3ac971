{# The share of rows satisfying `condition` lies within policy bounds: at most the value at
   `max_key` and at least the value at `min_key` (keys of world_policy_params, e.g.
   'graph.roles.party.caps.MULE'). Bounds are read at run time, so the test follows the policy. #}
{% test share_within_policy(model, condition, max_key=none, min_key=none) %}
with s as (
    select avg(case when {{ condition }} then 1.0 else 0.0 end) as share from {{ model }}
),
bounds as (
    select
        {% if max_key %}(select num_value from {{ ref('world_policy_params') }} where key = '{{ max_key }}'){% else %}1.0{% endif %} as max_share,
        {% if min_key %}(select num_value from {{ ref('world_policy_params') }} where key = '{{ min_key }}'){% else %}0.0{% endif %} as min_share
)
select s.share, b.min_share, b.max_share
from s cross join bounds as b
where s.share is null or b.max_share is null or b.min_share is null
   or s.share > b.max_share or s.share < b.min_share
{% endtest %}
