{# The share of rows (or of `weight`) satisfying `condition` lies in [min_share, max_share]; no rows fails. #}
{% test share_between(model, condition, min_share=0, max_share=1, weight='1.0') %}
with s as (
    select sum(case when {{ condition }} then {{ weight }} else 0 end) / nullif(sum({{ weight }}), 0) as share
    from {{ model }}
)
select share from s where share is null or share < {{ min_share }} or share > {{ max_share }}
{% endtest %}
