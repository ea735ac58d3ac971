{# Every row satisfies `expression` (rows where it is false or null fail). #}
{% test expression_is_true(model, expression, where='true') %}
select * from {{ model }} where ({{ where }}) and not coalesce(({{ expression }}), false)
{% endtest %}
