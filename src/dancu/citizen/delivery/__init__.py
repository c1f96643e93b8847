"""Delivery of the SMS outbox (``citizen_sms_outbox``): texts queued in their sender's transaction leave
through a channel's worker — SMPP (:mod:`.smpp`, inside the ESME of ``dancu citizen smpp``) or an
aggregator's HTTP API (:mod:`.http`, ``dancu citizen deliver``) — with retries, backoff, leases and the
text blanked once sent.  The rules are in :mod:`.service`."""
