-- Every failed call in a time window, whatever the error and whoever the caller: the article's
-- query without its principal and errorCode LIKE lines, to see throttling or missing resources
-- next to the denials.
-- Parameters:
--   $from  start of the window, inclusive, ISO 8601 (2019-10-29T06:40:00Z)
--   $to    end of the window, exclusive, ISO 8601
SELECT from_iso8601_timestamp(eventTime) AS "Time",
         coalesce(useridentity.arn, useridentity.invokedby) AS "Identity ARN", eventID AS "Event ID",
         eventsource AS "Service", eventname AS "Action", awsregion AS "Region",
         errorCode AS "Error", errorMessage AS "Message"
FROM cloudtrail
WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)
        AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)
        AND errorCode is not null
ORDER BY eventTime desc, eventID
