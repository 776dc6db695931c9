-- Role-assumption spray: one principal is denied sts:AssumeRole on many roles, or on roles of
-- several other accounts, as an attacker tries every role name it has guessed or found. Roles it
-- assumed in the end are left out: a tool retrying a new role until IAM has propagated its trust
-- policy is not spraying.
--
-- id: assume-role-spray
-- severity: high
-- source: Pacu sts__enum_roles / iam__enum_roles; Stratus Red Team aws.discovery techniques; Elastic "STS AssumeRole failures"
-- false positives: a CI job whose role list drifted from the roles that trust it; a cross-account tool after a trust policy change. Both retry the same few roles, so a high --threshold min_roles quiets them.
-- next: List the roles it tried (events below): a role it should never know of means a leaked credential; rotate it and review which trust policies name outside accounts.
-- Parameters:
--   $window_minutes         60  length of the window the tries are counted in, minutes
--   $min_roles              5   distinct roles denied in that window
--   $min_foreign_accounts   2   or: distinct other accounts whose roles were denied
WITH p AS (
  SELECT CAST($window_minutes AS BIGINT) * 60 AS window_s,
         CAST($min_roles AS BIGINT) AS min_roles,
         CAST($min_foreign_accounts AS BIGINT) AS min_foreign
),
assumed AS (
  SELECT DISTINCT principal, role_arn
  FROM hunt_events
  WHERE error_code IS NULL AND event_source = 'sts.amazonaws.com' AND role_arn IS NOT NULL
),
tries AS (
  SELECT e.principal, h.half, (e.event_s + h.half * p.window_s / 2) / p.window_s AS slot,
         e.event_id, e.account,
         coalesce(e.role_arn, denial_resource(e.error_message)) AS role
  FROM hunt_events e CROSS JOIN p CROSS JOIN (VALUES (0), (1)) AS h(half)
  WHERE e.denied AND e.principal IS NOT NULL
    AND e.event_source = 'sts.amazonaws.com' AND e.event_name LIKE 'AssumeRole%'
),
unassumed AS (
  SELECT t.*
  FROM tries t
  LEFT JOIN assumed a ON a.principal = t.principal AND a.role_arn = t.role
  WHERE a.role_arn IS NULL
)
SELECT t.principal,
       array_agg(t.event_id) AS event_ids,
       concat('roles denied and never assumed: ', count(DISTINCT t.role),
              '; of other accounts: ',
              count(DISTINCT CASE WHEN split_part(t.role, ':', 5) <> t.account
                                  THEN split_part(t.role, ':', 5) END)) AS detail
FROM unassumed t CROSS JOIN p
GROUP BY t.principal, t.half, t.slot
HAVING count(DISTINCT t.role) >= max(p.min_roles)
    OR count(DISTINCT CASE WHEN split_part(t.role, ':', 5) <> t.account
                           THEN split_part(t.role, ':', 5) END) >= max(p.min_foreign)
