-- Access-denied and unauthorized errors of one principal in a time window: the query of AWS's
-- knowledge-center article "Troubleshoot access denied errors with Athena", as written there.
-- Parameters:
--   $arn   the principal's userIdentity.arn (for a role session, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)
--   $from  start of the window, inclusive, ISO 8601 (2019-10-29T06:40:00Z)
--   $to    end of the window, exclusive, ISO 8601
SELECT from_iso8601_timestamp(eventTime) AS "Time", useridentity.arn AS "Identity ARN", eventID AS "Event ID",
         eventsource AS "Service", eventname AS "Action", errorCode AS "Error", errorMessage AS "Message"
FROM cloudtrail
WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from)
        AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)
        AND userIdentity.arn = $arn
        AND eventType = 'AwsApiCall'
        AND errorCode is not null
        AND (lower(errorCode) LIKE '%accessdenied%' OR lower(errorCode) LIKE '%unauthorized%')
ORDER BY eventTime desc, eventID
