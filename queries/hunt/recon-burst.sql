-- Reconnaissance burst: one principal is denied many distinct actions across services or regions
-- within minutes, as a caller holding a leaked key maps out what it may do.
--
-- id: recon-burst
-- severity: high
-- source: Panther AWS.IAMUser.ReconAccessDenied; Datadog "denied List/Describe/Get calls in many regions"; Elastic "discovery API calls burst"
-- false positives: an inventory or compliance scanner run under a role without read rights; a deployment role before its policy is attached. Both repeat on a schedule: confirm once, then suppress the principal.
-- next: Ask the owner of the principal whether it ran an inventory at that time; if not, treat its credentials as leaked.
-- Parameters:
--   $burst_minutes  10  length of a burst, in minutes
--   $min_actions    10  distinct actions denied within one burst
--   $min_spread     3   distinct services, or distinct regions, those denials span
WITH p AS (
  SELECT CAST($burst_minutes AS BIGINT) * 60 AS burst_s,
         CAST($min_actions AS BIGINT) AS min_actions,
         CAST($min_spread AS BIGINT) AS min_spread
),
-- Bursts are fixed slots, counted twice, the second time shifted by half a slot, so a burst
-- that straddles two slots is whole in one of them; overlapping findings are merged.
bursts AS (
  SELECT e.principal, h.half, (e.event_s + h.half * p.burst_s / 2) / p.burst_s AS slot,
         e.event_id, e.action, e.event_source, e.region
  FROM hunt_events e CROSS JOIN p CROSS JOIN (VALUES (0), (1)) AS h(half)
  WHERE e.denied AND e.principal IS NOT NULL
),
-- A burst holds at least min_actions denials: slots with fewer are dropped before the distinct
-- counts, which take memory for every group they count.
busy AS (
  SELECT principal, half, slot
  FROM bursts CROSS JOIN p
  GROUP BY principal, half, slot
  HAVING count(*) >= max(p.min_actions)
)
SELECT b.principal,
       array_agg(b.event_id) AS event_ids,
       concat(count(DISTINCT b.action), ' distinct actions denied over ',
              count(DISTINCT b.event_source), ' services and ', count(DISTINCT b.region),
              ' regions within ', max(p.burst_s) / 60, ' minutes') AS detail
FROM bursts b
JOIN busy ON busy.principal = b.principal AND busy.half = b.half AND busy.slot = b.slot
CROSS JOIN p
GROUP BY b.principal, b.half, b.slot
HAVING count(DISTINCT b.action) >= max(p.min_actions)
   AND (count(DISTINCT b.event_source) >= max(p.min_spread)
        OR count(DISTINCT b.region) >= max(p.min_spread))
