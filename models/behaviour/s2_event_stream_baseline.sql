{# One row per event of a baseline flow (see the flow_events macro). #}
{{ flow_events(ref('s2_flow_anchor_baseline')) }}
