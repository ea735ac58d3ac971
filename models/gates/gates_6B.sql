{#
  6B realism gates over the full data, but for the ranking gates T23, R4 and R5, which read a
  keyed sample of flows or ids (int_gates_6B_sample), and the mobility gates R1-R3, a keyed
  sample of the parties; each states its standard error. Truth and bank view (T1-T7): prevalence, rule
  coverage, how the bank's view depends on merchant class and amount (amounts in US dollars,
  so currencies are comparable). Cases (T8-T10): gaps between consecutive case events at
  microsecond precision, spikes by whole seconds. Baseline amounts (T11-T13): distinct amounts
  over all flows (the reference recipe), tail ratio and price-point concentration per currency
  (the worst currency with material volume). Auth latency (T14-T16) from the event stream at
  microsecond precision. Campaigns (T17, T18): depth and targeting by class and time zone.
  Sessions and attachment (T19, T20). T21 counts the policy branches passing B; T22 the rule
  guard; T23 the best single non-label column's AUC for truth (int_gates_6B_auc); R6 each amount
  law's median against its policy and R8 its whole shape (int_gates_6B_amount_laws); R7 each
  bank-view delay against its law (int_gates_6B_delay_laws); R9 each sector's channel mix against
  the policy's (int_gates_6B_channel_mix); R1-R3 where legit customers are
  (int_gates_6B_mobility: geo-velocity, travel abroad, e-commerce from abroad); R4 a transparent
  scorer on auth_features (int_gates_6B_separability), R5 what id values say
  (int_gates_6B_id_leakage). The flow-level
  gates read int_gates_6B_flows, the four-way join of every flow stored once. The heavy
  aggregates over every flow or event are models of their own (int_gates_6B_amount_counts,
  _latency, _attachment, _auc): run together as branches of this one query they outgrew
  memory and spill disk at `large`. What is left here scans narrow columns or reads
  those small tables.
#}
{%- set min_flows = gate_param('6B.T11', 'min_currency_flows') -%}

with labelled as (
    select * from {{ ref('int_gates_6B_flows') }}
),

truth_metrics as (
    select
        count(*) as n,
        avg((not is_fraud_truth or fraud_label = 'LEGIT')::int) as legit_share,
        avg(is_fraud_truth::int) as truth_mean,
        count(*) filter (where campaign_id is null and fraud_label <> 'ABUSE') as n_no_campaign,
        avg((fraud_label = 'LEGIT' or not is_fraud_truth)::int) filter (where campaign_id is null and fraud_label <> 'ABUSE')
            as no_campaign_legit,
        count(*) filter (where campaign_id is not null) as n_campaign,
        avg((fraud_label <> 'LEGIT')::int) filter (where campaign_id is not null) as campaign_not_legit
    from labelled
),

class_bank as (
    select demand_class, avg(is_fraud_bank_view::int) as bank_rate from labelled group by demand_class
),

-- T5: bank label against demand class, Pearson's chi-square and Cramér's V
class_label_table as (
    select x.c.v as v, x.c.chi2 as chi2, x.c.dof as dof
    from (select {{ contingency('labelled', 'demand_class', 'bank_label') }} as c) as x
),

-- policy audit for T22: campaign types claimed by more than one truth rule
rule_collisions as (
    select count(*) as n
    from (select campaign_type from {{ ref('int_s4_truth_rules') }} group by 1 having count(*) > 1)
),

case_gaps as (
    select
        case_id,
        epoch_us(ts_utc) - lag(epoch_us(ts_utc)) over (partition by case_id order by case_event_seq) as gap_us
    from {{ ref('s4_case_timeline') }}
),

case_metrics as (
    select
        count(gap_us) as n_gaps,
        count(*) filter (where gap_us < 0) as negative_gaps,
        count(*) filter (where floor(gap_us / 1e6) in ({{ pval_list(gate_key('6B.T9', 'params.spike_seconds')) }}))
            / nullif(count(gap_us), 0) as spike_share,
        count(distinct case_id) filter (where gap_us is not null) as cases_with_gaps,
        count(distinct case_id) filter (where gap_us < 0) as non_monotone_cases
    from case_gaps
),

campaign_flows as (
    select l.campaign_id, l.merchant_id, l.demand_class, a.tzid_primary
    from labelled as l
    join {{ ref('s4_arrival_events') }} as a using (arrival_id)
    where l.campaign_id is not null
),

campaign_metrics as (
    select
        (select count(*) from campaign_flows) as n,
        (select count(distinct campaign_id) from campaign_flows) as n_campaigns,
        {{ cramers_v('campaign_flows', 'campaign_id', 'demand_class') }} as class_v,
        {{ cramers_v('campaign_flows', 'campaign_id', "coalesce(tzid_primary, '__UNK__')") }} as tz_v,
        (select quantile_cont(n_tz, 0.5) from (select campaign_id, count(distinct tzid_primary) as n_tz
                                               from campaign_flows group by 1)) as median_tz,
        (select quantile_cont(n_m, 0.5) from (select campaign_id, count(distinct merchant_id) as n_m
                                              from campaign_flows group by 1)) as median_merchants
),

