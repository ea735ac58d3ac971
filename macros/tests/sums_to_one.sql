{# Weights of each group sum to 1 within `tolerance`. #}
{% test sums_to_one(model, column_name, group_by=none, tolerance=1e-9) %}
with totals as (
    select {% if group_by %}{{ group_by | join(', ') }},{% endif %} sum({{ column_name }}) as total
    from {{ model }}
    {% if group_by %}group by {{ group_by | join(', ') }}{% endif %}
)
select * from totals where abs(total - 1.0) > {{ tolerance }}
{% endtest %}
