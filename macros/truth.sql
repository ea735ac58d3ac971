{#
  What the truth labels and the bank view are made of, for the models that need them without
  reading those views whole (each view would re-read the overlaid flows).
#}

{# One row per campaign type a truth rule names: how many rules match it, and the labels of the
   first in policies/truth.yaml order. #}
{% macro truth_rule_keys() %}
    select
        campaign_type,
        count(*) as rule_match_count,
        arg_min(rule_id, rule_order) as rule_id,
        arg_min(fraud_label, rule_order) as fraud_label,
        arg_min(truth_subtype, rule_order) as truth_subtype
    from {{ ref('int_s4_truth_rules') }}
    group by campaign_type
{% endmacro %}

{# The campaign type a flow's truth rules are matched on: NONE without a campaign. #}
{% macro truth_match_type(campaign_type) %}coalesce({{ campaign_type }}, 'NONE'){% endmacro %}

{# The matched rule's label, or an error naming the flow when it matched no rule or several, so a
   label never comes from an ambiguous or missing rule. `keys` is the truth_rule_keys() relation
   joined to the flow. #}
{% macro truth_fraud_label(model_name, keys, flow_id, match_type) -%}
    case when coalesce({{ keys }}.rule_match_count, 0) = 1 then {{ keys }}.fraud_label
         else error('{{ model_name }}: flow ' || {{ flow_id }} || ' (campaign type ' || {{ match_type }} || ') matches '
                    || coalesce({{ keys }}.rule_match_count, 0)
                    || ' truth rules of policies/truth.yaml; every flow must match exactly one')
    end
{%- endmacro %}

{# A flow's bank label: as written in s4_bank_actions (`acted`, left-joined) when the bank acted on
   it, otherwise no case was ever opened. #}
{% macro bank_label(acted) %}coalesce({{ acted }}.bank_label, 'NO_CASE_OPENED'){% endmacro %}

{% macro bank_fraud_flag(acted) %}coalesce({{ acted }}.is_fraud_bank_view, false){% endmacro %}