auc_metrics as (
    {{ auc_ranking(ref('int_gates_6B_auc'), 'feature') }}
),

-- the keyed sample the ranking gates (T23, R4, R5) read
ranking_sample as (
    select count(*) as n, coalesce(any_value(sample_share), 1.0) as share from {{ ref('int_gates_6B_sample') }}
),

-- the reference recipe: distinct amounts (major units) over every flow
amount_counts as (
    select currency_code, amount, n_flows as n from {{ ref('int_gates_6B_amount_counts') }}
),

distinct_amounts as (
    select sum(n) as n_flows, count(distinct amount) as n_distinct from amount_counts
),

-- each amount's flow positions in its currency's sorted amounts (below .. below + n - 1)
amount_positions as (
    select
        currency_code, amount, n,
        sum(n) over (partition by currency_code order by amount rows between unbounded preceding and current row) - n
            as below,
        row_number() over (partition by currency_code order by n desc, amount desc) as count_rank
    from amount_counts
),

currencies as (
    select
        currency_code,
        sum(n) as n,
        count(*) as n_distinct,
        sum(n) filter (where count_rank <= {{ gate_param('6B.T13', 'top_n') }}) as n_top
    from amount_positions
    group by currency_code
    having sum(n) >= {{ min_flows }}
),

-- quantile_cont from the counts: the amounts at the positions either side of (n - 1) q, interpolated
quantiles as (
    select q.currency_code, q.p, lo.amount + (hi.amount - lo.amount) * (q.h - floor(q.h)) as amount
    from (
        select currency_code, p, (n - 1) * p as h
        from currencies, (values (0.5::double), (0.99::double)) as probabilities(p)
    ) as q
    join amount_positions as lo
        on lo.currency_code = q.currency_code and floor(q.h) >= lo.below and floor(q.h) < lo.below + lo.n
    join amount_positions as hi
        on hi.currency_code = q.currency_code and ceil(q.h) >= hi.below and ceil(q.h) < hi.below + hi.n
),

