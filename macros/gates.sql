{#
  The one gate grader. Every gate threshold, evidence floor and recipe parameter comes from
  policies/gates.yaml through `pval` (validated, inlined as literals). Metric models compute
  values; `gate_rows` grades them into one row per policy gate (flags, reason, B+ margin); the
  generic test `gate_passes`, the validation bundle and certification only read those rows.
#}

{% macro gate_key(gate_id, path) -%}
gates.gates.{{ gate_id }}.{{ path }}
{%- endmacro %}

{# A text attribute of a gate (kind, tier, segment) as a bare Jinja string. #}
{% macro gate_text(gate_id, path) -%}
{{ pval(gate_key(gate_id, path)) | replace("'", "") | trim }}
{%- endmacro %}

{# A recipe parameter (gates.<id>.params.<name>), e.g. a tolerance or a window length. #}
{% macro gate_param(gate_id, name) -%}
{{ pval(gate_key(gate_id, 'params.' ~ name)) }}
{%- endmacro %}

{# The threshold of `grade` (b or bplus); `index` 0/1 picks the bound of a range gate. #}
{% macro gate_threshold(gate_id, grade, index=none) -%}
{{ pval(gate_key(gate_id, grade ~ ('' if index is none else '[' ~ index ~ ']'))) }}
{%- endmacro %}

{#
  SQL boolean: does `value` meet `grade`? `rule` is the gate id, or `<gate id>.components.<name>`
  for one component of a compound gate. NULL, NaN and infinities never pass (NaN compares above
  every number in DuckDB, so it would pass a min rule).
#}
{% macro gate_predicate(rule, grade, value) -%}
{%- set kind = gate_text(rule, 'kind') -%}
{%- set strict = pval(gate_key(rule, 'strict')) | float == 1.0 -%}
coalesce(isfinite({{ value }}) and
{%- if kind == 'max' -%}
  ({{ value }}) {{ '<' if strict else '<=' }} {{ gate_threshold(rule, grade) }}
{%- elif kind == 'min' -%}
  ({{ value }}) {{ '>' if strict else '>=' }} {{ gate_threshold(rule, grade) }}
{%- elif kind == 'equals' -%}
  ({{ value }}) = {{ gate_threshold(rule, grade) }}
{%- elif kind == 'range' -%}
  ({{ value }}) between {{ gate_threshold(rule, grade, 0) }} and {{ gate_threshold(rule, grade, 1) }}
{%- elif execute -%}
  {{ exceptions.raise_compiler_error("gate rule " ~ rule ~ " has no single-value kind (got '" ~ kind ~ "')") }}
{%- else -%}
  null
{%- endif -%}
, false)
{%- endmacro %}

{# The rule of `grade` as readable text, e.g. "<= 0.005" or "in [0.03, 0.08]". #}
{% macro gate_rule_text(rule, grade) -%}
{%- set kind = gate_text(rule, 'kind') -%}
{%- set strict = pval(gate_key(rule, 'strict')) | float == 1.0 -%}
{%- if kind == 'max' -%}{{ '<' if strict else '<=' }} {{ gate_threshold(rule, grade) }}
{%- elif kind == 'min' -%}{{ '>' if strict else '>=' }} {{ gate_threshold(rule, grade) }}
{%- elif kind == 'equals' -%}= {{ gate_threshold(rule, grade) }}
{%- elif kind == 'range' -%}in [{{ gate_threshold(rule, grade, 0) }}, {{ gate_threshold(rule, grade, 1) }}]
{%- else -%}{{ kind }}
{%- endif -%}
{%- endmacro %}

{# Component names of a compound (kind: all) gate, in policy order of their flattened keys. #}
{% macro gate_components(gate_id) -%}
{%- set names = [] -%}
{%- if execute -%}
  {%- set prefix = gate_key(gate_id, 'components.') -%}
  {%- set res = run_query("select key from " ~ ref('world_policy_params') ~ " where starts_with(key, '" ~ prefix
                          ~ "') and ends_with(key, '.kind') order by key") -%}
  {%- for row in res.rows -%}
    {%- do names.append(row[0][prefix | length:-5]) -%}
  {%- endfor -%}
{%- endif -%}
{{ return(names) }}
{%- endmacro %}

{#
  Distance of `value` inside the B+ rule of a single-value gate, relative to the threshold (the
  range width for a range), negative outside; null for equality and compound gates, which are
  met or not, and for a non-finite value.
#}
{% macro gate_margin(gate_id, value) -%}
{%- set kind = gate_text(gate_id, 'kind') -%}
{%- if kind in ('max', 'min') -%}
{%- set t = '(' ~ gate_threshold(gate_id, 'bplus') ~ ')::double' -%}
case when isfinite({{ value }}) then
    ({{ '(' ~ value ~ ') - ' ~ t if kind == 'min' else t ~ ' - (' ~ value ~ ')' }}) / greatest(abs({{ t }}), 1e-12)
end
{%- elif kind == 'range' -%}
{%- set lo = '(' ~ gate_threshold(gate_id, 'bplus', 0) ~ ')::double' -%}
{%- set hi = '(' ~ gate_threshold(gate_id, 'bplus', 1) ~ ')::double' -%}
case when isfinite({{ value }}) then
    least(({{ value }}) - {{ lo }}, {{ hi }} - ({{ value }})) / greatest({{ hi }} - {{ lo }}, 1e-12)
end
{%- else -%}
null::double
{%- endif -%}
{%- endmacro %}

{#
  Gate ids of `segment` in policies/gates.yaml, sorted, optionally only those of `tiers`;
  `exclude` leaves out gates a model grades apart (6B.T21 reads the other gates' grades).
#}
{% macro gate_ids(segment, exclude=[], tiers=none) -%}
{%- set ids = [] -%}
{#- outside `execute`, so that a test calling this depends on the parameters -#}
{%- set rel = ref('world_policy_params') -%}
{%- if execute -%}
  {%- set res = run_query("select s.gate_id, t.text_value from (select regexp_extract(key, '^gates[.]gates[.](.+)[.]segment$', 1)"
                          ~ " as gate_id, text_value from " ~ rel ~ " where regexp_matches(key, '^gates[.]gates[.][^.]+[.][^.]+[.]segment$'))"
                          ~ " as s join " ~ rel ~ " as t on t.key = 'gates.gates.' || s.gate_id || '.tier'"
                          ~ " where s.text_value = '" ~ segment ~ "' order by s.gate_id") -%}
  {%- for row in res.rows if row[0] not in exclude and (tiers is none or row[1] in tiers) -%}
    {%- do ids.append(row[0]) -%}
  {%- endfor -%}
  {%- if not ids -%}
    {{ exceptions.raise_compiler_error("no gate of segment '" ~ segment ~ "'" ~ (" with tier in " ~ tiers if tiers else "") ~ " in policies/gates.yaml") }}
  {%- endif -%}
{%- endif -%}
{{ return(ids) }}
{%- endmacro %}

{# Gates of `gates.pending` in policies/gates.yaml: their state is not built yet. #}
{% macro gate_pending_ids() -%}
{%- set ids = [] -%}
{%- if execute -%}
  {%- set res = run_query("select text_value from " ~ ref('world_policy_params') ~ " where starts_with(key, 'gates.pending[')") -%}
  {%- for row in res.rows -%}
    {%- do ids.append(row[0]) -%}
  {%- endfor -%}
{%- endif -%}
{{ return(ids) }}
{%- endmacro %}

{#
  Order-independent sum of a DOUBLE expression: each term is rounded to 1e-9 and summed as
  HUGEINT, so the result does not depend on thread count or row order (a float SUM does).
#}
{% macro exact_sum(expr) -%}
(sum(round(({{ expr }}) * 1e9)::hugeint)::double / 1e9)
{%- endmacro %}

{#
  Grade the rows of `metrics` (columns gate_id, value, evidence_n, underpowered, detail and,
  for compound gates, components MAP(VARCHAR, DOUBLE)) against the threshold table: one output
  row per gate id of `gate_ids`, with or without a metric row. A gate passes a grade only with
  enough evidence, a finite value and the rule met; `reason` says why it fails B. A pending
  gate ignores any metric row and never passes.
#}
{% macro gate_rows(metrics, gate_ids) -%}
{%- set pending_ids = gate_pending_ids() -%}
select
    gate_id, segment, tier, required, pending, value, evidence_n, min_evidence, insufficient,
    threshold_b, threshold_bplus,
    not insufficient and meets_b as pass_b,
    not insufficient and meets_bplus as pass_bplus,
    case
        when pending then 'pending: the state this gate reads is not built yet'
        when not has_metric then 'missing: no metric row'
        when evidence_n is null or evidence_n < min_evidence
            then format('insufficient evidence: {} < {}', coalesce(evidence_n::varchar, 'none'), min_evidence)
        when insufficient then 'insufficient evidence (power rule)'
        when not isfinite(value) then 'no value'
        when not meets_b then format('value {} does not meet B ({})', value, threshold_b)
    end as reason,
    margin,
    detail,
    components
from (
{%- for gid in gate_ids %}
{%- set pending = gid in pending_ids %}
    select
        e.gate_id,
        '{{ gate_text(gid, "segment") }}' as segment,
        '{{ gate_text(gid, "tier") }}' as tier,
        {{ pval(gate_key(gid, 'required')) }} = 1 as required,
        {{ 'true' if pending else 'false' }} as pending,
        m.gate_id is not null as has_metric,
        m.value::double as value,
        m.evidence_n::bigint as evidence_n,
        {{ pval(gate_key(gid, 'min_evidence')) }}::bigint as min_evidence,
        coalesce(m.underpowered, false) or m.value is null or coalesce(m.evidence_n, 0) < min_evidence as insufficient,
        {%- if gate_text(gid, 'kind') == 'all' %}
        {%- set comps = gate_components(gid) %}
        '{% for c in comps %}{{ c }} {{ gate_rule_text(gid ~ ".components." ~ c, "b") }}{{ "; " if not loop.last }}{% endfor %}' as threshold_b,
        '{% for c in comps %}{{ c }} {{ gate_rule_text(gid ~ ".components." ~ c, "bplus") }}{{ "; " if not loop.last }}{% endfor %}' as threshold_bplus,
        {% for grade in ['b', 'bplus'] -%}
        ({% for c in comps %}{{ gate_predicate(gid ~ ".components." ~ c, grade, "map_extract_value(m.components, '" ~ c ~ "')") }}{{ " and " if not loop.last }}{% endfor %}{{ "false" if not comps }}) as meets_{{ grade }},
        {% endfor -%}
        m.components,
        {%- else %}
        '{{ gate_rule_text(gid, "b") }}' as threshold_b,
        '{{ gate_rule_text(gid, "bplus") }}' as threshold_bplus,
        {{ gate_predicate(gid, 'b', 'm.value::double') }} as meets_b,
        {{ gate_predicate(gid, 'bplus', 'm.value::double') }} as meets_bplus,
        null::map(varchar, double) as components,
        {%- endif %}
        {{ gate_margin(gid, 'm.value::double') }} as margin,
        m.detail
    from (select '{{ gid }}' as gate_id) as e
    left join {{ metrics }} as m on m.gate_id = e.gate_id{{ ' and false' if pending }}
{%- if not loop.last %}
    union all
{%- endif %}
{%- endfor %}
)
{%- endmacro %}

{# The body of a gate metrics model after its `metrics` CTE: graded rows with the run seed. #}
{% macro gate_table(metrics, gate_ids) -%}
graded as (
    {{ gate_rows(metrics, gate_ids) }}
)

select
    {{ run_seed() }}::bigint as seed,
    *
from graded
order by gate_id
{%- endmacro %}


{#
  One row: the largest AUC of a table of per-column AUCs (auc, standard_error), its standard
  error and every column's AUC as text, best first.
#}
{% macro auc_ranking(relation, name_column) -%}
select
    max(auc) as max_auc,
    arg_max(standard_error, auc) as max_auc_se,
    string_agg(printf('%s %.4f', {{ name_column }}, auc), ', ' order by auc desc, {{ name_column }}) as ranking
from {{ relation }}
{%- endmacro %}


{#
  One row: the worst of the rows of `relation` with at least `min_n` evidence in column `n`: the
  largest `value` (worst), the `key` it belongs to (worst_key), how many rows qualified (n_rows)
  and their summed evidence (n_evidence).
#}
{% macro worst_row(relation, value, key, n, min_n) -%}
select
    max({{ value }}) as worst,
    arg_max({{ key }}, {{ value }}) as worst_key,
    count(*) as n_rows,
    sum({{ n }}) as n_evidence
from {{ relation }}
where {{ n }} >= {{ min_n }}
{%- endmacro %}
