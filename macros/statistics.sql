{#
  Scalar statistics for gate metrics, each a subquery over `relation`. Sums go through
  exact_sum (or are exact integer/half-integer sums), so values do not depend on threads.
#}

{# The contingency table of columns `a` and `b` as {v, chi2, dof}: Pearson's chi-square
   n (sum O^2/(R C) - 1) on (r - 1)(c - 1) degrees of freedom and Cramér's V
   sqrt(chi2 / n / (min(r, c) - 1)); v is null with one row or column class. #}
{% macro contingency(relation, a, b) -%}
(
    with cells as (
        select {{ a }} as ka, {{ b }} as kb, count(*)::double as o from {{ relation }} group by all
    ),
    ra as (select ka, sum(o) as r from cells group by ka),
    cb as (select kb, sum(o) as c from cells group by kb),
    s as (
        select greatest({{ exact_sum('o * o / (ra.r * cb.c)') }} - 1, 0) as phi2,
               (select sum(r) from ra) as n, (select count(*) from ra) as nr, (select count(*) from cb) as nc
        from cells join ra using (ka) join cb using (kb)
    )
    select {'v': sqrt(phi2 / nullif(least(nr, nc) - 1, 0)), 'chi2': n * phi2, 'dof': (nr - 1) * (nc - 1)} from s
)
{%- endmacro %}

{# Cramér's V of columns `a` and `b` (see contingency). #}
{% macro cramers_v(relation, a, b) -%}
({{ contingency(relation, a, b) }}).v
{%- endmacro %}

{# Cohen's d of `x` between rows where `flag` is true and false (pooled sample sd), absolute. #}
{% macro cohens_d(relation, x, flag) -%}
(
    with g as (
        select
            {{ flag }} as grp,
            count(*)::double as n,
            {{ exact_sum(x) }} / count(*) as m,
            ({{ exact_sum(x ~ ' * ' ~ x) }} - count(*) * pow({{ exact_sum(x) }} / count(*), 2)) / (count(*) - 1) as v
        from {{ relation }}
        group by grp
        having count(*) > 1
    ),
    p as (
        select
            max(m) filter (where grp) as m1, max(m) filter (where not grp) as m0,
            max(n) filter (where grp) as n1, max(n) filter (where not grp) as n0,
            max(v) filter (where grp) as v1, max(v) filter (where not grp) as v0
        from g
    )
    select abs(m1 - m0) / nullif(sqrt(((n1 - 1) * v1 + (n0 - 1) * v0) / (n1 + n0 - 2)), 0) from p
)
{%- endmacro %}

{#
  Jensen-Shannon divergence, in bits (0 same, 1 disjoint), per group of `relation` (columns grp,
  bin, p, q: two non-negative weights per bin): rows (grp, n_p = the sum of p, jsd) between the
  normalised p and q over the group's bins. Sums are exact, so the value does not depend on threads.
#}
{% macro jsd_by_group(relation) -%}
(
    with totals as (
        select grp, {{ exact_sum('p') }} as n_p, {{ exact_sum('q') }} as n_q from {{ relation }} group by grp
    ),
    shares as (
        select r.grp, r.p / t.n_p as p, r.q / t.n_q as q
        from {{ relation }} as r join totals as t using (grp)
        where t.n_p > 0 and t.n_q > 0
    )
    select s.grp, any_value(t.n_p) as n_p,
           {{ exact_sum("0.5 * (case when p > 0 then p * ln(2 * p / (p + q)) else 0 end"
                        ~ " + case when q > 0 then q * ln(2 * q / (p + q)) else 0 end)") }} / ln(2) as jsd
    from shares as s join totals as t using (grp)
    group by s.grp
)
{%- endmacro %}


{#
  One row over `relation` (one row per sampled cluster, e.g. a party, with counts x and y): the
  ratio k / n of the summed counts and its standard error under keyed sampling of the clusters
  at `share`: the linearised variance of a ratio estimator, (1 - share) m / (m - 1)
  sum (y - R x)^2 / (sum x)^2 over the m clusters (Cochran, Sampling Techniques, 3rd ed., 6.3),
  so clusters' own correlation counts. 0 when every cluster is in.
#}
{% macro cluster_ratio(relation, share) -%}
select
    sum(c.x) as n,
    sum(c.y) as k,
    any_value(r.ratio) as ratio,
    sqrt(greatest(1 - {{ share }}, 0) * count(*) / nullif(count(*) - 1, 0)
         * {{ exact_sum('(c.y - r.ratio * c.x) * (c.y - r.ratio * c.x)') }}) / nullif(sum(c.x), 0) as standard_error
from {{ relation }} as c
cross join (select sum(y)::double / nullif(sum(x), 0) as ratio from {{ relation }}) as r
{%- endmacro %}
