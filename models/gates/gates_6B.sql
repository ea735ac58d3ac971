{#
  6B realism gates of the baseline behaviour (S1-S2), over the full data: distinct amounts over
  all flows (the reference recipe), tail ratio and price-point concentration per currency (the
  worst currency with material volume counts, so one currency's price grid cannot hide behind
  another's), auth latency from the event stream at microsecond
  precision, singleton sessions and attachment richness.
#}
{%- set gate_ids = ['6B.T11', '6B.T12', '6B.T13', '6B.T14', '6B.T15', '6B.T16', '6B.T19', '6B.T20'] -%}
{%- set min_flows = gate_param('6B.T11', 'min_currency_flows') -%}

with flows as (
    select flow_id, currency_code, amount from {{ ref('s2_flow_anchor_baseline') }}
),

-- the reference recipe: distinct amounts (major units) over every flow
distinct_amounts as (
    select count(*) as n_flows, count(distinct amount) as n_distinct from flows
),

entities as (
    select party_id, account_id, instrument_id, device_id, ip_id from {{ ref('s1_arrival_entities') }}
),

currencies as (
    select currency_code, count(*) as n
    from flows
    group by currency_code
    having count(*) >= {{ min_flows }}
),

amount_counts as (
    select f.currency_code, f.amount, count(*) as n
    from flows as f
    semi join currencies as c using (currency_code)
    group by all
),

top_amounts as (
    select currency_code, sum(n) filter (where amount_rank <= {{ gate_param('6B.T13', 'top_n') }}) as n_top
    from (
        select currency_code, n, row_number() over (partition by currency_code order by n desc, amount desc) as amount_rank
        from amount_counts
    )
    group by currency_code
),

per_currency as (
    select
        c.currency_code,
        c.n,
        (select count(*) from amount_counts as a where a.currency_code = c.currency_code) as n_distinct,
        q.p99 / q.p50 as tail_ratio,
        t.n_top / c.n as top_share
    from currencies as c
    join top_amounts as t using (currency_code)
    join (
        select currency_code, quantile_cont(amount, 0.99) as p99, quantile_cont(amount, 0.50) as p50
        from flows semi join currencies using (currency_code)
        group by currency_code
    ) as q using (currency_code)
),

amount_metrics as (
    select
        sum(n) as n_flows,
        count(*) as n_currencies,
        min(n_distinct) as min_distinct,
        arg_min(currency_code, n_distinct) as min_distinct_currency,
        min(tail_ratio) as min_tail_ratio,
        arg_min(currency_code, tail_ratio) as min_tail_currency,
        max(top_share) as max_top_share,
        arg_max(currency_code, top_share) as max_top_currency
    from per_currency
),

-- request -> response of flows without a step-up, exact to the microsecond
latencies as (
    select (epoch_us(max(ts_utc) filter (where event_type = 'AUTH_RESPONSE'))
            - epoch_us(max(ts_utc) filter (where event_type = 'AUTH_REQUEST'))) / 1e6 as latency_s
    from {{ ref('s2_event_stream_baseline') }}
    group by flow_id
    having count(*) filter (where event_type = 'STEP_UP_CHALLENGE') = 0
),

latency_metrics as (
    select
        count(*) as n,
        quantile_cont(latency_s, 0.50) as p50,
        quantile_cont(latency_s, 0.99) as p99,
        count(*) filter (where latency_s = 0) / count(*) as zero_share
    from latencies
),

session_metrics as (
    select count(*) as n, count(*) filter (where arrival_count = 1) / count(*) as singleton_share
    from {{ ref('s1_session_index') }}
),

richness as (
    select
        (select count(*) from entities) as n_arrivals,
        (select avg((n > 1)::int) from (select device_id, count(distinct party_id) as n from entities group by 1))
            as device_share,
        (select avg((n > 1)::int) from (select ip_id, count(distinct device_id) as n from entities group by 1))
            as ip_share,
        (select avg((n > 1)::int) from (select account_id, count(distinct instrument_id) as n from entities group by 1))
            as account_share
),

metrics as (
    select '6B.T11' as gate_id, d.n_distinct as value, d.n_flows as evidence_n, false as underpowered,
           format('{} over all flows; fewest in one currency: {} ({}, of {} currencies with >= {} flows)',
                  d.n_distinct, a.min_distinct, a.min_distinct_currency, a.n_currencies, {{ min_flows }}) as detail
    from distinct_amounts as d, amount_metrics as a
    union all
    select '6B.T12', min_tail_ratio, n_flows, false, format('lowest in {}', min_tail_currency)
    from amount_metrics
    union all
    select '6B.T13', max_top_share, n_flows, false, format('highest in {}', max_top_currency)
    from amount_metrics
    union all
    select '6B.T14', p50, n, false, format('{} flows without step-up', n)
    from latency_metrics
    union all
    select '6B.T15', p99, n, false, format('{} flows without step-up', n)
    from latency_metrics
    union all
    select '6B.T16', zero_share, n, false, format('{} flows without step-up', n)
    from latency_metrics
    union all
    select '6B.T19', singleton_share, n, false, format('{} sessions', n)
    from session_metrics
    union all
    select '6B.T20', (device_share + ip_share + account_share) / 3, n_arrivals, false,
           printf('devices with >1 party %.4f, IPs with >1 device %.4f, accounts with >1 instrument %.4f',
                  device_share, ip_share, account_share)
    from richness
),

{{ gate_table('metrics', gate_ids) }}
