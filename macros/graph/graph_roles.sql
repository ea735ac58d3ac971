{#
  Shared steps of the 6A static fraud-role models (s5_*_fraud_roles_6A):
  score -> tier -> role drawn from graph_role_priors -> deterministic cap post-pass.
#}

{# Risk tier of a score in [0, 1] from roles.tier_cutoffs (score <= cut-off). #}
{% macro graph_risk_tier(score) -%}
case
    when {{ score }} <= {{ pval('graph.roles.tier_cutoffs.LOW') }} then 'LOW'
    when {{ score }} <= {{ pval('graph.roles.tier_cutoffs.STANDARD') }} then 'STANDARD'
    when {{ score }} <= {{ pval('graph.roles.tier_cutoffs.ELEVATED') }} then 'ELEVATED'
    else 'HIGH'
end
{%- endmacro %}

{# Clipped risk score: base + weighted features + noise_sd * N(0, 1) from `stream`, in [0, 1]. #}
{% macro graph_risk_score(kind, terms, stream) -%}
least(1.0, greatest(0.0,
    {{ pval('graph.roles.' ~ kind ~ '.base') }}
    {%- for feature, expr in terms.items() %}
    + {{ pval('graph.roles.' ~ kind ~ '.weights.' ~ feature) }} * ({{ expr }})
    {%- endfor %}
    + {{ pval('graph.roles.' ~ kind ~ '.noise_sd') }} * rng_normal({{ stream }}, 0)
))
{%- endmacro %}

{# Prior probabilities of `roles` per (entity_group, risk_tier) as columns p_<role>. #}
{% macro graph_role_priors(entity_kind, roles) -%}
select
    entity_group,
    risk_tier,
    {%- for r in roles %}
    coalesce(max(case when role = '{{ r }}' then prob end), 0.0) as p_{{ r | lower }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ ref('graph_role_priors') }}
where entity_kind = '{{ entity_kind }}'
group by entity_group, risk_tier
{%- endmacro %}

{#
  Role by inversion of one uniform `u` over the weights (SQL expressions, in role order);
  weights default to the prior columns p_<role> of graph_role_priors(), possibly multiplied
  by coherence factors by the caller, and need not sum to 1.
#}
{% macro graph_pick_role(u, roles, weights=none) -%}
{%- if weights is none -%}
  {%- set weights = [] -%}
  {%- for r in roles %}{% do weights.append('p.p_' ~ (r | lower)) %}{% endfor -%}
{%- endif -%}
{%- set total = '(' ~ (weights | join(' + ')) ~ ')' -%}
case
    {%- for r in roles[:-1] %}
    when {{ u }} * {{ total }} < {{ weights[:loop.index] | join(' + ') }} then '{{ r }}'
    {%- endfor %}
    else '{{ roles[-1] }}'
end
{%- endmacro %}

{#
  Cap post-pass: for each capped role keep the floor(cap * N) highest-score holders (id breaks
  ties), demote the rest to `clean`. `relation` has columns id, role_drawn, risk_score.
#}
{% macro graph_apply_caps(relation, id, kind, capped_roles, clean) -%}
select
    *,
    case
        {%- for r in capped_roles %}
        when role_drawn = '{{ r }}' and role_rank > floor({{ pval('graph.roles.' ~ kind ~ '.caps.' ~ r) }} * n_total) then '{{ clean }}'
        {%- endfor %}
        else role_drawn
    end as role_capped
from (
    select
        *,
        row_number() over (partition by role_drawn order by risk_score desc, {{ id }}) as role_rank,
        count(*) over () as n_total
    from {{ relation }}
)
{%- endmacro %}

{#
  The CTEs scored -> tiered -> priors -> `cte` of a fraud-role model, from a `features` relation
  with entity_group, score_stream and role_stream: the risk score from `terms`, its tier, the
  (entity_group, tier) priors of `kind` and the role drawn from them (column `as_column`).
#}
{% macro graph_drawn_roles(features, kind, terms, roles, weights=none, as_column='role_drawn', cte='drawn') -%}
scored as (
    select
        *,
        {{ graph_risk_score(kind, terms, 'score_stream') }} as risk_score
    from {{ features }}
),

tiered as (
    select *, {{ graph_risk_tier('risk_score') }} as risk_tier from scored
),

priors as (
    {{ graph_role_priors(kind | upper, roles) }}
),

{{ cte }} as (
    select
        t.*,
        {{ graph_pick_role('rng_u01(t.role_stream, 0)', roles, weights) }} as {{ as_column }}
    from tiered as t
    join priors as p using (entity_group, risk_tier)
)
{%- endmacro %}

{# The published columns of a capped fraud-role relation (id, role, score, tier, capped flag). #}
{% macro graph_role_columns(id, role_column) -%}
    {{ id }},
    role_capped as {{ role_column }},
    risk_score,
    risk_tier,
    role_capped <> role_drawn as is_capped
{%- endmacro %}
