-- A newcomer refused: a principal that first appears well into the window and whose first calls
-- are all denied, as when a stolen or newly created credential is tried out. A role's sessions
-- count as the role: a new session of a role in daily use is not new.
--
-- id: new-principal-denied
-- severity: medium
-- source: Panther AWS.IAMUser.ReconAccessDenied (its new-identity variant); the "first seen" baseline of Datadog's and Elastic's new-terms rules
-- false positives: a new employee or service whose permissions are still being set up; the principal's owner will know. Principals active from the window's start are never new, so a window that starts mid-day sees fewer of them.
-- next: Find who created the principal or its key (iam:CreateUser, iam:CreateAccessKey, sts:AssumeRole events before it) and whether that was planned.
-- Parameters:
--   $first_calls  3  the principal's first calls, all of which were denied
--   $quiet_hours  1  hours after the window's first event before a principal counts as new
WITH p AS (
  SELECT CAST($first_calls AS BIGINT) AS first_calls,
         CAST($quiet_hours AS BIGINT) * 3600 AS quiet_s
),
start AS (
  SELECT min(event_s) AS first_s FROM hunt_events
),
-- Principals (a role for its sessions) whose first event comes well after the window's first.
newcomers AS (
  SELECT f.who, f.first_s
  FROM (SELECT coalesce(issuer, principal) AS who, min(event_s) AS first_s
        FROM hunt_events WHERE principal IS NOT NULL GROUP BY 1) f
  CROSS JOIN start s CROSS JOIN p
  WHERE f.first_s >= s.first_s + p.quiet_s
),
ranked AS (
  SELECT n.who AS principal, n.first_s, e.event_id, e.denied,
         row_number() OVER (PARTITION BY n.who
                            ORDER BY e.event_s, e.event_id, e.event_name, e.error_code) AS n
  -- Newcomers first: the join builds its table from the first side, and a window's few
  -- newcomers make a far smaller one than its every event.
  FROM newcomers n
  JOIN hunt_events e ON coalesce(e.issuer, e.principal) = n.who
)
SELECT r.principal,
       array_agg(r.event_id) AS event_ids,
       concat('first seen ', (max(r.first_s) - max(s.first_s)) / 3600,
              ' hours after the window''s first event; its first ', count(*),
              ' calls were all denied') AS detail
FROM ranked r CROSS JOIN p CROSS JOIN start s
WHERE r.n <= p.first_calls
GROUP BY r.principal
HAVING count(*) = max(p.first_calls) AND bool_and(r.denied)
