-- Denials from a new place: a principal with an established routine is denied, mostly, from a
-- source IP address and user agent it never succeeded from in the window, as when its
-- credentials are used elsewhere.
--
-- id: novel-source
-- severity: medium
-- source: Datadog "new source for a principal with denials"; GuardDuty UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration (the same idea for instance roles)
-- false positives: a person travelling or on a new network who also lacks a permission; a new tool version (its user agent changes) is not enough on its own, the address must be new too. Widen the window for a longer baseline.
-- next: Find out whether the new address belongs to the principal's owner (VPN, office, CI provider); if not, its credentials are used by someone else: revoke its sessions or keys.
-- Parameters:
--   $min_baseline      20   successful calls the principal made in the window, for it to have a routine
--   $min_denials       3    denied calls from the new address and agent
--   $min_denied_share  0.5  share of the calls from there that were denied
WITH p AS (
  SELECT CAST($min_baseline AS BIGINT) AS min_baseline,
         CAST($min_denials AS BIGINT) AS min_denials,
         CAST($min_denied_share AS DOUBLE) AS min_share
),
routine AS (
  SELECT principal, count(*) AS calls
  FROM hunt_events
  WHERE error_code IS NULL AND principal IS NOT NULL
  GROUP BY principal
),
known_ips AS (
  SELECT DISTINCT principal, source_ip FROM hunt_events WHERE error_code IS NULL
),
known_agents AS (
  SELECT DISTINCT principal, user_agent FROM hunt_events WHERE error_code IS NULL
),
-- Only failed calls can be novel (a successful one makes its address and agent known), so only
-- they are joined against the baselines.
novel AS (
  SELECT e.principal, e.source_ip, e.user_agent, e.event_id, e.denied
  FROM hunt_events e
  JOIN routine r ON r.principal = e.principal
  LEFT JOIN known_ips ki ON ki.principal = e.principal AND ki.source_ip = e.source_ip
  LEFT JOIN known_agents ka ON ka.principal = e.principal AND ka.user_agent = e.user_agent
  CROSS JOIN p
  WHERE r.calls >= p.min_baseline
    AND ki.source_ip IS NULL AND ka.user_agent IS NULL
    AND e.error_code IS NOT NULL AND e.source_ip IS NOT NULL
    AND e.source_ip NOT LIKE '%amazonaws.com' AND e.source_ip <> 'AWS Internal'
)
SELECT n.principal,
       array_agg(n.event_id) FILTER (WHERE n.denied) AS event_ids,
       concat(sum(CASE WHEN n.denied THEN 1 ELSE 0 END), ' of ', count(*),
              ' calls from ', n.source_ip, ' (', n.user_agent,
              ') denied; the principal never succeeded from that address or agent') AS detail
FROM novel n CROSS JOIN p
GROUP BY n.principal, n.source_ip, n.user_agent
HAVING sum(CASE WHEN n.denied THEN 1 ELSE 0 END) >= max(p.min_denials)
   AND sum(CASE WHEN n.denied THEN 1.0 ELSE 0.0 END) / count(*) >= max(p.min_share)
