{# The model has between min_rows and max_rows rows: an empty or runaway table fails. #}
{% test row_count_between(model, min_rows=1, max_rows=none) %}
with c as (select count(*) as n from {{ model }})
select n from c where n < {{ min_rows }} {% if max_rows is not none %}or n > {{ max_rows }}{% endif %}
{% endtest %}
