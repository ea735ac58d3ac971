{#
  Every gate of `segment` (except pending ones) whose tier is in `tiers` must have exactly one row in the model, with
  evidence at or above its policy min_evidence and pass_<grade> true. Returns one row per
  failing gate with the reason: missing, duplicated, insufficient evidence, or below the grade.
#}
{% test gate_passes(model, grade, segment, tiers) %}
{%- if grade not in ('b', 'bplus') -%}
  {{ exceptions.raise_compiler_error("gate_passes: grade must be 'b' or 'bplus', got '" ~ grade ~ "'") }}
{%- endif %}
with params as (
    select key, num_value, text_value
    from {{ ref('world_policy_params') }}
    where regexp_matches(key, '^gates\.gates\.{{ segment }}\.[A-Z]+[0-9]*\.(tier|min_evidence)$')
),

expected as (
    select regexp_extract(key, '^gates\.gates\.(.+)\.tier$', 1) as gate_id
    from params
    where ends_with(key, '.tier')
      and text_value in ({% for t in tiers %}'{{ t }}'{{ ", " if not loop.last }}{% endfor %})
),

-- gates whose state is not built yet are graded as pending by the validation step
pending as (
    select text_value as gate_id
    from {{ ref('world_policy_params') }}
    where starts_with(key, 'gates.pending[')
),

floors as (
    select regexp_extract(key, '^gates\.gates\.(.+)\.min_evidence$', 1) as gate_id, num_value as min_evidence
    from params
    where ends_with(key, '.min_evidence')
),

observed as (
    select gate_id, count(*) as n_rows, bool_and(pass_{{ grade }}) as passed, min(evidence_n) as evidence_n
    from {{ model }}
    group by gate_id
)

select
    e.gate_id,
    case
        when o.gate_id is null then 'missing'
        when o.n_rows > 1 then 'duplicated'
        when coalesce(o.evidence_n, 0) < f.min_evidence then 'insufficient evidence'
        else 'below {{ grade }}'
    end as failure,
    o.evidence_n,
    f.min_evidence
from expected as e
anti join pending as p using (gate_id)
left join observed as o using (gate_id)
left join floors as f using (gate_id)
where o.gate_id is null
   or o.n_rows > 1
   or coalesce(o.evidence_n, 0) < f.min_evidence
   or not coalesce(o.passed, false)
{% endtest %}
