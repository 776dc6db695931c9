-- The actions denied most often in a time window, with the error codes seen and how many
-- principals hit each: where a policy is most likely missing.
-- Parameters:
--   $from  start of the window, inclusive, ISO 8601 (2019-10-28T00:00:00Z)
--   $to    end of the window, exclusive, ISO 8601
SELECT split_part(eventsource, '.', 1) || ':' || eventname AS action,
       errorcode AS error,
       count(*) AS denials,
       count(DISTINCT coalesce(useridentity.arn, useridentity.invokedby)) AS principals
FROM cloudtrail
WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)
  AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)
  AND errorcode IS NOT NULL
  AND (lower(errorcode) LIKE '%accessdenied%' OR lower(errorcode) LIKE '%unauthorized%')
GROUP BY 1, 2
ORDER BY denials DESC, action, error
LIMIT 20
