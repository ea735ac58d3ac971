{#
  Keyed counter-based randomness in SQL: the bit-identical twin of python_kernels/core/rng.py.
  DuckDB integer maths is overflow-checked and `^` is power, so 64-bit wrapping products
  go through UHUGEINT and a mask, and xor() is spelled out. Never use random(), hash(),
  setseed or USING SAMPLE: they are not reproducible across threads or versions.
  Real parameters are cast to DOUBLE: an inlined literal such as 0.7 is DECIMAL in DuckDB,
  and exact DECIMAL products would differ from numba's float maths in the last bits.

  Each mixing step binds its argument once through a one-element lambda: macros expand
  textually, and a step that repeats its argument doubles the expression at every level
  (a nested rng_combine(rng_stream(...)) took ~15 s per 200k rows; bound, 0.05 s).
  Cost: ~8M streams/s on 2 cores; still, keep a stream as a column and draw from it.
#}
{% macro create_rng_macros() %}
create or replace macro fde_mul64(a, b) as ((a::UHUGEINT * b::UHUGEINT) & 18446744073709551615::UHUGEINT)::UBIGINT;
create or replace macro fde_add64(a, b) as ((a::UHUGEINT + b::UHUGEINT) & 18446744073709551615::UHUGEINT)::UBIGINT;
create or replace macro fde_sm1(z) as list_transform([z], lambda y: fde_mul64(xor(y, y >> 30), 13787848793156543929::UBIGINT))[1];
create or replace macro fde_sm2(z) as list_transform([z], lambda y: fde_mul64(xor(y, y >> 27), 10723151780598845931::UBIGINT))[1];
create or replace macro fde_sm3(z) as list_transform([z], lambda y: xor(y, y >> 31))[1];
create or replace macro splitmix64(x) as fde_sm3(fde_sm2(fde_sm1(fde_add64(x::UBIGINT, 11400714819323198485::UBIGINT))));
create or replace macro rng_stream(seed, domain, key) as splitmix64(xor(splitmix64(xor(seed::UBIGINT, domain::UBIGINT)), key::UBIGINT));
create or replace macro rng_combine(a, b) as splitmix64(xor(splitmix64(a::UBIGINT), b::UBIGINT));
create or replace macro rng_bits(stream, ctr) as splitmix64(fde_add64(stream::UBIGINT, ctr::UBIGINT));
create or replace macro rng_u01(stream, ctr) as ((rng_bits(stream, ctr) >> 11)::DOUBLE + 0.5) * 1.1102230246251565e-16;
create or replace macro rng_normal(stream, ctr) as sqrt(-2.0 * ln(rng_u01(stream, ctr))) * cos(2.0 * pi() * rng_u01(stream, fde_add64(ctr, 1)));
create or replace macro rng_lognormal_mean_one(stream, ctr, sigma) as exp(sigma::DOUBLE * rng_normal(stream, ctr) - 0.5 * sigma::DOUBLE * sigma::DOUBLE);
create or replace macro rng_exponential(stream, ctr, rate) as -ln(rng_u01(stream, ctr)) / rate;
{% endmacro %}

{# 64-bit tag of a stream name, rendered as a literal at compile time: md5 prefix, as rng.domain_id. #}
{% macro rng_domain(name) -%}
{{ (local_md5(name)[:16]) | int(base=16) }}::UBIGINT
{%- endmacro %}

{# The run seed as UBIGINT; every model's streams start from it. #}
{% macro run_seed() -%}
{{ var('seed') | int }}::UBIGINT
{%- endmacro %}

{# Stream of entity `key` in domain `name` for this run. #}
{% macro stream(name, key) -%}
rng_stream({{ run_seed() }}, {{ rng_domain(name) }}, {{ key }})
{%- endmacro %}

{#
  Inversion bounds of a categorical draw over `relation`: one row per row of it with `columns`
  and [cum_lo, cum_hi), the running share of `weight` in `key` order; a uniform u picks the row
  with cum_lo <= u < cum_hi. The last bound is exactly 1 so no u in (0, 1) falls through.
#}
{% macro weighted_bounds(relation, key, weight, columns) -%}
select
    {{ columns | join(', ') }},
    coalesce(lag(cum) over (order by {{ key }}), 0) / total as cum_lo,
    case when is_last then 1.0 else cum / total end as cum_hi
from (
    select
        {{ columns | join(', ') }},
        sum({{ weight }}) over (order by {{ key }} rows between unbounded preceding and current row) as cum,
        sum({{ weight }}) over () as total,
        {{ key }} = max({{ key }}) over () as is_last
    from {{ relation }}
)
{%- endmacro %}
