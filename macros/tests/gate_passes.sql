{#
  Every gate of `segment` whose tier is in `tiers` must have exactly one row in the gate model
  and, unless it is pending, pass_<grade> true. The grading itself is the model's (macros/gates.sql
  `gate_rows`); this test only reads it. Returns one row per failing gate with the reason.
#}
{% test gate_passes(model, grade, segment, tiers) %}
{%- if grade not in ('b', 'bplus') -%}
  {{ exceptions.raise_compiler_error("gate_passes: grade must be 'b' or 'bplus', got '" ~ grade ~ "'") }}
{%- endif %}
with expected as (
    select gate_id
    from (values {% for gid in gate_ids(segment, tiers=tiers) %}('{{ gid }}'){{ ", " if not loop.last }}{% endfor %}) as e(gate_id)
),

observed as (
    select
        gate_id,
        count(*) as n_rows,
        bool_and(pass_{{ grade }}) as passed,
        bool_and(pending) as pending,
        min(reason) as reason
    from {{ model }}
    group by gate_id
)

select
    e.gate_id,
    case
        when o.gate_id is null then 'missing'
        when o.n_rows > 1 then 'duplicated'
        else coalesce(o.reason, 'below {{ grade }}')
    end as failure
from expected as e
left join observed as o using (gate_id)
where o.gate_id is null
   or o.n_rows > 1
   or not (o.pending or coalesce(o.passed, false))
{% endtest %}
