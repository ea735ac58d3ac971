-- Event labels hold exactly the S3 events: one full join finds both an unlabelled event and a
-- label without its event.
select coalesce(e.flow_id, l.flow_id) as flow_id, coalesce(e.event_seq, l.event_seq) as event_seq,
       case when l.flow_id is null then 'S3 event without an event label'
            else 'event label without an S3 event' end as problem
from (select flow_id, event_seq from {{ ref('s3_event_stream_with_fraud') }}) as e
full join (select flow_id, event_seq from {{ ref('s4_event_labels') }}) as l using (flow_id, event_seq)
where e.flow_id is null or l.flow_id is null
