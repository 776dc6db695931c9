-- Key validation, then probing: an access key calls sts:GetCallerIdentity (the first call of
-- every leaked-key checker: TruffleHog, Pacu, enumerate-iam) and most of what it calls next is
-- denied.
--
-- id: key-validation-probing
-- severity: high
-- source: the first step of TruffleHog's and Pacu's key checks; Panther AWS.IAMUser.ReconAccessDenied
-- false positives: a script that checks its identity, then runs with a policy that is too narrow; it fails the same way on every run, so it is easy to confirm and suppress.
-- next: Check where the key was used from (source IP, user agent) and whether its owner expects it; if not, deactivate the key now and look for it in code, CI logs and public repositories.
-- Parameters:
--   $follow_minutes    15   how long after GetCallerIdentity its calls are counted
--   $min_denials       5    denied calls in that time
--   $min_denied_share  0.5  share of that time's calls that were denied
WITH p AS (
  SELECT CAST($follow_minutes AS BIGINT) * 60 AS follow_s,
         CAST($min_denials AS BIGINT) AS min_denials,
         CAST($min_denied_share AS DOUBLE) AS min_share
),
checks AS (
  SELECT access_key, event_s AS checked_s, event_id AS check_id
  FROM hunt_events
  WHERE event_source = 'sts.amazonaws.com' AND event_name = 'GetCallerIdentity'
    AND error_code IS NULL AND access_key IS NOT NULL
),
after AS (
  SELECT e.principal, c.access_key, c.check_id, e.event_id, e.denied
  FROM checks c
  JOIN hunt_events e ON e.access_key = c.access_key
  CROSS JOIN p
  WHERE e.event_s >= c.checked_s AND e.event_s <= c.checked_s + p.follow_s
    AND e.event_id <> c.check_id AND e.principal IS NOT NULL
)
SELECT a.principal,
       array_prepend(a.check_id, array_agg(a.event_id) FILTER (WHERE a.denied)) AS event_ids,
       concat('key ', a.access_key, ' checked its identity, then ',
              sum(CASE WHEN a.denied THEN 1 ELSE 0 END), ' of its next ', count(*),
              ' calls were denied') AS detail
FROM after a CROSS JOIN p
GROUP BY a.principal, a.access_key, a.check_id
HAVING sum(CASE WHEN a.denied THEN 1 ELSE 0 END) >= max(p.min_denials)
   AND sum(CASE WHEN a.denied THEN 1.0 ELSE 0.0 END) / count(*) >= max(p.min_share)
