-- Denied iam:PassRole bursts: one principal repeatedly denied passing roles to a service
-- (Lambda, EC2, Glue, ...), as an attacker looks for a role to escalate through.
--
-- id: passrole-burst
-- severity: medium
-- source: Rhino Security Labs' IAM privilege escalation methods (PassRole with CreateFunction, RunInstances, CreateJob); Pacu iam__privesc_scan
-- false positives: a deployment that names the wrong role fails the same way each run, on one role; a search across roles does not.
-- next: Check the roles it tried to pass: a search for a privileged one is an escalation attempt; revoke the caller's credentials and review who may pass those roles.
-- Parameters:
--   $window_minutes  60  length of the window, minutes
--   $min_denials     5   denied PassRole calls in that window
--   $min_roles       2   distinct roles among them
WITH p AS (
  SELECT CAST($window_minutes AS BIGINT) * 60 AS window_s,
         CAST($min_denials AS BIGINT) AS min_denials,
         CAST($min_roles AS BIGINT) AS min_roles
),
passes AS (
  SELECT e.principal, h.half, (e.event_s + h.half * p.window_s / 2) / p.window_s AS slot,
         e.event_id, denial_resource(e.error_message) AS role
  FROM hunt_events e CROSS JOIN p CROSS JOIN (VALUES (0), (1)) AS h(half)
  WHERE e.denied AND e.principal IS NOT NULL
    -- The cheap test first: the message is parsed only when it names the action.
    AND e.error_message ILIKE '%passrole%'
    AND lower(denial_action(e.error_message)) = 'iam:passrole'
)
SELECT s.principal,
       array_agg(s.event_id) AS event_ids,
       concat(count(*), ' denied attempts to pass ', count(DISTINCT s.role), ' roles') AS detail
FROM passes s CROSS JOIN p
GROUP BY s.principal, s.half, s.slot
HAVING count(*) >= max(p.min_denials) AND count(DISTINCT s.role) >= max(p.min_roles)
