-- How many access denials each principal got in a time window, with the span they cover and how
-- many distinct actions were denied: who needs attention first.
-- Parameters:
--   $from  start of the window, inclusive, ISO 8601 (2019-10-28T00:00:00Z)
--   $to    end of the window, exclusive, ISO 8601
SELECT coalesce(useridentity.arn, useridentity.invokedby) AS principal,
       count(*) AS denials,
       count(DISTINCT eventsource || ':' || eventname) AS actions,
       min(from_iso8601_timestamp(eventtime)) AS first_seen,
       max(from_iso8601_timestamp(eventtime)) AS last_seen
FROM cloudtrail
WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)
  AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)
  AND errorcode IS NOT NULL
  AND (lower(errorcode) LIKE '%accessdenied%' OR lower(errorcode) LIKE '%unauthorized%')
GROUP BY 1
ORDER BY denials DESC, principal
