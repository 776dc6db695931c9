-- Offensive tooling: calls, some of them denied, made with the user agent of an attack tool or
-- an attack distribution (Kali, Parrot, Pentoo, Pacu, TruffleHog, ScoutSuite, CloudFox,
-- enumerate-iam, WeirdAAL, Stratus Red Team).
--
-- id: offensive-tooling
-- severity: high
-- source: Panther AWS.CloudTrail.UserAgent (Kali/Parrot/Pentoo), GuardDuty PenTest:IAMUser/KaliLinux, ParrotLinux, PentooLinux
-- false positives: a sanctioned penetration test or audit (ScoutSuite and CloudFox are used by defenders too); confirm with the security team and suppress the principal for the test's dates. A user agent is set by the caller: its absence proves nothing.
-- next: Ask whether a test was scheduled; if not, the credentials are in an attacker's hands: deactivate them and review what the same principal did successfully.
-- Parameters:
--   $min_denials  1  denied calls made with such a user agent
SELECT principal,
       array_agg(event_id) AS event_ids,
       concat('calls: ', count(*), ', denied: ', sum(CASE WHEN denied THEN 1 ELSE 0 END),
              ', with the user agent of an attack tool: ', max(user_agent)) AS detail
FROM hunt_events
WHERE principal IS NOT NULL
  -- Lowered, then matched case-sensitively: a third of the cost of a (?i) pattern over every call.
  AND regexp_like(lower(user_agent),
        'kali|parrot|pentoo|pacu|trufflehog|scoutsuite|cloudfox|enumerate-iam|weirdaal|stratus-red-team')
-- One finding per principal and day, whatever the tool's version string.
GROUP BY principal, event_s / 86400
HAVING sum(CASE WHEN denied THEN 1 ELSE 0 END) >= CAST($min_denials AS BIGINT)
