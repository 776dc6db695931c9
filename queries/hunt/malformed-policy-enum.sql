-- Principal enumeration through trust policies: bursts of UpdateAssumeRolePolicy (or CreateRole)
-- failing with MalformedPolicyDocument. A trust policy naming a principal that does not exist is
-- refused as malformed, so an attacker learns which roles and users exist in another account
-- without a single call to it.
--
-- id: malformed-policy-enum
-- severity: high
-- source: Rhino Security Labs' cross-account principal enumeration; Pacu iam__enum_users / iam__enum_roles; Quiet Riot
-- false positives: an engineer iterating on a trust policy by hand fails a few times, not dozens in minutes.
-- next: Read the principals named in the error messages: an attacker's guesses; revoke the caller's credentials and delete any role it created for the purpose.
-- Parameters:
--   $window_minutes  60  length of the window, minutes
--   $min_attempts    5   malformed trust policies in that window
WITH p AS (
  SELECT CAST($window_minutes AS BIGINT) * 60 AS window_s,
         CAST($min_attempts AS BIGINT) AS min_attempts
),
attempts AS (
  SELECT e.principal, h.half, (e.event_s + h.half * p.window_s / 2) / p.window_s AS slot,
         e.event_id
  FROM hunt_events e CROSS JOIN p CROSS JOIN (VALUES (0), (1)) AS h(half)
  WHERE e.principal IS NOT NULL AND e.event_source = 'iam.amazonaws.com'
    AND e.event_name IN ('UpdateAssumeRolePolicy', 'CreateRole')
    AND e.error_code LIKE 'MalformedPolicyDocument%'
)
SELECT a.principal,
       array_agg(a.event_id) AS event_ids,
       concat(count(*), ' trust policies refused as malformed') AS detail
FROM attempts a CROSS JOIN p
GROUP BY a.principal, a.half, a.slot
HAVING count(*) >= max(p.min_attempts)
