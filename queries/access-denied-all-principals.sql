-- Access-denied and unauthorized errors of every principal in a time window: the article's query
-- without its userIdentity.arn line. Service principals have no ARN; their "Identity ARN" is the
-- service that called (userIdentity.invokedBy).
-- Parameters:
--   $from  start of the window, inclusive, ISO 8601 (2019-10-29T06:40:00Z)
--   $to    end of the window, exclusive, ISO 8601
SELECT from_iso8601_timestamp(eventTime) AS "Time",
         coalesce(useridentity.arn, useridentity.invokedby) AS "Identity ARN", eventID AS "Event ID",
         eventsource AS "Service", eventname AS "Action", errorCode AS "Error", errorMessage AS "Message"
FROM cloudtrail
WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)
        AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)
        AND eventType = 'AwsApiCall'
        AND errorCode is not null
        AND (lower(errorCode) LIKE '%accessdenied%' OR lower(errorCode) LIKE '%unauthorized%')
ORDER BY eventTime desc, eventID