per_currency as (
    select
        c.currency_code,
        c.n,
        c.n_distinct,
        max(q.amount) filter (where q.p = 0.99) / max(q.amount) filter (where q.p = 0.5) as tail_ratio,
        c.n_top / c.n as top_share
    from currencies as c
    join quantiles as q using (currency_code)
    group by all
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

-- R6: each amount law's realised median against its policy median (laws with enough flows)
law_metrics as (
    select
        sum(n_flows) as n_flows,
        count(*) as n_laws,
        max(abs(median_usd / policy_median_usd - 1)) as max_dev,
        arg_max(law, abs(median_usd / policy_median_usd - 1)) as worst_law,
        arg_max(printf('%.2f vs %.2f', median_usd, policy_median_usd), abs(median_usd / policy_median_usd - 1))
            as worst_medians,
        (select count(*) from {{ ref('int_gates_6B_amount_laws') }}) as n_policy_laws
    from {{ ref('int_gates_6B_amount_laws') }}
    where n_flows >= {{ gate_param('6B.R6', 'min_law_flows') }}
),

-- R8: each amount law's realised amounts against the law itself (Jensen-Shannon, bins of ln USD)
law_shape_metrics as (
    {{ worst_row(ref('int_gates_6B_amount_laws'), 'jsd', 'law', 'n_flows', gate_param('6B.R8', 'min_law_flows')) }}
),

-- R7: each bank-view delay against its policy law (Kolmogorov-Smirnov)
delay_metrics as (
    select
        w.*,
        (select string_agg(printf('%s %.4f (%d)', delay, ks, n_delays), ', ' order by delay)
         from {{ ref('int_gates_6B_delay_laws') }}) as by_delay
    from ({{ worst_row(ref('int_gates_6B_delay_laws'), 'ks', 'delay', 'n_delays', gate_param('6B.R7', 'min_delays')) }}) as w
),

-- R9: each sector's channel mix against the mix the policy implies (Jensen-Shannon)
channel_mix_metrics as (
    {{ worst_row(ref('int_gates_6B_channel_mix'), 'jsd', 'mcc_sector', 'n_arrivals', gate_param('6B.R9', 'min_sector_arrivals')) }}
),

separability as (
    select * from {{ ref('int_gates_6B_separability') }}
),

id_leakage as (
    {{ auc_ranking(ref('int_gates_6B_id_leakage'), 'id_column') }}
),

mobility as (
    select * from {{ ref('int_gates_6B_mobility') }}
),

latency_metrics as (
    select n_flows as n, p50, p99, zero_share from {{ ref('int_gates_6B_latency') }}
),

session_metrics as (
    select count(*) as n, count(*) filter (where arrival_count = 1) / count(*) as singleton_share
    from {{ ref('s1_session_index') }}
),

richness as (
    select
        (select count(*) from {{ ref('s1_arrival_entities') }}) as n_arrivals,
        max(n_shared / n_owners) filter (where kind = 'device') as device_share,
        max(n_shared / n_owners) filter (where kind = 'ip') as ip_share,
        max(n_shared / n_owners) filter (where kind = 'account') as account_share
    from {{ ref('int_gates_6B_attachment') }}
),

metrics as (
    select '6B.T1' as gate_id, legit_share as value, n as evidence_n, false as underpowered,
           format('{} flows', n) as detail, null::map(varchar, double) as components
    from truth_metrics
    union all
    select '6B.T2', truth_mean, n, false, format('{} flows', n), null from truth_metrics
    union all
    select '6B.T3', no_campaign_legit, n_no_campaign, false, format('{} flows without a campaign', n_no_campaign), null
    from truth_metrics
    union all
    select '6B.T4', campaign_not_legit, n_campaign, false, format('{} campaign flows', n_campaign), null
    from truth_metrics
    union all
    select '6B.T5', t5.v, n, false,
           format('{} flows, {} classes; chi-square {} on {} degrees of freedom', n, (select count(*) from class_bank),
                  round(t5.chi2, 1), t5.dof), null
    from truth_metrics, class_label_table as t5
    union all
    select '6B.T6', {{ cohens_d('labelled', 'amount_usd', 'is_fraud_bank_view') }}, n, false,
           format('{} bank-view fraud flows, amounts in USD', (select count(*) filter (where is_fraud_bank_view) from labelled)),
           null
    from truth_metrics
    union all
    select '6B.T7', max(bank_rate) - min(bank_rate), (select n from truth_metrics), false,
           printf('highest %s %.4f, lowest %s %.4f', arg_max(demand_class, bank_rate), max(bank_rate),
                  arg_min(demand_class, bank_rate), min(bank_rate)), null
    from class_bank
    union all
    select '6B.T8', negative_gaps, n_gaps, false, format('{} gaps in {} cases', n_gaps, cases_with_gaps), null
    from case_metrics
    union all
    select '6B.T9', spike_share, n_gaps, false, format('{} gaps', n_gaps), null from case_metrics
    union all
    select '6B.T10', non_monotone_cases, cases_with_gaps, false, format('{} cases with gaps', cases_with_gaps), null
    from case_metrics
    union all
    select '6B.T11', d.n_distinct, d.n_flows, false,
           format('{} over all flows; fewest in one currency: {} ({}, of {} currencies with >= {} flows)',
                  d.n_distinct, a.min_distinct, a.min_distinct_currency, a.n_currencies, {{ min_flows }}), null
    from distinct_amounts as d, amount_metrics as a
    union all
    select '6B.T12', min_tail_ratio, n_flows, false, format('lowest in {}', min_tail_currency), null
    from amount_metrics
    union all
    select '6B.T13', max_top_share, n_flows, false, format('highest in {}', max_top_currency), null
    from amount_metrics
    union all
    select '6B.T14', p50, n, false, format('{} flows without step-up', n), null
    from latency_metrics
    union all
    select '6B.T15', p99, n, false, format('{} flows without step-up', n), null
    from latency_metrics
    union all
    select '6B.T16', zero_share, n, false, format('{} flows without step-up', n), null
    from latency_metrics
    union all
    select '6B.T19', singleton_share, n, false, format('{} sessions', n), null
    from session_metrics
    union all
    select '6B.T20', (device_share + ip_share + account_share) / 3, n_arrivals, false,
           printf('devices with >1 party %.4f, IPs with >1 device %.4f, accounts with >1 instrument %.4f',
                  device_share, ip_share, account_share), null
    from richness
    union all
    select '6B.T17', class_v, n, false,
           format('{} campaigns; median merchants per campaign {}', n_campaigns, median_merchants),
           map(['campaign_count', 'class_v'], [n_campaigns::double, class_v])
    from campaign_metrics
    union all
    select '6B.T18', tz_v, n, false, format('{} campaign flows joined to their arrivals', n),
           map(['tz_corridor_v', 'median_tz_per_campaign'], [tz_v, median_tz])
    from campaign_metrics
    union all
    -- no flow matches zero or several rules: s4_flow_truth_labels stops the build on one
    select '6B.T22', (select n from rule_collisions), n, false,
           format('0 flows matching zero or several rules; {} campaign types claimed by several rules',
                  (select n from rule_collisions)), null
    from truth_metrics
    union all
    select '6B.R1', n_impossible / nullif(n_pairs, 0), n_pairs, false,
           printf('%d of %d consecutive legit card-present pairs; median %.1f km apart; keyed sample of the parties (share %.4f), standard error %.2g',
                  n_impossible, n_pairs, median_km, party_share, r1_standard_error), null
    from mobility
    union all
    select '6B.R2', n_abroad_parties / nullif(n_in_person_parties, 0), n_in_person_parties, false,
           printf('%d of %d parties paying in person did so abroad; keyed sample of the parties (share %.4f), standard error %.2g',
                  n_abroad_parties, n_in_person_parties, party_share, r2_standard_error), null
    from mobility
    union all
    select '6B.R3', n_ecom_foreign_ip / nullif(n_ecom, 0), n_ecom, false,
           printf('%d of %d legit ECOM flows from a foreign IP; keyed sample of the parties (share %.4f), standard error %.2g',
                  n_ecom_foreign_ip, n_ecom, party_share, r3_standard_error), null
    from mobility
    union all
    select '6B.R4', auc, fraud_test, false,
           printf('%d features; fitted on %d flows, scored on %d (%d FRAUD) of a keyed sample (share %.4f); standard error %.4f',
                  n_features, n_train, n_test, fraud_test, s.share, standard_error),
           null
    from separability, ranking_sample as s
    union all
    select '6B.R5', max_auc, s.n, false,
           printf('AUC by id column: %s; keyed sample of at most about %d of each column''s ids, standard error %.4f',
                  ranking, {{ pval('gates.sampling.max_units') }}::bigint, max_auc_se), null
    from id_leakage, ranking_sample as s
    union all
    select '6B.R6', max_dev, n_flows, false,
           format('worst {} (median USD {}); {} of {} laws with >= {} flows', worst_law, worst_medians, n_laws,
                  n_policy_laws, {{ gate_param('6B.R6', 'min_law_flows') }}::int), null
    from law_metrics
    union all
    select '6B.R7', worst, n_evidence, false,
           format('worst {}; {} delays with >= {}: {}', worst_key, n_rows,
                  {{ gate_param('6B.R7', 'min_delays') }}::int, by_delay), null
    from delay_metrics
    union all
    select '6B.R8', worst, n_evidence, false,
           format('worst {}; {} laws with >= {} first attempts', worst_key, n_rows,
                  {{ gate_param('6B.R8', 'min_law_flows') }}::int), null
    from law_shape_metrics
    union all
    select '6B.R9', worst, n_evidence, false,
           format('worst {}; {} sectors with >= {} arrivals', worst_key, n_rows,
                  {{ gate_param('6B.R9', 'min_sector_arrivals') }}::int), null
    from channel_mix_metrics
    union all
    select '6B.T23', max_auc, s.n, false,
           printf('AUC by column: %s; keyed sample of %d flows (share %.4f), standard error %.4f', ranking, s.n,
                  s.share, max_auc_se), null
    from auc_metrics, ranking_sample as s
),

-- T21: policy branches whose three gates pass B (amount tail T11-13, timing T14-16, delays T8-10)
graded_main as (
    {{ gate_rows('metrics', gate_ids('6B', exclude=['6B.T21'])) }}
),

-- the evidence: branch gates with a metric row (every gate has a graded row, a failing one if missing)
branch_metrics as (
    select count(*) as n_rows
    from metrics
    where gate_id in ('6B.T8', '6B.T9', '6B.T10', '6B.T11', '6B.T12', '6B.T13', '6B.T14', '6B.T15', '6B.T16')
),

coverage as (
    select
        '6B.T21' as gate_id,
        amount_tail::int + timing::int + delays::int as value,
        (select n_rows from branch_metrics) / 3 as evidence_n,
        false as underpowered,
        format('amount tail (T11-T13) {}, timing (T14-T16) {}, delays (T8-T10) {}',
               case when amount_tail then 'B' else 'fails' end, case when timing then 'B' else 'fails' end,
               case when delays then 'B' else 'fails' end) as detail,
        null::map(varchar, double) as components
    from (
        select
            coalesce(bool_and(pass_b) filter (where gate_id in ('6B.T11', '6B.T12', '6B.T13')), false) as amount_tail,
            coalesce(bool_and(pass_b) filter (where gate_id in ('6B.T14', '6B.T15', '6B.T16')), false) as timing,
            coalesce(bool_and(pass_b) filter (where gate_id in ('6B.T8', '6B.T9', '6B.T10')), false) as delays
        from graded_main
    )
),

graded as (
    select * from graded_main
    union all
    {{ gate_rows('coverage', ['6B.T21']) }}
)

select {{ run_seed() }}::bigint as seed, * from graded
